"""Compute fbank for a stream of cuts, store it with lhotse, and combine per-job pieces.

Everything streams: cuts are read lazily, features go to a ``LilcomChunkyWriter`` file and the cut manifest is
written one line at a time, so memory stays flat however large the manifest. A cut whose audio cannot be read
is written to a rejects list (cut id, audio path, reason) instead of stopping the job, and every piece reports
``in = kept + rejected``.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, List, Sequence, Tuple

import numpy as np
from lhotse import CutSet, LilcomChunkyWriter
from lhotse.cut import Cut
from lhotse.features.base import Features
from lhotse.utils import fastcopy

from phonasr.features.audio import AudioLoadError, audio_source, load_samples
from phonasr.features.backends import FbankBackend
from phonasr.utils.io import atomic_path

logger = logging.getLogger(__name__)

FEATURE_TYPE = "kaldi-fbank"  # Kaldi-compatible log-mel fbank whichever backend computed it
REJECTS_HEADER = "cut_id\taudio\treason\n"


@dataclass
class ExtractionCounts:
    total: int = 0
    kept: int = 0
    rejected: int = 0
    seconds: float = 0.0

    def add(self, other: ExtractionCounts) -> None:
        self.total += other.total
        self.kept += other.kept
        self.rejected += other.rejected
        self.seconds += other.seconds

    def summary(self) -> str:
        return (f"{self.total} cuts in = {self.kept} kept + {self.rejected} rejected "
                f"({self.seconds:.1f} s of kept audio)")


def speed_perturbed(cuts: Iterable[Cut], factors: Sequence[float]) -> Iterator[Cut]:
    """Yield each cut followed by its speed-perturbed copies (lhotse ids ``<id>_sp<factor>``)."""
    for cut in cuts:
        yield cut
        for factor in factors:
            yield cut.perturb_speed(factor)


def compute_and_store(cuts: Iterable[Cut], backend: FbankBackend, storage_path: str | Path,
                      manifest_path: str | Path, rejects_path: str | Path,
                      batch_duration: float = 100.0) -> ExtractionCounts:
    """Extract features for ``cuts`` into ``storage_path`` (lilcom chunky) and write the cut manifest.

    Cuts are gathered into batches of about ``batch_duration`` seconds so a batched backend (kaldifeat) gets
    several utterances per call. The manifest and the rejects list are written atomically at the end; the
    storage file is rewritten from scratch by a rerun, so a killed job never leaves a manifest pointing at
    features that were not written.
    """
    config = backend.config
    counts = ExtractionCounts()
    rejects: List[Tuple[str, str, str]] = []
    progress = _ProgressLog()
    with atomic_path(manifest_path) as tmp_manifest, \
            CutSet.open_writer(tmp_manifest) as cut_writer, \
            LilcomChunkyWriter(storage_path, mode="w") as feats_writer:
        batch: List[Tuple[Cut, np.ndarray]] = []
        batch_seconds = 0.0

        def flush() -> None:
            feats = backend.compute([samples for _, samples in batch])
            for (cut, _), matrix in zip(batch, feats):
                cut_writer.write(_attach_features(cut, matrix, feats_writer, config.frame_shift_s,
                                                  config.sample_rate))
                counts.kept += 1
                counts.seconds += cut.duration
            batch.clear()

        for cut in cuts:
            counts.total += 1
            try:
                samples = load_samples(cut, config.sample_rate)
                if config.num_frames(len(samples)) == 0:
                    raise AudioLoadError(f"cut {cut.id}: {len(samples)} samples is shorter than one frame")
            except AudioLoadError as e:
                logger.warning("rejected: %s", e)
                rejects.append((cut.id, audio_source(cut), str(e)))
                counts.rejected += 1
                continue
            batch.append((cut, samples))
            batch_seconds += cut.duration
            if batch_seconds >= batch_duration:
                flush()
                batch_seconds = 0.0
                progress.update(counts)
        if batch:
            flush()
    write_rejects(rejects_path, rejects)
    progress.update(counts, final=True)
    return counts


def _attach_features(cut: Cut, feats: np.ndarray, writer: LilcomChunkyWriter, frame_shift: float,
                     sample_rate: int) -> Cut:
    """Store ``feats`` and return a copy of ``cut`` whose ``features`` manifest points at them."""
    key = writer.write(cut.id, feats)
    manifest = Features(
        type=FEATURE_TYPE, num_frames=feats.shape[0], num_features=feats.shape[1], frame_shift=frame_shift,
        sampling_rate=sample_rate, start=cut.start, duration=cut.duration, storage_type=writer.name,
        storage_path=str(writer.storage_path), storage_key=key, recording_id=cut.recording_id,
        channels=cut.channel,
    )
    return fastcopy(cut, features=manifest)


def write_rejects(path: str | Path, rejects: Iterable[Tuple[str, str, str]]) -> None:
    """Write a rejects TSV (header + one row per rejected cut); tabs/newlines in reasons become spaces."""
    rows = ["\t".join(" ".join(str(f).split()) for f in row) + "\n" for row in rejects]
    with atomic_path(path) as tmp:
        tmp.write_text(REJECTS_HEADER + "".join(rows), encoding="utf-8")


def read_rejects(path: str | Path) -> List[Tuple[str, str, str]]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if not lines or lines[0] + "\n" != REJECTS_HEADER:
        raise ValueError(f"{path} is not a rejects list (expected header {REJECTS_HEADER.strip()!r})")
    return [tuple(line.split("\t", 2)) for line in lines[1:] if line]


def combine_pieces(manifests: Sequence[str | Path], rejects: Sequence[str | Path], out_manifest: str | Path,
                   out_rejects: str | Path) -> ExtractionCounts:
    """Concatenate per-job manifests and rejects lists (streaming, atomic); return the combined counts."""
    counts = ExtractionCounts()
    with atomic_path(out_manifest) as tmp, CutSet.open_writer(tmp) as writer:
        for piece in manifests:
            for cut in CutSet.from_jsonl_lazy(piece):
                writer.write(cut)
                counts.kept += 1
                counts.seconds += cut.duration
    all_rejects = [row for piece in rejects for row in read_rejects(piece)]
    write_rejects(out_rejects, all_rejects)
    counts.rejected = len(all_rejects)
    counts.total = counts.kept + counts.rejected
    return counts


class _ProgressLog:
    """A log line with rates every ``interval`` seconds: long extractions show they are alive and how fast."""

    def __init__(self, interval: float = 30.0) -> None:
        self.start = self.last = time.monotonic()
        self.interval = interval

    def update(self, counts: ExtractionCounts, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < self.interval:
            return
        self.last = now
        elapsed = max(now - self.start, 1e-9)
        logger.info("%s %s; %.1f cuts/s, %.1fx real time", "done:" if final else "progress:", counts.summary(),
                    counts.total / elapsed, counts.seconds / elapsed)
