"""Batches of fbank feature cuts for training and evaluation.

Training reads the cut manifests of the feature stage (``data/fbank/<lang>/cuts_<split>.jsonl.gz``; several at once
for multilingual pretraining), drops the utterances a task cannot learn from (counted and logged, never
silently), mixes languages at random, batches by total duration with lhotse's ``DynamicBucketingSampler`` and
yields padded feature tensors with the metadata every task needs.

Features are the stored fbank of the feature stage or, with ``data.on_the_fly_fbank: <backend>``, computed from
the cuts' audio while batching (:class:`CutFeatures`); both are padded the same way, so they give the same batches.
Under DDP every rank samples the same batch stream and takes every ``world_size``-th batch, the last round padded
with the epoch's first batches (:func:`rank_share`), so all ranks run the same number of steps.
"""
from __future__ import annotations

import glob
import itertools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, TypeVar

import torch
from lhotse import CutSet
from lhotse.cut import Cut
from lhotse.dataset import DynamicBucketingSampler

from phonasr.batching.padding import pad_features
from phonasr.features.backends import resolve_backend
from phonasr.features.config import FbankConfig
from phonasr.features.onthefly import OnTheFlyFbank

log = logging.getLogger(__name__)

Batch = Dict[str, Any]
T = TypeVar("T")



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


class CutFeatures:
    """Where a cut's fbank comes from: the features stored by ``steps/make_fbank.sh`` (``on_the_fly_fbank``
    None), or the cut's audio through the named backend (``auto``, ``kaldifeat``, ``kaldi-native-fbank``,
    ``lhotse``), computed with the same :class:`FbankConfig` as stored features and therefore the same numbers.

    The extractor is built on first use, in the process that loads the batch (a DataLoader worker), so nothing
    backend-specific has to be pickled into workers and the main process holds none.
    """

    def __init__(self, on_the_fly_fbank: Optional[str] = None) -> None:
        # resolved here, in the main process, so an unknown or missing backend fails before any data is read
        self.backend = resolve_backend(on_the_fly_fbank) if on_the_fly_fbank else None
        self._fbank: Optional[OnTheFlyFbank] = None

    def describe(self) -> str:
        return f"fbank computed from audio by {self.backend}" if self.backend else "stored fbank features"

    def check(self, cut: Cut, where: str | Path) -> None:
        """Fail clearly when ``cut`` lacks what this source reads (its features, or its audio)."""
        if self.backend is None and not cut.has_features:
            raise ValueError(f"{where}: cut '{cut.id}' has no features; use the fbank manifests "
                             "(data/fbank/<lang>/cuts_<split>.jsonl.gz) written by steps/make_fbank.sh, or set "
                             "data.on_the_fly_fbank (decoding: --on-the-fly-fbank) to compute fbank from the audio")
        if self.backend is not None and not cut.has_recording:
            raise ValueError(f"{where}: cut '{cut.id}' has no recording to compute fbank from "
                             f"(on-the-fly backend {self.backend}); use a manifest with audio")

    def load(self, cuts: Sequence[Cut]) -> List[torch.Tensor]:
        """One float32 ``(frames, bins)`` tensor per cut, in order; errors name the cut."""
        if self.backend is not None:
            if self._fbank is None:
                self._fbank = OnTheFlyFbank(self.backend, device="cpu")
            return [torch.from_numpy(f).float() for f in self._fbank.features(cuts)]
        feats = []
        for cut in cuts:
            try:
                feats.append(torch.from_numpy(cut.load_features()).float())
            except Exception as e:
                raise RuntimeError(f"cannot load features of cut '{cut.id}': {e}; recompute the fbank stage") from e
        return feats


def feature_frames(cut: Cut) -> int:
    """Fbank frames of ``cut``: the stored count, or what on-the-fly extraction will produce from its audio.

    Both are the same number (``snip_edges=False``: lhotse's ``compute_num_frames``), so filters such as "too
    short for its CTC target" decide alike whichever way the features come.
    """
    if cut.has_features:
        return int(cut.num_frames)
    config = FbankConfig()
    return config.num_frames(round(cut.duration * config.sample_rate))


def _check_cut(cut: Cut, path: Path, features: CutFeatures) -> None:
    features.check(cut, path)
    if len(cut.supervisions) != 1:
        raise ValueError(f"{path}: cut '{cut.id}' has {len(cut.supervisions)} supervisions; phonasr expects "
                         "exactly one per cut (rerun the manifest stage)")


def load_cuts(specs: Sequence[ManifestSpec], keep: Callable[[Cut], bool], seed: int,
              features: Optional[CutFeatures] = None, max_examples: int = 10) -> tuple[CutSet, FilterReport]:
    """Scan the manifests once, apply ``keep``, and return a lazy CutSet of the kept cuts with a report.

    Every cut must carry what ``features`` (default: stored features) reads, checked here rather than
    mid-epoch.

    The kept cuts of different manifests are interleaved at random (``CutSet.mux`` weighted by size, with a fixed
    seed so every DDP rank sees the same stream), so multilingual batches mix languages from the first step.
    """
    features = features or CutFeatures()
    report = FilterReport()
    parts: List[CutSet] = []
    weights: List[int] = []
    for spec in specs:
        rejected: List[str] = []
        kept = 0
        for cut in CutSet.from_jsonl_lazy(spec.path):
            _check_cut(cut, spec.path, features)
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


