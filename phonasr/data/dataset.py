"""Batches of fbank feature cuts for training and evaluation.

Training reads the cut manifests of the feature stage (``data/fbank/<lang>/cuts_<split>.jsonl.gz``; several at once
for multilingual pretraining), drops the utterances a task cannot learn from (counted and logged, never
silently), mixes languages at random, batches by total duration with lhotse's ``DynamicBucketingSampler`` and
yields padded feature tensors with the metadata every task needs.
"""
from __future__ import annotations

import glob
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence

import torch
from lhotse import CutSet
from lhotse.cut import Cut
from lhotse.dataset import DynamicBucketingSampler
from torch.nn.utils.rnn import pad_sequence

log = logging.getLogger(__name__)

Batch = Dict[str, Any]


@dataclass(frozen=True)
class ManifestSpec:
    """One cut manifest and how many times an epoch visits it (``repeat`` > 1 oversamples a small set)."""

    path: Path
    repeat: int = 1


def parse_manifests(entries: str | Sequence[Any]) -> List[ManifestSpec]:
    """Config entries -> specs. Entries are paths (glob patterns allowed, matched in sorted order) or mappings
    ``{path: ..., repeat: N}``. A path or pattern that matches nothing is an error, not an empty data set."""
    if isinstance(entries, (str, Path, dict)):
        entries = [entries]
    specs: List[ManifestSpec] = []
    for entry in entries:
        path, repeat = (entry.get("path"), int(entry.get("repeat", 1))) if isinstance(entry, dict) else (entry, 1)
        if path is None or repeat < 1:
            raise ValueError(f"manifest entry {entry!r}: needs a 'path' and repeat >= 1")
        matches = sorted(glob.glob(str(path))) if glob.has_magic(str(path)) else [str(path)]
        if not matches or not all(Path(m).is_file() for m in matches):
            raise FileNotFoundError(f"cut manifest {path} not found; run the feature stage (steps/make_fbank.sh) "
                                    "or fix data.train / data.dev in the config")
        specs.extend(ManifestSpec(Path(m), repeat) for m in matches)
    return specs


@dataclass
class FilterReport:
    """How many cuts a manifest scan kept and rejected, with a few rejected ids for the log."""

    kept: int = 0
    rejected: int = 0
    kept_hours: float = 0.0
    examples: List[str] = field(default_factory=list)

    def log(self, what: str) -> None:
        log.info("%s: kept %d cuts (%.2f h), rejected %d as untrainable%s", what, self.kept, self.kept_hours,
                 self.rejected, f" (e.g. {', '.join(self.examples)})" if self.examples else "")


class _NotIn:
    """Picklable predicate ``cut.id not in ids`` for lazy CutSet filtering."""

    def __init__(self, ids: Iterable[str]) -> None:
        self.ids = frozenset(ids)

    def __call__(self, cut: Cut) -> bool:
        return cut.id not in self.ids


def _check_cut(cut: Cut, path: Path) -> None:
    if not cut.has_features:
        raise ValueError(f"{path}: cut '{cut.id}' has no features; train on the fbank manifests "
                         "(data/fbank/<lang>/cuts_<split>.jsonl.gz) written by steps/make_fbank.sh")
    if len(cut.supervisions) != 1:
        raise ValueError(f"{path}: cut '{cut.id}' has {len(cut.supervisions)} supervisions; phonasr expects "
                         "exactly one per cut (rerun the manifest stage)")


def load_cuts(specs: Sequence[ManifestSpec], keep: Callable[[Cut], bool], seed: int,
              max_examples: int = 10) -> tuple[CutSet, FilterReport]:
    """Scan the manifests once, apply ``keep``, and return a lazy CutSet of the kept cuts with a report.

    The kept cuts of different manifests are interleaved at random (``CutSet.mux`` weighted by size, with a fixed
    seed so every DDP rank sees the same stream), so multilingual batches mix languages from the first step.
    """
    report = FilterReport()
    parts: List[CutSet] = []
    weights: List[int] = []
    for spec in specs:
        rejected: List[str] = []
        kept = 0
        for cut in CutSet.from_jsonl_lazy(spec.path):
            _check_cut(cut, spec.path)
            if keep(cut):
                kept += 1
                report.kept_hours += spec.repeat * cut.duration / 3600
            else:
                rejected.append(cut.id)
        report.kept += kept * spec.repeat
        report.rejected += len(rejected)
        report.examples.extend(rejected[: max(0, max_examples - len(report.examples))])
        if kept == 0:
            log.warning("%s: no trainable cuts left", spec.path)
            continue
        cuts = CutSet.from_jsonl_lazy(spec.path)
        if rejected:
            cuts = cuts.filter(_NotIn(rejected))
        parts.append(cuts.repeat(spec.repeat) if spec.repeat > 1 else cuts)
        weights.append(kept * spec.repeat)
    if not parts:
        raise ValueError(f"no trainable cuts in {', '.join(str(s.path) for s in specs)} "
                         f"({report.rejected} rejected as too short for their targets)")
    mixed = parts[0] if len(parts) == 1 else CutSet.mux(*parts, weights=weights, seed=seed)
    return mixed, report


