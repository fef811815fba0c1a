"""The facts of a run (language, BPE size, lang dirs, manifests) reach training from conf/recipe.conf alone.

The YAMLs leave them null and the pipeline (egs/TEMPLATE/jsa_spg/jsa_spg.sh) passes them by --set, so changing
one line of recipe.conf changes what every training reads. The recipe runs for real here, with a job launcher
that records each training's config as the worker loads it instead of training (record_training.py).
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RECORDER = Path(__file__).resolve().parent / "record_training.py"


def make_recipe(tmp_path: Path, **settings: str) -> Path:
    """A copy of egs/mini_pl whose recipe.conf has ``settings`` changed and whose trainings are recorded."""
    recipe = tmp_path / "recipe"
    shutil.copytree(ROOT / "egs/mini_pl/conf", recipe / "conf")
    conf = recipe / "conf/recipe.conf"
    lines = conf.read_text().splitlines()
    for name, value in settings.items():
        assert any(line.startswith(f"{name}=") for line in lines), f"recipe.conf has no {name}"
        lines = [f"{name}={value}" if line.startswith(f"{name}=") else line for line in lines]
    conf.write_text("\n".join(lines) + "\n")
    (recipe / "cmd.sh").write_text(
        f'export train_cmd=utils/run.pl decode_cmd=utils/run.pl cuda_cmd="python {RECORDER}"\n')
    (recipe / "run.sh").symlink_to(ROOT / "egs/TEMPLATE/jsa_spg/jsa_spg.sh")
    (recipe / "path.sh").symlink_to(ROOT / "egs/mini_pl/path.sh")
    for shared in ("steps", "utils", "local"):
        (recipe / shared).symlink_to(ROOT / shared)
    return recipe


def trainings(recipe: Path, *stage_ranges: tuple[int, int], options: tuple[str, ...] = ()) -> dict[str, dict]:
    """Run the recipe's stages (with run.sh ``options``); the config each training would have read, by name."""
    for first, last in stage_ranges:
        run = subprocess.run(["bash", str(recipe / "run.sh"), "--stage", str(first), "--stop-stage", str(last),
                              *options], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
    return {p.parent.name: yaml.safe_load(p.read_text()) for p in (recipe / "exp").glob("*/train.config.yaml")}


def test_recipe_conf_decides_what_training_reads(tmp_path):
    configs = trainings(make_recipe(tmp_path, bpe_size="300", target_lang="id", text_units="bpe"), (6, 7), (10, 10))
    phone, bpe, char = "data/lang_phone_id", "data/lang_bpe300_id", "data/lang_char_id"
    train, dev = "data/fbank/id/cuts_train.jsonl.gz", "data/fbank/id/cuts_dev.jsonl.gz"
    labelled = "data/subset/id/cuts_train.jsonl.gz"
    assert configs["s2p_ft_text"]["tokenizer_dir"] == bpe
    assert configs["s2p_ft_phone"]["tokenizer_dir"] == configs["s2p_ft_phone_full"]["tokenizer_dir"] == phone
    assert configs["jsa"]["tokenizers"] == {"phone": phone, "text": bpe, "char": char}
    assert configs["s2p_ft_phone"]["data"]["train"] == configs["jsa"]["jsa"]["labelled"] == labelled
    for name in ("s2p_ft_text", "s2p_ft_phone_full", "jsa"):
        assert (configs[name]["data"]["train"], configs[name]["data"]["dev"]) == (train, dev), name
    for name in ("s2p_ft_phone", "s2p_ft_text", "s2p_ft_phone_full"):
        assert configs[name]["init"]["checkpoint"] == "exp/s2p_pretrain/final.pt"
    # the model settings stay the YAML's: what recipe.conf does not say is untouched
    assert configs["s2p_ft_text"]["optim"] == yaml.safe_load((ROOT / "egs/mini_pl/conf/s2p_ft_text.yaml").read_text())[
        "optim"]


def test_seed_reaches_every_training(tmp_path):
    recipe = make_recipe(tmp_path)
    configs = trainings(recipe, (6, 7), (10, 10), options=("--seed", "7"))
    assert set(configs) == {"s2p_ft_phone", "s2p_ft_text", "s2p_ft_phone_full", "jsa"}
    assert {name: c["seed"] for name, c in configs.items()} == dict.fromkeys(configs, 7)
    own = yaml.safe_load((ROOT / "egs/mini_pl/conf/jsa.yaml").read_text())["seed"]
    assert own != 7 and trainings(make_recipe(tmp_path / "default"), (10, 10))["jsa"]["seed"] == own


def test_a_seed_that_is_no_number_is_one_clear_error(tmp_path):
    run = subprocess.run(["bash", str(make_recipe(tmp_path) / "run.sh"), "--stage", "6", "--seed", "x1"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "--seed takes a whole number, got 'x1'" in run.stderr


def test_text_units_decide_what_the_p2g_and_the_subword_baseline_write(tmp_path):
    configs = trainings(make_recipe(tmp_path, text_units="char"), (7, 7), (10, 10))
    char = "data/lang_char_pl"
    assert configs["s2p_ft_text"]["tokenizer_dir"] == configs["jsa"]["tokenizers"]["text"] == char
    assert configs["jsa"]["tokenizers"]["char"] == char  # the G2P reads characters either way


def test_unknown_text_units_are_one_clear_error(tmp_path):
    recipe = make_recipe(tmp_path, text_units="words")
    run = subprocess.run(["bash", str(recipe / "run.sh"), "--stage", "7", "--stop-stage", "7"], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode != 0 and "text_units must be bpe or char, got 'words'" in run.stderr
