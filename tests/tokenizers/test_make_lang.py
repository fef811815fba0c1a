"""phonasr.bin.make_lang and steps/make_lang.sh on a tiny manifest: every lang dir loads; bad phones stop it."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml
from lhotse import CutSet

from phonasr.bin import make_lang
from phonasr.phonemes import load_inventory
from phonasr.tokenizers import load_tokenizer
from tests.subset.synthetic_cuts import make_cut, polish_cuts


def write_manifest(data, lang, cuts):
    path = data / "manifests" / lang / "cuts_train.jsonl.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    CutSet.from_cuts(cuts).to_file(path)


def test_builds_all_lang_dirs(tmp_path):
    data = tmp_path / "data"
    cuts = polish_cuts(20)
    write_manifest(data, "pl", cuts)
    make_lang.main(["--data-dir", str(data), "--lang", "pl", "--pretrain-langs", "cs de", "--bpe-size", "500"])

    shared = load_tokenizer(data / "lang_phone")
    assert shared.symbols[1:] == sorted(set(load_inventory("pl") + load_inventory("cs") + load_inventory("de")))
    assert load_tokenizer(data / "lang_phone_cs").symbols[1:] == load_inventory("cs")
    pl = load_tokenizer(data / "lang_phone_pl")
    for cut in cuts:
        phones = cut.supervisions[0].custom["phones"]
        assert pl.decode(pl.encode(phones)) == phones
    bpe = load_tokenizer(data / "lang_bpe500_pl")
    config = yaml.safe_load((data / "lang_bpe500_pl" / "tokenizer.yaml").read_text(encoding="utf-8"))
    assert config["requested_vocab_size"] == 500 and bpe.vocab_size < 500  # 20 sentences cannot fill 500
    char = load_tokenizer(data / "lang_char_pl")
    for cut in cuts:
        text = cut.supervisions[0].text
        assert bpe.decode(bpe.encode(text)) == text and char.decode(char.encode(text)) == text
    assert (data / "lang_char_pl" / "make_lang.versions.json").is_file()


def test_without_pretraining_languages_the_shared_dir_is_the_multilingual_inventory(tmp_path):
    data = tmp_path / "data"
    write_manifest(data, "pl", polish_cuts(5))
    make_lang.main(["--data-dir", str(data), "--lang", "pl", "--bpe-size", "20"])
    assert load_tokenizer(data / "lang_phone").symbols[1:] == load_inventory("multilingual")
    # 20 pieces cannot hold every character: BPE grows to <blk> <unk> ▁ + characters, like the char table.
    assert load_tokenizer(data / "lang_bpe20_pl").vocab_size == load_tokenizer(data / "lang_char_pl").vocab_size > 20


def test_manifest_phones_outside_the_inventory_stop_it(tmp_path):
    data = tmp_path / "data"
    write_manifest(data, "pl", [make_cut(0, "the", "pl", ["ð", "ə"]), make_cut(1, "dom", "pl", ["d", "ɔ", "m"])])
    with pytest.raises(ValueError, match=r"'ð' x1 \(e.g. utt000\), 'ə' x1"):
        make_lang.main(["--data-dir", str(data), "--lang", "pl"])


def test_shell_step_is_idempotent(repo_root, tmp_path):
    data = tmp_path / "data"
    write_manifest(data, "pl", polish_cuts(8))
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}",
           "PYTHONPATH": str(repo_root)}
    cmd = ["bash", "steps/make_lang.sh", "--bpe-size", "30", str(data), "pl", "cs"]
    first = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert (data / ".make_lang_pl_bpe30.done").is_file() and (data / "lang_bpe30_pl" / "bpe.model").is_file()
    second = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True)
    assert second.returncode == 0 and "skipping" in second.stderr
    missing = subprocess.run(["bash", "steps/make_lang.sh", str(tmp_path / "nodata"), "pl"], cwd=repo_root, env=env,
                             capture_output=True, text=True)
    assert missing.returncode != 0 and "run the manifest stage first" in missing.stderr