def make_sampler(cuts: CutSet, max_duration: float, shuffle: bool, num_buckets: int, seed: int,
                 world_size: int = 1, rank: int = 0) -> DynamicBucketingSampler:
    """Duration-bucketed dynamic batches; ``world_size``/``rank`` are always explicit (lhotse would otherwise
    guess them from the environment, which is wrong for the dev set validated on rank 0 only)."""
    if num_buckets < 2:
        raise ValueError(f"data.num_buckets must be at least 2 (lhotse's bucketing needs two), got {num_buckets}")
    return DynamicBucketingSampler(cuts, max_duration=max_duration, num_buckets=num_buckets, shuffle=shuffle,
                                   drop_last=False, seed=seed, world_size=world_size, rank=rank)


class ResumableSampler(torch.utils.data.Sampler):
    """Epoch-aware wrapper around a lhotse sampler that can start an epoch after its first ``k`` batches.

    lhotse's own ``state_dict`` counts the batches the sampler has *produced*; with DataLoader prefetching that
    runs ahead of the batches training has *consumed*. The trainer knows the consumed count, so resuming skips
    exactly those (cheap: sampling reads only cut metadata) and continues the interrupted epoch's batch order.
    """

    def __init__(self, sampler: DynamicBucketingSampler) -> None:
        super().__init__()
        self.sampler = sampler
        self._skip = 0

    def start_epoch(self, epoch: int, skip_batches: int = 0) -> None:
        self.sampler.set_epoch(epoch)
        self._skip = skip_batches

    def __iter__(self) -> Iterator[CutSet]:
        skip, self._skip = self._skip, 0
        # A lhotse sampler is its own iterator and iter() on it restarts the epoch, so after skipping we must
        # keep calling next() on it rather than ``yield from`` (which would call iter() again).
        batches = iter(self.sampler)
        for _ in range(skip):
            if next(batches, None) is None:
                return
        while (batch := next(batches, None)) is not None:
            yield batch

    def settings(self) -> Dict[str, Any]:
        """What must match for a resumed run to see the same batches."""
        s = self.sampler
        return {"max_duration": s.max_duration, "seed": s.seed, "world_size": s.world_size}


class FeatureBatchDataset(torch.utils.data.Dataset):
    """Map-style dataset: a CutSet (one sampler batch) -> padded features and per-cut metadata.

    Output: ``features`` (B, T, F) float32 zero-padded, ``feature_lens`` (B,) long, ``cut_ids``, ``utt_ids``,
    ``texts``, ``phones`` (per cut: space-separated phoneme units, or None when the manifest has no ground truth)
    and ``languages``. Cuts are ordered by decreasing length, as packed CTC implementations expect.

    ``utt_ids`` are the supervision ids: an oversampled copy of a cut (``CutSet.repeat``) gets a new cut id
    (``<id>_repeat<N>``) but keeps its supervision, so per-utterance state (JSA's chains) is keyed by these.
    """

    def __getitem__(self, cuts: CutSet) -> Batch:
        ordered = sorted(cuts, key=lambda c: c.num_frames, reverse=True)
        feats = []
        for cut in ordered:
            try:
                feats.append(torch.from_numpy(cut.load_features()).float())
            except Exception as e:
                raise RuntimeError(f"cannot load features of cut '{cut.id}': {e}; recompute the fbank stage") from e
        sups = [c.supervisions[0] for c in ordered]
        return {
            "features": pad_sequence(feats, batch_first=True),
            "feature_lens": torch.tensor([f.shape[0] for f in feats], dtype=torch.long),
            "cut_ids": [c.id for c in ordered],
            "utt_ids": [s.id for s in sups],
            "texts": [s.text or "" for s in sups],
            "phones": [_phones(s) for s in sups],
            "languages": [s.language for s in sups],
        }


def _phones(supervision: Any) -> Optional[str]:
    custom = supervision.custom or {}
    return custom.get("phones")


def make_loader(sampler: torch.utils.data.Sampler, num_workers: int, seed: int) -> torch.utils.data.DataLoader:
    """Feature loading happens in ``num_workers`` processes; sampling and augmentation stay in the main one.

    The loader gets its own generator: otherwise every ``iter(loader)`` draws a worker seed from torch's global
    generator, and a resumed run (which starts its epoch iterator at a different moment) would diverge.
    """
    return torch.utils.data.DataLoader(FeatureBatchDataset(), sampler=sampler, batch_size=None,
                                       num_workers=num_workers, persistent_workers=False,
                                       generator=torch.Generator().manual_seed(seed))
