"""Tiny feature-cut corpora for training tests: learnable "phoneme" features, no audio needed.

Each phoneme unit has its own mean vector; an utterance is its units' means repeated for a few frames plus noise,
so a tiny CTC model can actually learn the mapping and its dev error rate falls.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Sequence

import numpy as np
from lhotse import CutSet, Features, MonoCut, NumpyFilesWriter, SupervisionSegment

UNITS = ["a", "b", "c", "d", "e", "f"]
NUM_BINS = 80


def _utterance(rng: np.random.Generator, means: np.ndarray, num_units: int, frames_per_unit: int):
    ids = rng.integers(0, len(UNITS), size=num_units)
    feats = np.concatenate([np.repeat(means[i][None], frames_per_unit, axis=0) for i in ids])
    feats = feats + 0.3 * rng.standard_normal(feats.shape)
    return [UNITS[i] for i in ids], feats.astype(np.float32)


def write_cuts(path: Path, storage: Path, prefix: str, lang: str, num: int, seed: int,
               num_short: int = 0) -> List[str]:
    """Write ``num`` cuts (plus ``num_short`` too short for their targets) to ``path``; return the short ids."""
    rng = np.random.default_rng(seed)
    means = np.random.default_rng(0).standard_normal((len(UNITS), NUM_BINS)) * 2.0
    cuts, short_ids = [], []
    with NumpyFilesWriter(storage) as writer:
        for i in range(num + num_short):
            short = i >= num
            phones, feats = _utterance(rng, means, num_units=int(rng.integers(3, 7)) + (4 if short else 0),
                                       frames_per_unit=2 if short else int(rng.integers(8, 14)))
            cut_id = f"{prefix}-{i:03d}"
            if short:
                short_ids.append(cut_id)
            cuts.append(_cut(cut_id, lang, phones, feats, writer))
    CutSet.from_cuts(cuts).to_file(path)
    return short_ids


def _cut(cut_id: str, lang: str, phones: Sequence[str], feats: np.ndarray, writer: NumpyFilesWriter) -> MonoCut:
    duration = round(feats.shape[0] * 0.01, 2)
    key = writer.write(cut_id, feats)
    features = Features(type="fbank", num_frames=feats.shape[0], num_features=NUM_BINS, frame_shift=0.01,
                        sampling_rate=16000, start=0.0, duration=duration, storage_type=writer.name,
                        storage_path=str(writer.storage_path), storage_key=key, recording_id=cut_id)
    sup = SupervisionSegment(id=cut_id, recording_id=cut_id, start=0.0, duration=duration, text=" ".join(phones),
                             language=lang, custom={"phones": " ".join(phones)})
    return MonoCut(id=cut_id, start=0.0, duration=duration, channel=0, supervisions=[sup], features=features)
