"""Training task of the unit LM (:mod:`phonasr.units.unit_lm`) for the one training loop.

Config keys (besides the trainer's ``seed``/``train``/``optim``/``schedule``)::

    model: {embed_dim: null, hidden_dim: 256, num_layers: 2, dropout: 0.1, tie_weights: false}
    embeddings: random        # or centroids: embedding row u starts as k-means centroid u
    centroids: exp/units/kmeans.pt   # the k-means file; needed by embeddings: centroids and by embed_dim: null
    data: {train: units_train.pt, dev: units_dev.pt, deduplicate: true, max_tokens: 8000, num_buckets: 10}

``data.train``/``data.dev`` are ``units`` files of :mod:`phonasr.units.store` (one or a list); k comes from their
meta and must agree. ``embed_dim: null`` means the centroids' dimension D, so random and centroid-initialised LMs
of a comparison have the same architecture; with ``embeddings: centroids`` an explicit embed_dim must be D (see
:mod:`phonasr.units.unit_lm` for why there is no projection).

Validation reports ``loss`` (nats per predicted token, ``</s>`` included), ``ppl`` (the dev perplexity per unit:
per deduplicated unit when ``deduplicate`` is on) and ``error_rate`` (% of next units not predicted top-1);
select the checkpoints by perplexity with ``train.metric: ppl``.
"""
from __future__ import annotations

import dataclasses
import logging
import math
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import torch

from phonasr.batching.cuts import Batch
from phonasr.batching.pairs import PairBatchSampler
from phonasr.train.data import TrainingData
from phonasr.train.settings import parse_section, section_errors
from phonasr.train.task import Models, PlotPanel, Task
from phonasr.units.kmeans import load_kmeans
from phonasr.units.store import load_units, merge_runs
from phonasr.units.unit_lm import (
    METADATA_KEY,
    MODEL_NAME,
    TokenScores,
    UnitLmConfig,
    UnitLstmLm,
    init_from_centroids,
    lm_batch,
    token_scores,
)
from phonasr.utils.config import ConfigError

log = logging.getLogger(__name__)

EMBEDDINGS = ("random", "centroids")


@dataclasses.dataclass
class UnitDataSettings:
    """The ``data:`` section of the unit LM task."""

    train: Any = None                # units file or list of them
    dev: Any = None
    deduplicate: bool = False        # merge runs of the same unit before modelling
    max_tokens: int = 8000           # padded tokens per batch (batch size x longest sequence)
    dev_max_tokens: Optional[int] = None
    num_buckets: int = 10
    num_workers: int = 0


@dataclasses.dataclass
class UnitSequences:
    """The unit sequences of one or more units files, with k from their meta."""

    ids: List[str]
    sequences: List[List[int]]
    k: int
    meta: Dict[str, Any]


def read_units(entries: Any, dedup: bool, what: str) -> UnitSequences:
    """Every cut's units of the files ``entries`` (one path or a list), checked against the files' k."""
    paths = [entries] if isinstance(entries, str) else list(entries or [])
    if not paths:
        raise ConfigError(f"data.{what} names no units file", f"set data.{what} to the units file(s) of the units "
                          "stage")
    ids: List[str] = []
    sequences: List[List[int]] = []
    k: Optional[int] = None
    meta: Dict[str, Any] = {}
    for path in paths:
        arrays, file_meta = load_units(path)
        if k is not None and file_meta["k"] != k:
            raise ValueError(f"{path} has k={file_meta['k']} units but {paths[0]} has {k}; train on units of one "
                             "k-means")
        k, meta = file_meta["k"], dict(file_meta)
        for cut_id, units in arrays.items():
            ids.append(cut_id)
            sequences.append((merge_runs(units) if dedup else units).tolist())
    if not sequences:
        raise ValueError(f"data.{what}: {', '.join(map(str, paths))} hold no cuts")
    assert k is not None
    return UnitSequences(ids, sequences, k, meta)


class UnitBatches(torch.utils.data.Dataset):
    """Map-style dataset: a list of sequence indices (one sampler batch) -> an LM batch (:func:`lm_batch`)."""

    def __init__(self, data: UnitSequences, config: UnitLmConfig) -> None:
        self.data = data
        self.config = config

    def __len__(self) -> int:
        return len(self.data.sequences)

    def __getitem__(self, indices: Sequence[int]) -> Batch:
        batch: Batch = dict(lm_batch([self.data.sequences[i] for i in indices], self.config))
        batch["utt_ids"] = [self.data.ids[i] for i in indices]
        return batch


