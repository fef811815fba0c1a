"""The sample cache: chains resume from it across epochs and across a checkpoint round trip."""
from __future__ import annotations

import pytest
import torch

from phonasr.jsa.cache import SampleCache
from phonasr.utils.io import atomic_torch_save, load_checkpoint


def test_persistent_chains_start_from_the_cached_sample():
    cache = SampleCache()
    assert cache.chain_start("u1") is None
    cache.update([("u1", [3, 4]), ("u2", [5])])
    assert cache.chain_start("u1") == [3, 4]
    cache.update([("u2", [6]), ("u2", [7])])  # applied in order: the later state wins
    assert cache.get("u1") == [3, 4] and cache.get("u2") == [7] and len(cache) == 2


def test_restarting_chains_still_record_samples():
    cache = SampleCache(persistent=False)
    cache.update([("u1", [1, 2])])
    assert cache.chain_start("u1") is None
    assert cache.get("u1") == [1, 2]


def test_round_trip_through_a_weights_only_checkpoint(tmp_path):
    cache = SampleCache()
    cache.update([("a", [1, 2, 3]), ("b", []), ("c", [7])])
    atomic_torch_save({"task": cache.state_dict()}, tmp_path / "last.pt")
    restored = SampleCache()
    restored.load_state_dict(load_checkpoint(tmp_path / "last.pt")["task"])
    assert dict(restored.items()) == {"a": [1, 2, 3], "b": [], "c": [7]}
    assert restored.chain_start("a") == [1, 2, 3]


def test_empty_cache_round_trip():
    restored = SampleCache()
    restored.load_state_dict(SampleCache().state_dict())
    assert len(restored) == 0


def test_corrupt_state_is_rejected():
    state = SampleCache().state_dict()
    state["lengths"] = torch.tensor([2])
    with pytest.raises(ValueError, match="corrupt"):
        SampleCache().load_state_dict(state)


def test_jsa_cache_writes_a_checkpoints_samples_without_the_excluded_utterances(tmp_path, capsys):
    from lhotse import CutSet, MonoCut, SupervisionSegment

    from phonasr.bin import jsa_cache

    cache = SampleCache()
    cache.update([("b", [2, 1]), ("a", [1, 3]), ("lab", [3])])
    state = {"symbols": ["<blk>", "p", "a", "ʃ"], "task_shared": {"cache": cache.state_dict()}}
    torch.save(state, tmp_path / "last.pt")
    cut = MonoCut(id="lab-cut", start=0, duration=1, channel=0,
                  supervisions=[SupervisionSegment(id="lab", recording_id="r", start=0, duration=1)])
    CutSet.from_cuts([cut]).to_file(tmp_path / "subset.jsonl.gz")
    out = tmp_path / "cache.txt"
    assert jsa_cache.main(["--exclude", str(tmp_path / "subset.jsonl.gz"), str(tmp_path / "last.pt"), str(out)]) == 0
    assert out.read_text(encoding="utf-8") == "a\tp ʃ\nb\ta p\n"
    torch.save({"symbols": ["<blk>"]}, tmp_path / "final.pt")
    assert jsa_cache.main([str(tmp_path / "final.pt"), str(out)]) == 2
    assert "no JSA sample cache" in capsys.readouterr().err
