"""What the training loop needs from a task's data, and the default: lhotse fbank feature cuts.

The trainer is indifferent to what a batch holds; it needs a training loader whose sampler can start an epoch
after its first ``k`` batches (so a killed run resumes on exactly the next batch), a dev loader, and the sampler
settings that must match for such a resume. Acoustic tasks use :func:`feature_data` (the default of
:meth:`phonasr.train.task.Task.build_data`); token tasks (P2G, G2P) build the same from TSV pair files.
"""
from __future__ import annotations

import dataclasses
import itertools
import logging
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Mapping, Optional, Protocol

from lhotse import CutSet
from lhotse.cut import Cut

from phonasr.batching.cuts import (
    Batch,
    CutFeatures,
    ResumableSampler,
    load_cuts,
    make_loader,
    make_sampler,
    parse_manifests,
)
from phonasr.features.cmvn import FeatureStats, feature_stats
from phonasr.train.settings import parse_section
from phonasr.utils.config import ConfigError

if TYPE_CHECKING:
    from phonasr.train.task import Task

log = logging.getLogger(__name__)


class ResumableBatches(Protocol):
    """A training batch sampler that the trainer can position inside an epoch."""

    def start_epoch(self, epoch: int, skip_batches: int = 0) -> None:
        """Use epoch ``epoch``'s batch order; the next iteration starts after its first ``skip_batches``."""

    def settings(self) -> Dict[str, Any]:
        """Plain data that must be unchanged for a resumed run to see the interrupted run's batches."""


@dataclasses.dataclass
class TrainingData:
    sampler: ResumableBatches        # drives ``train_loader``
    train_loader: Iterable[Batch]
    dev_loader: Iterable[Batch]


@dataclasses.dataclass
class FeatureDataSettings:
    """The ``data:`` section of acoustic tasks."""

    train: Any = None                # manifest path(s), globs, or {path, repeat} mappings
    dev: Any = None
    max_duration: float = 200.0      # seconds of speech per batch
    dev_max_duration: Optional[float] = None
    num_buckets: int = 10
    num_workers: int = 2
    # null: the stored fbank of steps/make_fbank.sh; a backend name (auto, kaldifeat, kaldi-native-fbank,
    # lhotse): compute fbank from the cuts' audio while batching, with the settings of stored features
    on_the_fly_fbank: Optional[str] = None
    # a model trained from scratch normalises its input with the statistics of at most this many training cuts,
    # shared evenly by the manifests (enough for a global mean and variance; reading a large corpus whole would
    # cost an epoch's I/O before the first step)
    cmvn_max_cuts: int = 20000


def feature_data_settings(section: Optional[Mapping[str, Any]]) -> FeatureDataSettings:
    """The ``data:`` section of an acoustic task (unknown keys are errors)."""
    return parse_section(FeatureDataSettings, section, "data")


class UntrainableCount:
    """A ``keep`` predicate for :func:`load_cuts` that keeps every cut and records those ``trainable`` rejects.

    The dev set chooses the best checkpoints, so it must be the whole of ``data.dev``, like the test sets that
    decoding scores in full: a cut too short for its target still gets a hypothesis and counts in the error rate
    (its errors included), it only has no finite dev loss.
    """

    def __init__(self, trainable: Callable[[Cut], bool], max_examples: int = 10) -> None:
        self.trainable = trainable
        self.max_examples = max_examples
        self.count = 0
        self.examples: List[str] = []

    def __call__(self, cut: Cut) -> bool:
        if not self.trainable(cut):
            self.count += 1
            if len(self.examples) < self.max_examples:
                self.examples.append(cut.id)
        return True


def feature_data(task: Task, seed: int, world_size: int, rank: int) -> TrainingData:
    """Duration-bucketed batches of the ``data.train`` / ``data.dev`` cut manifests.

    The task may rewrite the training manifests (:meth:`Task.train_manifests`, e.g. JSA's oversampled labelled
    subset) and reject training cuts it cannot learn from (:meth:`Task.keep_cut`, counted and logged). The dev set
    is scored whole: its cuts that ``keep_cut`` rejects are counted and logged, not dropped (:class:`UntrainableCount`).
    """
    d = feature_data_settings(task.config.get("data"))
    if d.train is None or d.dev is None:
        raise ConfigError("the data: section needs train and dev", "name their cut manifests in data.train and "
                          "data.dev, e.g. data/fbank/pl/cuts_train.jsonl.gz")
    features = CutFeatures(d.on_the_fly_fbank)
    train_cuts, report = load_cuts(parse_manifests(task.train_manifests(d.train)), task.keep_cut, seed, features)
    report.log("train set")
    untrainable_dev = UntrainableCount(task.keep_cut)
    dev_cuts, dev_report = load_cuts(parse_manifests(d.dev), untrainable_dev, seed, features)
    examples = f" (e.g. {', '.join(untrainable_dev.examples)})" if untrainable_dev.examples else ""
    log.info("dev set: %d cuts (%.2f h), all scored; %d untrainable ones (too short for their target, or without "
             "one) count in the error rate but have no dev loss%s", dev_report.kept, dev_report.kept_hours,
             untrainable_dev.count, examples)
    log.info("features: %s", features.describe())
    sampler = ResumableSampler(make_sampler(train_cuts, d.max_duration, shuffle=True, num_buckets=d.num_buckets,
                                            seed=seed), world_size=world_size, rank=rank)
    dev_sampler = make_sampler(dev_cuts, d.dev_max_duration or d.max_duration, shuffle=False,
                               num_buckets=d.num_buckets, seed=seed)
    return TrainingData(sampler=sampler, train_loader=make_loader(sampler, d.num_workers, seed, features),
                        dev_loader=make_loader(dev_sampler, d.num_workers, seed, features))


def train_feature_stats(task: Task, dim: int) -> FeatureStats:
    """Per-bin statistics of the frames of the ``data.train`` manifests (each cut once, whatever its ``repeat``;
    at most ``data.cmvn_max_cuts`` cuts, the first ones of each manifest in equal shares), read the way training
    reads them (stored or on-the-fly fbank): a model trained from scratch normalises its input with these."""
    d = feature_data_settings(task.config.get("data"))
    if d.train is None:
        raise ConfigError("the data: section needs train", "name its cut manifests in data.train")
    if d.cmvn_max_cuts < 1:
        raise ConfigError(f"data.cmvn_max_cuts is {d.cmvn_max_cuts}", "set it to at least 1")
    features = CutFeatures(d.on_the_fly_fbank)
    paths = list(dict.fromkeys(spec.path for spec in parse_manifests(task.train_manifests(d.train))))
    share = max(1, d.cmvn_max_cuts // len(paths))
    cuts = [cut for path in paths for cut in itertools.islice(CutSet.from_jsonl_lazy(path), share)]
    stats = feature_stats((feats for cut in cuts for feats in features.load([cut])), dim)
    log.info("input normalisation from %d frames of %d cuts in %d manifest(s): mean %.3g, std %.3g (averaged "
             "over bins)", stats.count, len(cuts), len(paths), float(stats.mean().mean()), float(stats.std().mean()))
    return stats