class UnitLmTask(Task):
    error_rate_name = "next-unit error %"

    def __init__(self, config: Mapping[str, Any], device: torch.device) -> None:
        super().__init__(config, device)
        self.data_settings = parse_section(UnitDataSettings, config.get("data"), "data")
        d = self.data_settings
        if d.train is None or d.dev is None:
            raise ConfigError("the data: section needs train and dev", "name their units files in data.train and "
                              "data.dev")
        self.train_units = read_units(d.train, d.deduplicate, "train")
        self.dev_units = read_units(d.dev, d.deduplicate, "dev")
        if self.dev_units.k != self.train_units.k:
            raise ConfigError(f"data.dev has k={self.dev_units.k} units, data.train k={self.train_units.k}",
                              "use units of the same k-means for both")
        self.embeddings = config.get("embeddings", "random")
        if self.embeddings not in EMBEDDINGS:
            raise ConfigError(f"embeddings: {self.embeddings!r} is not one of {', '.join(EMBEDDINGS)}",
                              "set embeddings: random or embeddings: centroids")
        self.centroids = self._read_centroids(config.get("centroids"))
        self.model_config = self._model_config(dict(config.get("model") or {}))
        log.info("unit LM over k=%d units%s: %s; embeddings %s; %d train / %d dev sequences (%d / %d tokens)",
                 self.train_units.k, " (runs merged)" if d.deduplicate else "", self.model_config, self.embeddings,
                 len(self.train_units.sequences), len(self.dev_units.sequences),
                 sum(map(len, self.train_units.sequences)), sum(map(len, self.dev_units.sequences)))

    def _read_centroids(self, path: Optional[str]) -> Optional[torch.Tensor]:
        if not path:
            if self.embeddings == "centroids":
                raise ConfigError("embeddings: centroids needs the k-means file", "set centroids: <its path>")
            return None
        centroids = load_kmeans(path).centroids.float()
        if centroids.size(0) != self.train_units.k:
            raise ConfigError(f"centroids {path} has {centroids.size(0)} rows but the units have k="
                              f"{self.train_units.k}", "pass the k-means file that made these units")
        return centroids

    def _model_config(self, section: Dict[str, Any]) -> UnitLmConfig:
        if "num_units" in section:
            raise ConfigError("model.num_units is not a setting: k comes from the units files",
                              "remove model.num_units")
        if section.get("embed_dim") is None:
            if self.centroids is None:
                raise ConfigError("model.embed_dim: null means the centroids' dimension, but no centroids file "
                                  "is given", "set centroids: <the k-means file> or model.embed_dim: <size>")
            section["embed_dim"] = int(self.centroids.size(1))
        elif self.embeddings == "centroids" and self.centroids is not None \
                and section["embed_dim"] != self.centroids.size(1):
            raise ConfigError(f"model.embed_dim {section['embed_dim']} differs from the centroids' dimension "
                              f"{self.centroids.size(1)}", "set model.embed_dim: null (the centroids are copied "
                              "into the embedding table, so it takes their size)")
        with section_errors("model"):
            try:
                return UnitLmConfig(num_units=self.train_units.k, **section)
            except TypeError as e:  # an unknown key
                raise ValueError(f"unknown model setting: {e}") from e

    # ------------------------------------------------------------------------------------------ models
    def build_models(self) -> Models:
        return {MODEL_NAME: UnitLstmLm(self.model_config)}

    def initialize(self, models: Models) -> Models:
        if self.embeddings == "centroids":
            assert self.centroids is not None
            init_from_centroids(models[MODEL_NAME], self.centroids, str(self.config.get("centroids")))
            log.info("embeddings initialised from the %d centroids of %s (mean norm %.3g)", self.centroids.size(0),
                     self.config.get("centroids"), float(self.centroids.norm(dim=1).mean()))
        return models

    def checkpoint_metadata(self) -> Dict[str, Any]:
        return {METADATA_KEY: {"model": dataclasses.asdict(self.model_config),
                               "deduplicate": self.data_settings.deduplicate, "embeddings": self.embeddings,
                               "units_meta": self.train_units.meta}}

    # ------------------------------------------------------------------------------------------ data
    def build_data(self, seed: int, world_size: int, rank: int) -> TrainingData:
        d = self.data_settings
        train_lengths = [len(s) + 1 for s in self.train_units.sequences]
        dev_lengths = [len(s) + 1 for s in self.dev_units.sequences]
        sampler = PairBatchSampler(train_lengths, d.max_tokens, shuffle=True, num_buckets=d.num_buckets,
                                   seed=seed, world_size=world_size, rank=rank)
        dev_sampler = PairBatchSampler(dev_lengths, d.dev_max_tokens or d.max_tokens, shuffle=False,
                                       num_buckets=d.num_buckets, seed=seed)
        return TrainingData(sampler=sampler, train_loader=self._loader(self.train_units, sampler, seed),
                            dev_loader=self._loader(self.dev_units, dev_sampler, seed))

    def _loader(self, data: UnitSequences, sampler: PairBatchSampler, seed: int) -> torch.utils.data.DataLoader:
        # the loader's own generator: iter(loader) must not draw on torch's global one (see make_pair_loader)
        return torch.utils.data.DataLoader(UnitBatches(data, self.model_config), sampler=sampler, batch_size=None,
                                           num_workers=self.data_settings.num_workers, persistent_workers=False,
                                           generator=torch.Generator().manual_seed(seed))

    # ------------------------------------------------------------------------------------------ loss
    def _scores(self, models: Models, batch: Batch) -> TokenScores:
        return token_scores(models[MODEL_NAME], {k: batch[k].to(self.device) for k in ("inputs", "targets",
                                                                                          "lengths")})

    def compute_loss(self, models: Models, batch: Batch) -> Tuple[torch.Tensor, Dict[str, float], int]:
        """Mean negative log-likelihood per predicted token; the throughput counts tokens."""
        scores = self._scores(models, batch)
        tokens = int(scores.mask.sum())
        loss = -scores.log_probs.sum() / max(tokens, 1)
        return loss, {"loss": float(loss.detach()), "ppl": math.exp(min(float(loss.detach()), 50.0))}, tokens

    def validate(self, models: Models, loader: Iterable[Batch]) -> Dict[str, float]:
        """Dev loss and perplexity per predicted token, and the top-1 next-unit error rate."""
        nll, tokens, wrong = 0.0, 0, 0
        for batch in loader:
            scores = self._scores(models, batch)
            nll -= float(scores.log_probs.double().sum())
            tokens += int(scores.mask.sum())
            wrong += int((scores.best.cpu() != batch["targets"])[scores.mask.cpu()].sum())
        loss = nll / max(tokens, 1)
        return {"loss": loss, "ppl": math.exp(min(loss, 50.0)), "error_rate": 100.0 * wrong / max(tokens, 1),
                "tokens": float(tokens)}

    def plot_panels(self) -> List[PlotPanel]:
        return [("perplexity per unit", [("train", "ppl"), ("dev", "ppl")])]