def make_sampler(cuts: CutSet, max_duration: float, shuffle: bool, num_buckets: int,
                 seed: int) -> DynamicBucketingSampler:
    """Duration-bucketed dynamic batches of all of ``cuts``: one stream, the same in every process.

    ``world_size=1, rank=0`` are explicit: lhotse would otherwise guess them from the environment and split the
    stream itself (wrong for the dev set, validated on rank 0 only). DDP ranks take their share of the training
    stream with :class:`ResumableSampler`.
    """
    if num_buckets < 2:
        raise ValueError(f"data.num_buckets must be at least 2 (lhotse's bucketing needs two), got {num_buckets}")
    return DynamicBucketingSampler(cuts, max_duration=max_duration, num_buckets=num_buckets, shuffle=shuffle,
                                   drop_last=False, seed=seed, world_size=1, rank=0)


def rank_share(batches: Iterable[T], world_size: int, rank: int) -> Iterator[T]:
    """Rank ``rank``'s batches of a stream every rank draws identically: batches ``rank``, ``rank + world_size``,
    ... with the last, incomplete round completed by the stream's first batches (repeated as often as needed).

    Every rank therefore yields exactly ceil(n / world_size) batches: DDP's gradient all-reduces (and the
    trainer's other collectives) pair up step by step, and no rank finishes its epoch while another waits in a
    collective. Which cuts form a batch does not depend on the number of ranks, only which rank trains on it.
    It streams (it keeps only the first ``world_size - 1`` batches), so a lazy sampler stays lazy.
    """
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} outside a world of {world_size}")
    head: List[T] = []
    round_: List[T] = []
    for batch in batches:
        if len(head) < world_size - 1:
            head.append(batch)
        round_.append(batch)
        if len(round_) == world_size:
            yield round_[rank]
            round_ = []
    if round_:
        round_.extend(itertools.islice(itertools.cycle(head), world_size - len(round_)))
        yield round_[rank]


class ResumableSampler(torch.utils.data.Sampler):
    """Epoch-aware wrapper around a lhotse sampler: this rank's share of its batches (:func:`rank_share`), and
    an epoch can start after this rank's first ``k`` batches.

    lhotse's own ``state_dict`` counts the batches the sampler has *produced*; with DataLoader prefetching that
    runs ahead of the batches training has *consumed*. The trainer knows the consumed count, so resuming skips
    exactly those (cheap: sampling reads only cut metadata) and continues the interrupted epoch's batch order.
    """

    def __init__(self, sampler: DynamicBucketingSampler, world_size: int = 1, rank: int = 0) -> None:
        super().__init__()
        if sampler.world_size != 1:
            raise ValueError("ResumableSampler shares out the batches itself: build the lhotse sampler with "
                             "make_sampler (world_size=1)")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside a world of {world_size}")
        self.sampler = sampler
        self.world_size = world_size
        self.rank = rank
        self._skip = 0

    def start_epoch(self, epoch: int, skip_batches: int = 0) -> None:
        self.sampler.set_epoch(epoch)
        self._skip = skip_batches

    def _stream(self) -> Iterator[CutSet]:
        # A lhotse sampler is its own iterator and iter() on it restarts the epoch, so we keep calling next() on
        # the one iterator rather than ``yield from`` (which would call iter() again).
        batches = iter(self.sampler)
        while (batch := next(batches, None)) is not None:
            yield batch

    def __iter__(self) -> Iterator[CutSet]:
        # A generator, so the skip is taken when batches are first drawn, not when iter() is called: a DataLoader
        # with workers calls iter() on its sampler twice and draws only from the second iterator, and an eager
        # iter() would spend the skip on the first and resume the epoch from its start.
        skip, self._skip = self._skip, 0
        yield from itertools.islice(rank_share(self._stream(), self.world_size, self.rank), skip, None)

    def settings(self) -> Dict[str, Any]:
        """What must match for a resumed run to see the same batches."""
        s = self.sampler
        return {"max_duration": s.max_duration, "seed": s.seed, "world_size": self.world_size}


class FeatureBatchDataset(torch.utils.data.Dataset):
    """Map-style dataset: a CutSet (one sampler batch) -> padded features and per-cut metadata.

    Output: ``features`` (B, T, F) float32 padded with :data:`phonasr.batching.padding.FEATURE_PAD_VALUE`,
    ``feature_lens`` (B,) long,
    ``cut_ids``, ``utt_ids``, ``texts``, ``phones`` (per cut: space-separated phoneme units, or None when the
    manifest has no ground truth) and ``languages``. Cuts are ordered by decreasing length, as packed CTC
    implementations expect. ``features`` says where the fbank comes from (default: stored features).

    ``utt_ids`` are the supervision ids: an oversampled copy of a cut (``CutSet.repeat``) gets a new cut id
    (``<id>_repeat<N>``) but keeps its supervision, so per-utterance state (JSA's chains) is keyed by these.
    """

    def __init__(self, features: Optional[CutFeatures] = None) -> None:
        self.features = features or CutFeatures()

    def __getitem__(self, cuts: CutSet) -> Batch:
        ordered = sorted(cuts, key=feature_frames, reverse=True)
        feats = self.features.load(ordered)
        sups = [c.supervisions[0] for c in ordered]
        return {
            "features": pad_features(feats),
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


def make_loader(sampler: torch.utils.data.Sampler, num_workers: int, seed: int,
                features: Optional[CutFeatures] = None) -> torch.utils.data.DataLoader:
    """Feature loading (or on-the-fly extraction, see ``features``) happens in ``num_workers`` processes;
    sampling and augmentation stay in the main one.

    The loader gets its own generator: otherwise every ``iter(loader)`` draws a worker seed from torch's global
    generator, and a resumed run (which starts its epoch iterator at a different moment) would diverge.
    """
    return torch.utils.data.DataLoader(FeatureBatchDataset(features), sampler=sampler, batch_size=None,
                                       num_workers=num_workers, persistent_workers=False,
                                       generator=torch.Generator().manual_seed(seed))
