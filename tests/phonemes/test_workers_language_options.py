"""The workers that segment IPA or build phoneme tokens: regional codes fall back to the base language, and
--strip-length reaches the inventories (kept length works end to end with inventories rebuilt that way)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, List

import pytest
from lhotse import CutSet

from phonasr.bin import add_phones, make_lang, select_subset
from phonasr.phonemes import IpaSegmenter, build_inventory, espeak_ipa, load_inventory
from phonasr.tokenizers import load_tokenizer
from tests.subset.synthetic_cuts import make_cut, polish_cuts


def write_cuts(path: Path, cuts) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    CutSet.from_cuts(cuts).to_file(path)
    return path


def phones_of(manifest: Path) -> List[str]:
    return [c.supervisions[0].custom["phones"] for c in CutSet.from_file(manifest)]


def test_add_phones_reads_a_regional_code_with_the_base_language(tmp_path):
    sentences = ["god morgon", "sju sjösjuka sjömän"]
    manifest = write_cuts(tmp_path / "in.jsonl.gz", [make_cut(i, s, "sv-SE") for i, s in enumerate(sentences)])
    add_phones.main([str(manifest), str(tmp_path / "out.jsonl.gz")])
    segmenter = IpaSegmenter(load_inventory("sv"))
    assert phones_of(tmp_path / "out.jsonl.gz") == [" ".join(segmenter.segment(ipa))
                                                    for ipa in espeak_ipa(sentences, "sv")]
    assert "ː" in espeak_ipa(["god"], "sv")[0] and "ː" not in " ".join(phones_of(tmp_path / "out.jsonl.gz"))


def test_make_lang_builds_a_regional_pretraining_language_from_its_base(tmp_path):
    data = tmp_path / "data"
    write_cuts(data / "manifests" / "pl" / "cuts_train.jsonl.gz", polish_cuts(5))
    make_lang.main(["--data-dir", str(data), "--lang", "pl", "--pretrain-langs", "sv-SE", "--bpe-size", "20"])
    assert load_tokenizer(data / "lang_phone_sv-SE").symbols[1:] == load_inventory("sv")
    assert load_tokenizer(data / "lang_phone").symbols[1:] == sorted(set(load_inventory("pl") + load_inventory("sv")))


def run_add_phones(repo_root: Path, args: List[str], inventory_dir: Path | None = None) -> subprocess.CompletedProcess:
    """add_phones in a fresh process, reading inventories from ``inventory_dir`` when given."""
    env = {**os.environ, "PYTHONPATH": str(repo_root)}
    env.pop("PHONASR_INVENTORY_DIR", None)
    if inventory_dir is not None:
        env["PHONASR_INVENTORY_DIR"] = str(inventory_dir)
    return subprocess.run([sys.executable, "-m", "phonasr.bin.add_phones", *args], env=env, capture_output=True,
                          text=True)


def test_kept_length_works_with_inventories_rebuilt_that_way(tmp_path, repo_root):
    words = tmp_path / "words.txt"
    words.write_text("mam\nkotów\n", encoding="utf-8")
    inventories = tmp_path / "inventories"
    build_inventory.main(["--langs", "pl", "--words", "2", "--source", "pl", str(words), "utf-8",
                          "--strip-length", "false", "--out-dir", str(inventories)])
    manifest = write_cuts(tmp_path / "in.jsonl.gz", [make_cut(0, "mam 0 kotów", "pl")])  # 0 = zˈɛrɔː

    kept = run_add_phones(repo_root, ["--strip-length", "false", str(manifest), str(tmp_path / "kept.jsonl.gz")],
                          inventories)
    assert kept.returncode == 0, kept.stderr
    assert phones_of(tmp_path / "kept.jsonl.gz") == ["m a m z ɛ r ɔː k ɔ t u f"]
    stripped = run_add_phones(repo_root, [str(manifest), str(tmp_path / "stripped.jsonl.gz")], inventories)
    assert stripped.returncode == 0, stripped.stderr
    assert phones_of(tmp_path / "stripped.jsonl.gz") == ["m a m z ɛ r ɔ k ɔ t u f"]
    refused = run_add_phones(repo_root, ["--strip-length", "false", str(manifest), str(tmp_path / "x.jsonl.gz")])
    assert refused.returncode != 0 and "pl.txt was not built with length marks kept" in refused.stderr


WORKERS: dict[str, Callable[[Path, Path], None]] = {
    "add_phones": lambda manifest, out: add_phones.main(["--strip-length", "false", str(manifest), str(out)]),
    "select_subset": lambda manifest, out: select_subset.main(["--strip-length", "false", "--count", "1",
                                                               str(manifest), str(out)]),
    "make_lang": lambda manifest, out: make_lang.main(["--strip-length", "false", "--data-dir",
                                                       str(manifest.parents[2]), "--lang", "pl"]),
}


@pytest.mark.parametrize("worker", sorted(WORKERS))
def test_every_worker_passes_strip_length_to_the_inventories(worker, tmp_path):
    """The committed inventories strip length, so asking a worker to keep it must stop with that reason."""
    manifest = write_cuts(tmp_path / "data" / "manifests" / "pl" / "cuts_train.jsonl.gz", polish_cuts(3))
    with pytest.raises(ValueError, match="was not built with length marks kept"):
        WORKERS[worker](manifest, tmp_path / "out")
