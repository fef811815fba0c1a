"""utils/recipe_train.sh: the --set overrides a recipe's training gets, overlay first and the recipe's facts last."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_helpers(tmp_path: Path, run_cmd, body: str):
    """``body`` in a recipe-like output root (utils/ linked) with the helpers and the toolkit's python."""
    (tmp_path / "utils").symlink_to(ROOT / "utils")
    script = tmp_path / "script.sh"
    script.write_text(f"""set -euo pipefail
export PATH={ROOT}/.venv/bin:$PATH
. utils/log.sh
. utils/recipe_train.sh
{body}
""")
    return run_cmd(["bash", str(script)], cwd=tmp_path)


def test_config_sets_puts_the_overlay_before_the_facts(tmp_path, run_cmd):
    (tmp_path / "overlay.yaml").write_text("ft:\n  optim: {lr: 2.0e-3}\n  data: {max_duration: 10}\nother:\n  x: 1\n")
    out = run_helpers(tmp_path, run_cmd, """
overlay=overlay.yaml
config_sets sets ft "data.train=data/a b.jsonl.gz" tokenizer_dir=data/lang
printf '<%s>\\n' "${sets[@]}"
config_sets none unnamed
echo "unnamed: ${#none[@]}"
overlay=""
config_sets plain ft k=v
echo "no overlay: ${plain[*]}"
""")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "<--set>", "<optim.lr=0.002>", "<--set>", "<data.max_duration=10>",
        "<--set>", "<data.train=data/a b.jsonl.gz>", "<--set>", "<tokenizer_dir=data/lang>",
        "unnamed: 0", "no overlay: --set k=v"]


def test_overlays_apply_in_order(tmp_path, run_cmd):
    """A recipe that shares another's variant (egs/mini_units: egs/mini_pl's quick.yaml) adds its own after it."""
    (tmp_path / "shared.yaml").write_text("ft:\n  optim: {lr: 2.0e-3}\n")
    (tmp_path / "own.yaml").write_text("ft:\n  optim: {lr: 1.0e-3}\n  train: {max_steps: 4}\n")
    out = run_helpers(tmp_path, run_cmd, """
overlay="shared.yaml own.yaml"
config_sets sets ft
echo "${sets[*]}"
""")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "--set optim.lr=0.002 --set optim.lr=0.001 --set train.max_steps=4"


def test_a_broken_overlay_stops_the_recipe(tmp_path, run_cmd):
    (tmp_path / "overlay.yaml").write_text("ft: [not, a, mapping]\n")
    out = run_helpers(tmp_path, run_cmd, "overlay=overlay.yaml\nconfig_sets sets ft\necho unreachable")
    assert out.returncode != 0 and "cannot read the config overlay overlay.yaml" in out.stderr
    assert "unreachable" not in out.stdout


def test_manifest_list_is_one_yaml_list(tmp_path, run_cmd):
    out = run_helpers(tmp_path, run_cmd, "manifest_list dev cs sv-SE")
    assert out.stdout.strip() == "[data/fbank/cs/cuts_dev.jsonl.gz, data/fbank/sv-SE/cuts_dev.jsonl.gz]"
