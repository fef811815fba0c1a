"""The Task interface: everything model-specific that the one training loop delegates.

The trainer owns the loop (data order, DDP, AMP, accumulation, clipping, checkpoints, schedules, logging); a task
owns the models and the objective. A task may train several models with one optimiser (JSA trains S2P, P2G and
G2P together) and may carry state that must survive a restart (e.g. a cache of sampled phoneme sequences).

Data is the task's too: by default lhotse feature cuts (:func:`phonasr.train.data.feature_data`, with the hooks
``train_manifests`` and ``keep_cut``); a task on other data (token pairs for P2G/G2P) overrides ``build_data``.

Tasks are named in the config (``task: ctc``) or given as ``package.module:ClassName``.
"""
from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Tuple

import torch
from lhotse.cut import Cut

from phonasr.batching.cuts import Batch
from phonasr.train.data import TrainingData, feature_data
from phonasr.train.distributed import DistContext
from phonasr.utils.config import ConfigError

Models = Dict[str, torch.nn.Module]
#: a panel of ``curves.png``: its title and the (split, statistic) series it draws, e.g.
#: ``("acceptance rate", [("train", "accept_rate")])``
PlotPanel = Tuple[str, Sequence[Tuple[str, str]]]

TASKS = {
    "ctc": "phonasr.train.ctc_task:CtcTask",
    "jsa": "phonasr.jsa.task:JsaTask",
    "token_ctc": "phonasr.train.token_task:TokenCtcTask",
    "unit_lm": "phonasr.units.lm_task:UnitLmTask",
    "frame_ce": "phonasr.units.frame_task:FrameCeTask",
}


class Task(ABC):
    """Base class of training tasks; subclasses implement the abstract methods, the rest have defaults.

    ``config`` is the whole training config; ``device`` is where the trainer put the models (tasks move batch
    tensors there themselves, since only they know which entries are tensors the models consume).
    """

    #: name of the validation metric that ``validate`` reports as an error rate (used for the plot title)
    error_rate_name = "error_rate"

    def __init__(self, config: Mapping[str, Any], device: torch.device) -> None:
        self.config = config
        self.device = device
        self.dist = DistContext(rank=0, local_rank=0, world_size=1, device=device)

    def set_distributed(self, dist: DistContext) -> None:
        """The trainer's process group, given before anything else is called: a task whose state must agree across
        ranks (JSA's sample cache) exchanges it through these collectives. Default (and outside a trainer): alone."""
        self.dist = dist

    @abstractmethod
    def build_models(self) -> Models:
        """Freshly initialised models, by name (the names are the keys of ``models`` in checkpoints)."""

    def initialize(self, models: Models) -> Models:
        """Called once for a new run (never on resume): e.g. load pretrained weights. Default: unchanged."""
        return models

    def build_data(self, seed: int, world_size: int, rank: int) -> TrainingData:
        """Training and dev loaders for this process (DDP rank ``rank`` of ``world_size``); every rank must get
        the same number of training batches per epoch. Default: the feature cuts of the ``data:`` section."""
        return feature_data(self, seed, world_size, rank)

    def train_manifests(self, entries: Any) -> Any:
        """Rewrite the ``data.train`` manifest entries before loading (e.g. oversample a subset). Default: as is."""
        return entries

    def keep_cut(self, cut: Cut) -> bool:
        """False for utterances the task cannot learn from (e.g. too short for their CTC target)."""
        return True

    @abstractmethod
    def compute_loss(self, models: Models, batch: Batch) -> Tuple[torch.Tensor, Dict[str, float], int]:
        """Return (loss to minimise, statistics to log, number of input frames (or tokens) processed).

        ``models`` may be DDP wrappers; call them, do not reach into ``.module``. A statistic may be missing from
        some batches (e.g. a PER that needs labelled utterances): the log averages it over those that have it.
        """

    @abstractmethod
    def validate(self, models: Models, loader: Iterable[Batch]) -> Dict[str, float]:
        """Metrics over the dev set (models are in eval mode, gradients are off). Lower is better for each one
        the config may select as ``train.metric``."""

    def on_epoch_start(self, epoch: int) -> None:
        """Hook at the start of every epoch (1-based). Default: nothing to do."""
        return None

    def plot_panels(self) -> List[PlotPanel]:
        """Panels that ``curves.png`` draws after loss, error rate and learning rate: the task's own health
        statistics (from ``compute_loss`` or ``validate``). Default: none."""
        return []

    def checkpoint_metadata(self) -> Dict[str, Any]:
        """Plain data stored in every checkpoint next to the models, e.g. ``tokenizer_dir`` and ``symbols``."""
        return {}

    def state_dict(self) -> Dict[str, Any]:
        """Task state to restore on resume (plain data). Saved for every rank separately; a resume with another
        number of processes reuses them modulo the old world size."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned. Default: stateless, nothing to restore."""
        return None

    def shared_state_dict(self) -> Dict[str, Any]:
        """Task state that every rank holds identically (plain data): saved once, from rank 0, and given back to
        every rank on resume whatever the world size. Default: none."""
        return {}

    def load_shared_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`shared_state_dict` returned (an empty mapping for a checkpoint without one)."""
        return None


def build_task(config: Mapping[str, Any], device: torch.device) -> Task:
    """Instantiate the task the config names (``task: ctc`` or ``task: package.module:ClassName``)."""
    name = config.get("task")
    if not name:
        raise ConfigError("the config names no task", f"add task: one of {', '.join(TASKS)} or "
                          "package.module:ClassName")
    target = TASKS.get(name, name)
    if ":" not in target:
        raise ConfigError(f"unknown task '{name}'", f"use one of {', '.join(TASKS)} or package.module:ClassName")
    module_name, class_name = target.split(":", 1)
    cls = getattr(importlib.import_module(module_name), class_name, None)
    if cls is None or not (isinstance(cls, type) and issubclass(cls, Task)):
        raise ConfigError(f"task '{name}': {target} is not a phonasr.train.task.Task subclass",
                          f"name one, or use one of {', '.join(TASKS)}")
    return cls(config, device)
