"""The discrete-token ASR's data path: units file + manifest -> unit lang dir and pair file -> decode dir -> scores."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Dict, Sequence, Tuple

import pytest
import torch
from lhotse import AudioSource, CutSet, MonoCut, Recording, SupervisionSegment

from phonasr.bin import make_unit_pairs
from phonasr.data.rejects import REJECT_COLUMNS
from phonasr.decode.outputs import read_hypotheses, read_references
from phonasr.models.stored import model_checkpoint
from phonasr.scoring.error_rate import score_texts
from phonasr.tokenizers import CharTokenizer, PhonemeTokenizer, load_tokenizer, save_tokenizer
from phonasr.train.token_task import TokenCtcTask
from phonasr.units.store import merge_runs, save_arrays
from phonasr.units.token_asr import (
    CtcTarget,
    decode_units,
    make_unit_lang_dir,
    unit_pairs,
    unit_symbols,
)
from phonasr.utils.io import atomic_torch_save

TEXTS = {"c1": "ab  ba", "c2": "abba", "c3": "a b", "c4": "b"}
# c1 dedups to 3 units; c2 has 2 units for "abba" (CTC needs 5 frames: a b b a + the blank between b b);
# c3 has no units at all; c4 has units that only a manifest without c4 would be wrong about
UNITS = {"c1": [3, 3, 0, 0, 3, 1], "c2": [2, 2, 4], "c4": [1, 1, 1, 2]}


def _cut(utt: str, text: str) -> MonoCut:
    recording = Recording(id=utt, sources=[AudioSource(type="file", channels=[0], source=f"/none/{utt}.wav")],
                          sampling_rate=16000, num_samples=16000, duration=1.0)
    sup = SupervisionSegment(id=utt, recording_id=utt, start=0.0, duration=1.0, text=text, language="pl")
    return MonoCut(id=utt, start=0.0, duration=1.0, channel=0, recording=recording, supervisions=[sup])


def write_cuts(path: Path, texts: Dict[str, str]) -> Path:
    CutSet.from_cuts(_cut(utt, text) for utt, text in texts.items()).to_file(path)
    return path


def write_units(path: Path, units: Dict[str, Sequence[int]], k: int = 5) -> Path:
    save_arrays(path, "units", {c: torch.tensor(u, dtype=torch.long) for c, u in units.items()}, {"k": k})
    return path


def _rows(path: Path) -> Dict[str, Tuple[str, str]]:
    return {utt: (inp, out) for utt, inp, out in (line.split("\t") for line in path.read_text().splitlines())}


def _rejects(path: Path) -> Dict[str, str]:
    lines = path.read_text().splitlines()
    assert tuple(lines[0].split("\t")) == REJECT_COLUMNS
    return {fields[3]: fields[4] for fields in (line.split("\t") for line in lines[1:])}


@pytest.fixture()
def char_dir(tmp_path) -> Path:
    save_tokenizer(CharTokenizer.from_texts(TEXTS.values()), tmp_path / "lang_char")
    return tmp_path / "lang_char"


def test_dedup_merges_runs_only():
    assert merge_runs(torch.tensor([3, 3, 5, 3, 3, 3])).tolist() == [3, 5, 3]
    assert merge_runs(torch.tensor([], dtype=torch.long)).tolist() == []


def test_unit_lang_dir_loads_as_a_tokenizer_and_refuses_another_k(tmp_path):
    assert unit_symbols(3) == ["u0", "u1", "u2"]
    make_unit_lang_dir(3, tmp_path / "lang_units")
    tokenizer = load_tokenizer(tmp_path / "lang_units")
    assert isinstance(tokenizer, PhonemeTokenizer) and tokenizer.vocab_size == 4
    assert tokenizer.encode("u0 u2 u2") == [1, 3, 3] and tokenizer.decode([1, 0, 3]) == "u0 u2"
    with pytest.raises(ValueError, match="u3"):
        tokenizer.encode("u3")
    make_unit_lang_dir(3, tmp_path / "lang_units")  # the same k again: accepted
    with pytest.raises(ValueError, match="not the 4 units u0..u3"):
        make_unit_lang_dir(4, tmp_path / "lang_units")


def test_pairs_with_and_without_dedup_and_too_short_cuts_named(tmp_path, char_dir):
    cuts = write_cuts(tmp_path / "cuts.jsonl.gz", {k: v for k, v in TEXTS.items() if k != "c4"})
    units = write_units(tmp_path / "units.pt", {k: v for k, v in UNITS.items() if k != "c4"})
    target = CtcTarget(load_tokenizer(char_dir), upsample=2)

    stats = unit_pairs(units, cuts, tmp_path / "dedup.tsv", dedup=True, target=target)
    # c2: 2 deduplicated units x upsample 2 = 4 < 5 CTC frames of "abba"; c3: no units in the file
    assert _rows(tmp_path / "dedup.tsv") == {"c1": ("u3 u0 u3 u1", "ab ba")}
    assert _rejects(tmp_path / "dedup.rejects.tsv") == {"c2": "too_short_for_ctc", "c3": "missing_units"}
    assert stats.too_short == ["c2"]
    assert (stats.frames, stats.units, stats.characters) == (6, 4, 5)  # "ab▁ba": 5 characters

    stats = unit_pairs(units, cuts, tmp_path / "raw.tsv", dedup=False, target=CtcTarget(target.tokenizer, 3))
    assert _rows(tmp_path / "raw.tsv") == {"c1": ("u3 u3 u0 u0 u3 u1", "ab ba"), "c2": ("u2 u2 u4", "abba")}
    assert stats.too_short == [] and stats.units_per_character == pytest.approx(9 / 9)


def test_units_of_another_manifest_or_another_k_are_errors(tmp_path):
    cuts = write_cuts(tmp_path / "cuts.jsonl.gz", {"c1": TEXTS["c1"]})
    with pytest.raises(ValueError, match=r"units of 2 cuts that .*cuts.jsonl.gz lacks \(e.g. \['c2', 'c4'\]\)"):
        unit_pairs(write_units(tmp_path / "u.pt", UNITS), cuts, tmp_path / "p.tsv", dedup=True)
    with pytest.raises(ValueError, match="cut 'c1' has unit ids 0..3 outside 0..2"):
        unit_pairs(write_units(tmp_path / "k3.pt", {"c1": UNITS["c1"]}, k=3), cuts, tmp_path / "p.tsv", dedup=True)


def test_worker_gives_one_error_line(tmp_path, capsys):
    cuts = write_cuts(tmp_path / "cuts.jsonl.gz", {"c1": TEXTS["c1"]})
    save_arrays(tmp_path / "no_k.pt", "units", {"c1": torch.tensor(UNITS["c1"])}, {})
    with pytest.raises(SystemExit) as stop:
        make_unit_pairs.main([str(tmp_path / "no_k.pt"), str(cuts), str(tmp_path / "p.tsv")])
    assert stop.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "meta['k']" in err[0]


def _blank_then_a_model(tmp_path: Path, units_dir: Path, char_dir: Path) -> Path:
    """A token ASR whose output layer emits 'a' on every frame, so every hypothesis is exactly "a"."""
    config = {"task": "token_ctc", "model_name": "token_asr", "input_tokenizer": str(units_dir),
              "output_tokenizer": str(char_dir),
              "model": {"type": "transformer", "preset": "tiny", "num_layers": 1, "d_model": 16, "num_heads": 2,
                        "ffn_dim": 16, "dropout": 0.0, "upsample": 1}}
    task = TokenCtcTask(config, torch.device("cpu"))
    models = task.build_models()
    output = models["token_asr"].output
    with torch.no_grad():
        output.weight.zero_()
        output.bias.fill_(-10.0)
        output.bias[task.outputs.encode("a")[0]] = 10.0
    path = tmp_path / "token_asr.pt"
    atomic_torch_save(model_checkpoint(models, config, task.checkpoint_metadata()), path)
    return path


def test_decoding_writes_a_scoreable_decode_dir(tmp_path, char_dir):
    texts = {"c1": "ab ba", "c4": "b", "c5": "a"}
    cuts = write_cuts(tmp_path / "cuts.jsonl.gz", texts)
    units = write_units(tmp_path / "units.pt", {"c1": UNITS["c1"], "c4": UNITS["c4"], "c5": [0]})
    units_dir = tmp_path / "lang_units"
    make_unit_lang_dir(5, units_dir)
    checkpoint = _blank_then_a_model(tmp_path, units_dir, char_dir)

    out = tmp_path / "decode_test"
    decode_units(str(checkpoint), units, cuts, out, dedup=True, device=torch.device("cpu"))
    inputs = read_hypotheses(out / "units", 1)
    assert {u: h[0].text for u, h in inputs.items()} == {"c1": "u3 u0 u3 u1", "c4": "u1 u2", "c5": "u0"}
    hyps = {u: h[0].text for u, h in read_hypotheses(out, 1).items()}
    assert hyps == {"c1": "a", "c4": "a", "c5": "a"} and read_references(out) == texts
    # words: c1 "ab ba" vs "a" 2 errors, c4 1, c5 none: 3 of 4; characters (no spaces): 3 + 1 + 0 of 4 + 1 + 1
    wer, cer = (score_texts(texts, hyps, metric).counts for metric in ("wer", "cer"))
    assert (wer.errors, wer.ref_len, cer.errors, cer.ref_len) == (3, 4, 4, 6)


def test_missing_units_of_a_test_cut_stop_decoding(tmp_path):
    cuts = write_cuts(tmp_path / "cuts.jsonl.gz", {"c1": "ab", "c2": "ba"})
    units = write_units(tmp_path / "units.pt", {"c1": UNITS["c1"]})
    with pytest.raises(ValueError, match=r"no units for 1 cuts of .*\(e.g. \['c2'\]\)"):
        decode_units("unused.pt", units, cuts, tmp_path / "out", dedup=True, device=torch.device("cpu"))


@pytest.mark.slow
def test_scripts_pair_skip_and_decode(repo_root, tmp_path, char_dir):
    env = {**os.environ, "PYTHONPATH": str(repo_root)}

    def run(*args):
        return subprocess.run(["bash", *map(str, args)], cwd=repo_root, env=env, capture_output=True, text=True)

    cuts = write_cuts(tmp_path / "cuts.jsonl.gz", {"c1": TEXTS["c1"]})
    units = write_units(tmp_path / "units.pt", {"c1": UNITS["c1"]})
    pairs = tmp_path / "pairs" / "train.tsv"
    made = run("steps/make_unit_pairs.sh", "--lang-dir", tmp_path / "lang_units", "--target-lang-dir", char_dir,
               "--upsample", 2, units, cuts, pairs)
    assert made.returncode == 0, made.stderr
    assert _rows(pairs) == {"c1": ("u3 u0 u3 u1", "ab ba")} and (tmp_path / "lang_units" / "tokens.txt").is_file()
    assert "already made; skipping" in run("steps/make_unit_pairs.sh", units, cuts, pairs).stderr

    checkpoint = _blank_then_a_model(tmp_path, tmp_path / "lang_units", char_dir)
    out = tmp_path / "decode_test"
    decoded = run("steps/decode_units.sh", checkpoint, units, cuts, out)
    assert decoded.returncode == 0, decoded.stderr
    assert (out / "hyp.txt").read_text() == "c1\ta\n" and (out / ".decode_units.done").is_file()
    missing = run("steps/decode_units.sh", checkpoint, tmp_path / "none.pt", cuts, tmp_path / "x")
    assert missing.returncode != 0 and "units file" in missing.stderr and "none.pt does not exist" in missing.stderr
