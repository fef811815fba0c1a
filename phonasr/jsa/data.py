"""The labelled subset in JSA training: its true phonemes, and how often an epoch visits it.

The ~10 minutes of phoneme-labelled speech are a tiny fraction of the training set, so JSA oversamples them: each
labelled utterance is visited ``weight`` times per epoch, each other utterance once. The reference implemented
this as per-training-set weights and silently ignored it when only one training set was given; here the
oversampling is computed from the labelled utterance ids, so it holds whatever the training sets are: one
manifest that contains the labelled cuts, several language manifests, or the subset listed explicitly.
"""
from __future__ import annotations

import collections
from pathlib import Path
from typing import Any, Dict, List, Mapping

from lhotse import CutSet

from phonasr.batching.cuts import parse_manifests


def read_labelled_subset(path: str | Path) -> Dict[str, str]:
    """Utterance id -> true phonemes (space-separated units) of every cut of the labelled-subset manifest."""
    phones: Dict[str, str] = {}
    for cut in CutSet.from_jsonl_lazy(path):
        sup = cut.supervisions[0] if len(cut.supervisions) == 1 else None
        units = (sup.custom or {}).get("phones") if sup is not None else None
        if not units:
            raise ValueError(f"{path}: cut '{cut.id}' has no supervision.custom['phones']; the labelled subset must "
                             "carry true phonemes (rerun the subset stage, steps/select_subset.sh)")
        phones[sup.id] = units
    if not phones:
        raise ValueError(f"labelled subset {path} holds no cuts")
    return phones


def oversampled_train_entries(entries: Any, labelled_path: str | Path, weight: int) -> List[Mapping[str, Any]]:
    """Rewrite the trainer's ``data.train`` entries so that each labelled utterance is visited ``weight`` times.

    Labelled utterances already present in the training manifests count towards the weight; the labelled
    manifest is added with the ``repeat`` that makes up the rest (it is removed first if listed, so listing it or
    not gives the same result). Raises if the training sets alone already visit labelled cuts more often than
    ``weight``, or visit some of them and not others (no single repeat could then give every one the weight).
    """
    if int(weight) != weight or weight < 1:
        raise ValueError(f"jsa.labelled_weight must be a whole number >= 1, not {weight!r}")
    labelled_path = Path(labelled_path)
    labelled_ids = set(read_labelled_subset(labelled_path))
    others = [s for s in parse_manifests(entries) if s.path.resolve() != labelled_path.resolve()]
    visits: Dict[str, int] = collections.Counter()
    for spec in others:
        for cut in CutSet.from_jsonl_lazy(spec.path):
            if cut.supervisions and cut.supervisions[0].id in labelled_ids:
                visits[cut.supervisions[0].id] += spec.repeat
    present = {visits.get(u, 0) for u in labelled_ids}
    if len(present) > 1:
        raise ValueError(f"the training manifests contain some labelled utterances of {labelled_path} "
                         f"{sorted(present)} times each: give a training set that holds all of the subset or none")
    repeat = int(weight) - present.pop()
    if repeat < 0:
        raise ValueError(f"the training manifests already visit each labelled utterance {int(weight) - repeat} "
                         f"times, more than jsa.labelled_weight={weight}")
    out: List[Mapping[str, Any]] = [{"path": str(s.path), "repeat": s.repeat} for s in others]
    if repeat > 0:
        out.append({"path": str(labelled_path), "repeat": repeat})
    return out

