"""The decode directory: what write_decode_dir writes, read_hypotheses / read_references read back, merge_shards
joins."""
from __future__ import annotations

import pytest
import torch

from phonasr.decode.outputs import (
    DecodedUtterance,
    Scored,
    merge_shards,
    read_hypotheses,
    read_references,
    recorded_ref_field,
    write_decode_dir,
)
from phonasr.utils.io import load_checkpoint
from phonasr.utils.runinfo import write_run_info

# utterance b has eleven hypotheses, so numeric rank order (2 before 10) differs from text order
UTTERANCES = [DecodedUtterance("b", "b ref", [Scored(f"h{r}", -float(r)) for r in range(1, 12)]),
              DecodedUtterance("a", "a ref", [Scored("x  y", -0.5), Scored("", -7.0)])]


def test_what_is_written_reads_back_sorted(tmp_path):
    write_decode_dir(tmp_path, UTTERANCES)
    assert (tmp_path / "hyp.txt").read_text() == "a\tx  y\nb\th1\n"
    assert read_references(tmp_path) == {"a": "a ref", "b": "b ref"}
    one_best = read_hypotheses(tmp_path, 1)
    assert [(h.rank, h.log_prob, h.text) for h in one_best["a"]] == [(1, None, "x y")]
    nbest = read_hypotheses(tmp_path, 20)
    assert [h.rank for h in nbest["b"]] == list(range(1, 12))
    assert [(h.log_prob, h.text) for h in nbest["a"]] == [(-0.5, "x y"), (-7.0, "")]
    assert [h.line for h in nbest["b"]][:3] == [3, 4, 5]  # the lines of the file, for rejects
    assert not (tmp_path / "logprobs.pt").exists()


def test_merged_shards_equal_one_decoding_and_must_cover_the_manifest(tmp_path):
    write_decode_dir(tmp_path / "one", UTTERANCES)
    for i, utterance in enumerate(UTTERANCES):
        write_decode_dir(tmp_path / f"shard{i}", [utterance], {utterance.utt: torch.full((2, 3), float(i))})
    shards = [tmp_path / "shard0", tmp_path / "shard1"]
    assert merge_shards(shards, tmp_path / "merged", ["a", "b"], "cuts.jsonl.gz") == 2
    for name in ("hyp.txt", "ref.txt", "nbest.txt"):
        assert (tmp_path / "merged" / name).read_text() == (tmp_path / "one" / name).read_text()
    assert sorted(load_checkpoint(tmp_path / "merged" / "logprobs.pt")) == ["a", "b"]
    with pytest.raises(ValueError, match=r"but cuts.jsonl.gz has 3; missing e.g. \['c'\]"):
        merge_shards(shards, tmp_path / "x", ["a", "b", "c"], "cuts.jsonl.gz")
    (tmp_path / "shard1" / "nbest.txt").unlink()
    with pytest.raises(FileNotFoundError, match="shard1/nbest.txt is missing"):
        merge_shards(shards, tmp_path / "x", ["a", "b"], "cuts.jsonl.gz")


def test_the_ref_field_comes_from_the_jobs_run_info(tmp_path):
    write_decode_dir(tmp_path, UTTERANCES)
    assert recorded_ref_field(tmp_path) is None
    write_run_info(tmp_path / "split2" / "1", "decode", {"ref_field": "phones"})
    assert recorded_ref_field(tmp_path) == "phones"
    write_run_info(tmp_path / "split2" / "2", "decode", {"ref_field": "text"})
    with pytest.raises(ValueError, match="recorded different ref fields"):
        recorded_ref_field(tmp_path)


def test_repeated_ranks_are_errors_naming_the_line(tmp_path):
    write_decode_dir(tmp_path, UTTERANCES)
    with open(tmp_path / "nbest.txt", "a", encoding="utf-8") as f:
        f.write("a\t1\t-1.0\tz\n")
    with pytest.raises(ValueError, match=r"nbest.txt:14: utterance 'a' rank 1 appears twice"):
        read_hypotheses(tmp_path, 2)
