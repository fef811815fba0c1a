"""The labelled subset gets its weight whatever the training sets are (the reference ignored it for one set)."""
from __future__ import annotations

import collections
from pathlib import Path
from typing import Dict, Iterable, List

import pytest
from lhotse import CutSet, Features, MonoCut, SupervisionSegment

from phonasr.batching.cuts import load_cuts, parse_manifests
from phonasr.jsa.data import oversampled_train_entries, read_labelled_subset

LABELLED = ["pl-003", "pl-007"]
WEIGHT = 4


def _cut(utt: str, phones: bool) -> MonoCut:
    sup = SupervisionSegment(id=utt, recording_id=utt, start=0.0, duration=1.0, text="ala ma kota", language="pl",
                             custom={"phones": "a l a m a k o t a"} if phones else None)
    feats = Features(type="fbank", num_frames=100, num_features=80, frame_shift=0.01, sampling_rate=16000,
                     start=0.0, duration=1.0, storage_type="numpy_files", storage_path="unused", storage_key=utt)
    return MonoCut(id=utt, start=0.0, duration=1.0, channel=0, supervisions=[sup], features=feats)


def _write(path: Path, utts: Iterable[str], phones: bool = True) -> str:
    CutSet.from_cuts([_cut(u, phones) for u in utts]).to_file(path)
    return str(path)


@pytest.fixture
def sets(tmp_path) -> Dict[str, str]:
    utts = [f"pl-{i:03d}" for i in range(10)]
    return {
        "all": _write(tmp_path / "train.jsonl.gz", utts),
        "first": _write(tmp_path / "train_a.jsonl.gz", utts[:5]),
        "second": _write(tmp_path / "train_b.jsonl.gz", utts[5:]),
        "unlabelled": _write(tmp_path / "rest.jsonl.gz", [u for u in utts if u not in LABELLED]),
        "labelled": _write(tmp_path / "subset.jsonl.gz", LABELLED),
    }


def visits(entries: List) -> Dict[str, int]:
    """What one epoch of the trainer's data pipeline visits."""
    cuts, _ = load_cuts(parse_manifests(entries), keep=lambda c: True, seed=0)
    return dict(collections.Counter(c.supervisions[0].id for c in cuts))


def _check(counts: Dict[str, int]) -> None:
    assert len(counts) == 10
    assert all(counts[u] == (WEIGHT if u in LABELLED else 1) for u in counts), counts


@pytest.mark.parametrize("train", [["all"], ["first", "second"], ["unlabelled"], ["all", "labelled"]],
                         ids=["one-set", "two-sets", "subset-held-out", "subset-listed"])
def test_labelled_weight_holds_for_any_training_sets(sets, train):
    entries = [sets[k] for k in train]
    _check(visits(oversampled_train_entries(entries, sets["labelled"], WEIGHT)))


def test_listed_subset_repeat_is_replaced_not_added(sets):
    entries = [sets["all"], {"path": sets["labelled"], "repeat": 9}]
    _check(visits(oversampled_train_entries(entries, sets["labelled"], WEIGHT)))


def test_weight_one_leaves_plain_epochs(sets):
    assert visits(oversampled_train_entries([sets["all"]], sets["labelled"], 1)) == {f"pl-{i:03d}": 1
                                                                                   for i in range(10)}


def test_impossible_weights_are_errors(sets):
    with pytest.raises(ValueError, match="more than"):
        oversampled_train_entries([{"path": sets["all"], "repeat": 2}], sets["labelled"], 1)
    with pytest.raises(ValueError, match="all of the subset or none"):
        oversampled_train_entries([sets["first"]], sets["labelled"], WEIGHT)
    with pytest.raises(ValueError, match="whole number"):
        oversampled_train_entries([sets["all"]], sets["labelled"], 2.5)


def test_labelled_subset_needs_true_phonemes(tmp_path):
    assert read_labelled_subset(_write(tmp_path / "ok.jsonl.gz", LABELLED)) == {
        u: "a l a m a k o t a" for u in LABELLED}
    with pytest.raises(ValueError, match="pl-003.*custom"):
        read_labelled_subset(_write(tmp_path / "bad.jsonl.gz", LABELLED, phones=False))
