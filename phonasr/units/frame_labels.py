"""Frame-level phoneme labels from CTC forced alignment: the targets of phoneme-classification fine-tuning
(seed 001) and the truth that unit purity and PNMI score against.

An S2P checkpoint (the aligner) gives each cut's log-posteriors; the Viterbi path that collapses to the cut's true
phonemes (:func:`phonasr.ctc.align.forced_align`) puts every phoneme on one or a few frames and blank on the rest.
A classifier needs a phoneme on every frame, so :func:`fill_blanks` gives the blank frames to the phonemes around
them:

* a phoneme spreads over at most ``margin`` blank frames on each side of its CTC emission;
* a blank run between two phonemes that both reach is split at its midpoint (an odd frame goes to the left one);
* blank frames no phoneme reaches (leading and trailing silence, pauses) are silence, id 0 (the blank id).

Why: on the mini corpus (10-minute subset, the 10-minute CTC FT aligner, 40 ms frames) half of the path's frames
are blank, emissions last 1-2 frames, and 93% of the blank runs between phonemes are 1-2 frames long (inside
words: transitions, stop closures), while the runs at the ends are pauses: the leading one is 1 frame in 84 of 94
cuts, the trailing one 6-11 frames in 160 of 172. ``margin`` = 2 (80 ms) gives every run of up to 4 frames
(98% of those between phonemes) wholly to its phonemes and leaves the longer ones silence in the middle, next to
an extension of 80 ms, about one mean phoneme. The result: 7.5% of the frames silence, a mean phoneme of 2.3
frames (92 ms); the labels' statistics (:class:`LabelStats`) are logged for every alignment so a different corpus
shows whether the rule still fits.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import torch
from lhotse import CutSet
from lhotse.cut import Cut

from phonasr.batching.cuts import CutFeatures, feature_frames
from phonasr.ctc import min_ctc_frames
from phonasr.ctc.align import forced_align
from phonasr.ctc.common import BLANK
from phonasr.decode.ctc import batches, load_acoustic_model, load_batch
from phonasr.models import subsampled_lengths
from phonasr.models.stored import load_stored_model
from phonasr.tokenizers import Tokenizer
from phonasr.units.layers import encoder_frame_shift
from phonasr.units.store import load_arrays

logger = logging.getLogger(__name__)

SILENCE = BLANK  # the frame label of frames no phoneme covers: the lang dir's blank id
DEFAULT_MARGIN = 2


def emissions(path: Sequence[int]) -> List[Tuple[int, int, int]]:
    """``(start, end, token)`` of each maximal run of one non-blank token in a CTC frame path (end exclusive)."""
    runs: List[Tuple[int, int, int]] = []
    for t, token in enumerate(path):
        if token == BLANK:
            continue
        if runs and runs[-1][1] == t and runs[-1][2] == token:
            runs[-1] = (runs[-1][0], t + 1, token)
        else:
            runs.append((t, t + 1, token))
    return runs


def fill_blanks(path: Sequence[int], margin: int = DEFAULT_MARGIN) -> List[int]:
    """A phoneme id for every frame of a CTC path (0 = blank): the module's rule, silence (0) where none reaches."""
    if margin < 0:
        raise ValueError(f"margin must be >= 0 frames, got {margin}")
    labels = [SILENCE] * len(path)
    runs = emissions(path)
    for i, (start, end, token) in enumerate(runs):
        left = max(0, start - margin)
        if i > 0:
            previous_end = runs[i - 1][1]
            left = max(left, previous_end + (start - previous_end + 1) // 2)
        right = min(len(path), end + margin)
        if i + 1 < len(runs):
            following = runs[i + 1][0]
            right = min(right, end + (following - end + 1) // 2)
        labels[left:right] = [token] * (right - left)
    return labels


def label_frames(log_probs: torch.Tensor, lengths: torch.Tensor, targets: Sequence[Sequence[int]],
                 margin: int = DEFAULT_MARGIN) -> Tuple[List[List[int]], List[List[int]]]:
    """(CTC Viterbi paths, frame labels) of a batch of log-posteriors (B, T, V) aligned to ``targets``."""
    paths = forced_align(log_probs, lengths, targets)
    return paths, [fill_blanks(path, margin) for path in paths]


@dataclasses.dataclass
class LabelStats:
    """Frame counts per label and phoneme occurrences per id over the aligned cuts: the silence share and mean
    phoneme durations that show whether the blank rule suits a corpus."""

    label_frames: Counter = dataclasses.field(default_factory=Counter)
    occurrences: Counter = dataclasses.field(default_factory=Counter)
    blank_path_frames: int = 0

    def add(self, path: Sequence[int], labels: Sequence[int], targets: Sequence[int]) -> None:
        self.label_frames.update(labels)
        self.occurrences.update(targets)
        self.blank_path_frames += sum(1 for token in path if token == BLANK)

    @property
    def frames(self) -> int:
        return sum(self.label_frames.values())

    def silence_share(self) -> float:
        return self.label_frames[SILENCE] / max(self.frames, 1)

    def blank_share(self) -> float:
        """Share of the CTC paths' frames that are blank (how peaky the aligner is)."""
        return self.blank_path_frames / max(self.frames, 1)

    def mean_phone_frames(self) -> float:
        """Mean frames per phoneme occurrence (silence left out)."""
        return (self.frames - self.label_frames[SILENCE]) / max(sum(self.occurrences.values()), 1)

    def per_phone(self, symbols: Sequence[str]) -> List[Tuple[str, int, float]]:
        """``(symbol, occurrences, mean frames)`` of every phoneme that occurred, most frequent first."""
        rows = [(symbols[i], n, self.label_frames[i] / n) for i, n in self.occurrences.items()]
        return sorted(rows, key=lambda row: (-row[1], row[0]))

    def summary(self, frame_shift: float) -> Dict[str, float]:
        return {"frames": float(self.frames), "silence_share": self.silence_share(),
                "blank_share_of_ctc_path": self.blank_share(), "mean_phone_frames": self.mean_phone_frames(),
                "mean_phone_ms": 1000 * frame_shift * self.mean_phone_frames()}


@dataclasses.dataclass
class Alignment:
    """The frame labels of a manifest's alignable cuts and what went into them."""

    labels: Dict[str, torch.Tensor]
    skipped: List[str]                 # cuts too short for their phonemes, in manifest order
    stats: LabelStats
    symbols: List[str]                 # the aligner's output symbols: what the label ids mean
    lang_dir: str
    frame_shift: float                 # seconds per encoder frame

    def meta(self, checkpoint: str, margin: int) -> Dict[str, object]:
        """The ``meta`` of the ``frame_labels`` file (:mod:`phonasr.units.store`)."""
        return {"lang_dir": self.lang_dir, "symbols": list(self.symbols), "checkpoint": checkpoint,
                "margin": margin, "frame_shift": self.frame_shift, "skipped": list(self.skipped),
                **self.stats.summary(self.frame_shift)}


def cut_phone_ids(cut: Cut, tokenizer: Tokenizer, where: str) -> List[int]:
    """The ids of ``cut``'s true phonemes (supervision custom field ``phones``); errors name the cut and the fix."""
    if len(cut.supervisions) != 1:
        raise ValueError(f"{where}: cut '{cut.id}' has {len(cut.supervisions)} supervisions; phonasr expects one")
    phones = (cut.supervisions[0].custom or {}).get("phones")
    if not phones:
        raise ValueError(f"{where}: cut '{cut.id}' has no phonemes (supervision custom field 'phones'); align a "
                         "manifest with ground-truth phonemes (steps/add_phones.sh)")
    try:
        return tokenizer.encode(phones)
    except ValueError as e:
        raise ValueError(f"{where}: cut '{cut.id}': its phonemes do not fit the aligner's lang dir: {e}") from e


def align_cuts(checkpoint: str, cuts_path: str, *, device: torch.device, margin: int = DEFAULT_MARGIN,
               model_name: Optional[str] = None, max_frames: int = 40000,
               fbank_backend: Optional[str] = None) -> Alignment:
    """Frame labels of every cut of ``cuts_path`` from the S2P of ``checkpoint`` (see the module docstring).

    A cut with fewer encoder frames than CTC needs for its phonemes cannot be aligned: it is skipped with a
    warning naming it, and listed in :attr:`Alignment.skipped`.
    """
    am = load_acoustic_model(checkpoint, model_name, None, device)
    features = CutFeatures(fbank_backend)
    targets: Dict[str, List[int]] = {}
    alignable: List[Cut] = []
    skipped: List[str] = []
    for cut in CutSet.from_file(cuts_path):
        features.check(cut, cuts_path)
        ids = cut_phone_ids(cut, am.tokenizer, cuts_path)
        frames = int(subsampled_lengths(torch.tensor([feature_frames(cut)]))[0])
        if frames < min_ctc_frames(ids):
            logger.warning("skipping cut '%s': %d encoder frames cannot hold its %d phonemes", cut.id, frames,
                           len(ids))
            skipped.append(cut.id)
            continue
        targets[cut.id] = ids
        alignable.append(cut)
    logger.info("aligning %d cuts of %s with model '%s' of %s on %s (%d skipped as too short), margin %d frames",
                len(alignable), cuts_path, am.name, checkpoint, device, len(skipped), margin)
    labels: Dict[str, torch.Tensor] = {}
    stats = LabelStats()
    start = time.time()
    for n, batch in enumerate(batches(alignable, max_frames), start=1):
        feats, lengths = load_batch(batch, am.model.encoder.config.input_dim, features)
        with torch.no_grad():
            log_probs, out_lens = am.model(feats.to(device), lengths.to(device))
        batch_targets = [targets[c.id] for c in batch]
        paths, filled = label_frames(log_probs, out_lens, batch_targets, margin)
        for cut, path, frame_labels, ids in zip(batch, paths, filled, batch_targets):
            labels[cut.id] = torch.tensor(frame_labels, dtype=torch.long)
            stats.add(path, frame_labels, ids)
        if n % 20 == 0:
            logger.info("%d batches, %d cuts, %.1f cuts/s", n, len(labels), len(labels) / (time.time() - start))
    logger.info("aligned %d cuts in %.1f s (%.1f cuts/s)", len(labels), time.time() - start,
                len(labels) / max(time.time() - start, 1e-6))
    lang_dir = load_stored_model(checkpoint, am.name).lang_dir("output")
    return Alignment(labels, skipped, stats, list(am.tokenizer.symbols), lang_dir, encoder_frame_shift(alignable))


def load_frame_labels(paths: Iterable[str | Path], symbols: Sequence[str],
                      lang_dir: str) -> Dict[str, torch.Tensor]:
    """The frame labels of one or more ``frame_labels`` files (e.g. train and dev), checked to use the ids of
    ``symbols`` (the phone lang dir ``lang_dir`` of the model that will train on them) and to label each cut once."""
    merged: Dict[str, torch.Tensor] = {}
    for path in paths:
        arrays, meta = load_arrays(path, "frame_labels")
        if list(meta.get("symbols") or []) != list(symbols):
            raise ValueError(f"{path}: its labels are ids of another phone inventory than {lang_dir}'s; align with "
                             f"an S2P whose output is {lang_dir} (the fine-tuned target-language model)")
        twice = sorted(set(arrays) & set(merged))
        if twice:
            raise ValueError(f"{path}: cuts {twice[:3]} are labelled in an earlier frame_labels file too; give "
                             "each cut's labels once")
        merged.update(arrays)
    return merged
