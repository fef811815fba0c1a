"""The one training loop of phonasr: every model (S2P, subword CTC, P2G, G2P, JSA) is trained by :class:`Trainer`.

What the loop guarantees, whatever the task:

* data: built by the task (by default duration-bucketed batches over the (multilingual) feature manifests with
  untrainable cuts counted and logged; token tasks batch TSV pairs by tokens) and resumable inside an epoch;
* DDP under torchrun (gradient sync only on the last micro-batch of an accumulation window), AMP on GPU only,
  gradient clipping, Adam/AdamW with a noam or plateau schedule, early stopping on a dev metric;
* batches whose loss is NaN/inf are skipped on every rank (logged with their utterance ids) and training aborts
  after ``max_bad_batches`` in a row;
* ``last.pt`` holds the whole state (the task's per-rank states and, once, its state shared by all ranks), so
  rerunning after a kill continues the same trajectory; the best ``keep_best`` validations are kept as model
  files and ``final.pt`` averages the best ``average_best``, unless the average validates worse than the best
  single checkpoint (a short run still improving fast, whose best checkpoints lie far apart): then it is that one.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, TypeVar

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from phonasr.batching.cuts import Batch
from phonasr.models.stored import model_checkpoint
from phonasr.train.checkpoint import (
    TRAINING_STATE,
    BestCheckpoints,
    capture_rng_state,
    restore_rng_state,
    write_averaged_model,
)
from phonasr.train.distributed import DistContext
from phonasr.train.monitor import TrainingMonitor
from phonasr.train.optim import build_optimizer, set_lr_scale
from phonasr.train.schedule import EarlyStopping, build_schedule
from phonasr.train.settings import parse_section
from phonasr.train.task import Models, build_task
from phonasr.utils.io import atomic_torch_save, load_checkpoint
from phonasr.utils.runinfo import set_seed

log = logging.getLogger(__name__)

LAST = "last.pt"
FINAL = "final.pt"
T = TypeVar("T")


@dataclasses.dataclass
class TrainSettings:
    """The ``train:`` section of a config."""

    max_epochs: int = 10
    max_steps: int = 0               # optimiser steps; 0 = no limit
    accum_grad: int = 1              # micro-batches per optimiser step
    grad_clip: float = 5.0           # max gradient norm; 0 = no clipping
    amp: bool = True                 # mixed precision, used on GPU only
    amp_dtype: str = "float16"       # float16 (with loss scaling) or bfloat16
    device: str = "auto"             # auto | cpu | cuda
    valid_every_steps: int = 0       # 0 = validate after every epoch
    save_every_steps: int = 0        # extra last.pt saves between validations; 0 = only at validations
    log_every_steps: int = 50
    metric: str = "error_rate"       # key of the task's validation metrics driving best-N, plateau and early stop
    keep_best: int = 3
    average_best: int = 3
    early_stop_patience: int = 0     # validations without improvement before stopping; 0 = never
    max_bad_batches: int = 10        # consecutive non-finite batches before aborting
    find_unused_parameters: bool = False  # DDP: set when a task does not use every model in every step

    def __post_init__(self) -> None:
        if self.amp_dtype not in ("float16", "bfloat16"):
            raise ValueError(f"train.amp_dtype must be float16 or bfloat16, not '{self.amp_dtype}'")


def average_stats(stats: Sequence[Mapping[str, float]]) -> Dict[str, float]:
    """Mean of each statistic over the batches that reported it (a batch without labelled utterances has no
    PER to report; counting it as 0 would make the logged PER depend on how often that happens)."""
    sums: Dict[str, float] = {}
    counts: Dict[str, int] = {}
    for batch_stats in stats:
        for key, value in batch_stats.items():
            sums[key] = sums.get(key, 0.0) + float(value)
            counts[key] = counts.get(key, 0) + 1
    return {key: sums[key] / counts[key] for key in sorted(sums)}


def _with_last_flag(items: Iterable[T]) -> Iterator[Tuple[T, bool]]:
    """Yield (item, is_last): the last micro-batch of an epoch must also synchronise gradients."""
    it = iter(items)
    try:
        current = next(it)
    except StopIteration:
        return
    for following in it:
        yield current, False
        current = following
    yield current, True


class Trainer:
    def __init__(self, config: Mapping[str, Any], exp_dir: str | Path, dist: DistContext) -> None:
        self.config = dict(config)
        self.exp_dir = Path(exp_dir)
        self.dist = dist
        self.settings: TrainSettings = parse_section(TrainSettings, config.get("train"), "train")
        self.seed = int(config.get("seed", 0))
        self.device = dist.device
        s = self.settings
        self.amp = s.amp and self.device.type == "cuda"
        if s.amp and not self.amp:
            log.info("AMP requested but training runs on %s: using float32", self.device)

        set_seed(self.seed)  # identical initial models on every rank
        self.task = build_task(self.config, self.device)
        self.task.set_distributed(dist)
        models = self.task.build_models()
        resume_state = self._read_last_checkpoint()
        if resume_state is None:
            models = self.task.initialize(models)
        self.models: Models = {name: m.to(self.device) for name, m in models.items()}
        self.optimizer = build_optimizer(self.models, config.get("optim", {}))
        self.schedule = build_schedule(config.get("schedule", {}))
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp and s.amp_dtype == "float16")
        self.early_stopping = EarlyStopping(s.early_stop_patience)
        self.best = BestCheckpoints(self.exp_dir, s.keep_best)
        self.monitor = TrainingMonitor(self.exp_dir) if dist.is_main else None
        self.epoch, self.step, self.batches_done, self.finished = 1, 0, 0, False
        self.last_validated_step = -1
        self.data = self.task.build_data(self.seed, dist.world_size, dist.rank)
        if resume_state is not None:
            self._resume(resume_state)
        else:
            set_seed(self.seed + dist.rank)
            log.info("new run: seed %d (rank %d draws from seed %d)", self.seed, dist.rank, self.seed + dist.rank)
        self.train_models = self._wrap_ddp()
        self.window_batches = self.window_good = 0  # micro-batches (all / usable) of the accumulation window
        self.bad_in_a_row = 0
        self._lr = 0.0
        self._reset_log_interval()

    # ----------------------------------------------------------------------------------------------- setup
    def _read_last_checkpoint(self) -> Optional[Dict[str, Any]]:
        path = self.exp_dir / LAST
        if not path.is_file():
            return None
        state = load_checkpoint(path)
        if state.get("kind") != TRAINING_STATE:
            raise ValueError(f"{path} is not a training state; move it away to start a new run")
        return state

    def _wrap_ddp(self) -> Models:
        if not self.dist.distributed:
            return dict(self.models)
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return {name: DistributedDataParallel(m, device_ids=device_ids,
                                              find_unused_parameters=self.settings.find_unused_parameters)
                for name, m in self.models.items()}

    def _resume(self, state: Mapping[str, Any]) -> None:
        for name, model in self.models.items():
            model.load_state_dict(state["models"][name])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.scaler.load_state_dict(state["scaler"])
        self.early_stopping.load_state_dict(state["early_stopping"])
        self.best.load_state_dict(state["best"])
        if self.monitor is not None:
            self.monitor.history = list(state["history"])
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        self.batches_done, self.finished = int(state["batches_done"]), bool(state["finished"])
        self.last_validated_step = int(state["last_validated_step"])
        if state["sampler"] != self.data.sampler.settings():
            log.warning("sampler settings changed since the checkpoint (%s -> %s): the resumed run sees other "
                        "batches than the interrupted one would have", state["sampler"], self.data.sampler.settings())
        if state["config"] != self.config:
            changed = sorted(k for k in set(state["config"]) | set(self.config)
                             if state["config"].get(k) != self.config.get(k))
            log.warning("config sections changed since the checkpoint: %s", ", ".join(changed))
        per_rank: List[Mapping[str, Any]] = state["per_rank"]
        if len(per_rank) != self.dist.world_size:
            log.warning("checkpoint was written by %d processes, now %d: RNG and task states are reused modulo "
                        "the old world size, so the trajectory differs", len(per_rank), self.dist.world_size)
        mine = per_rank[self.dist.rank % len(per_rank)]
        self.task.load_state_dict(mine["task"])
        self.task.load_shared_state_dict(state.get("task_shared", {}))
        restore_rng_state(mine["rng"])
        log.info("resumed from %s: epoch %d, step %d, %d batches into the epoch", self.exp_dir / LAST,
                 self.epoch, self.step, self.batches_done)

    # ----------------------------------------------------------------------------------------------- loop
    def run(self) -> Path:
        """Train until max_epochs / max_steps / early stop, then write ``final.pt``; return its path."""
        for model in self.models.values():
            model.train()
        s = self.settings
        while not self.finished and self.epoch <= s.max_epochs and not self._step_limit_reached():
            stop = self._train_epoch()
            if not stop:
                self.epoch, self.batches_done = self.epoch + 1, 0
                stop = self._validate() if s.valid_every_steps == 0 else False
                self._save_last()
            self.finished = stop
        if self.last_validated_step != self.step:
            self._validate()
        self.finished = True
        self._save_last()
        return self._write_final()

    def _step_limit_reached(self) -> bool:
        return 0 < self.settings.max_steps <= self.step

    def _train_epoch(self) -> bool:
        """One pass (or its remainder after a resume) over the training batches; True means stop training."""
        self.data.sampler.start_epoch(self.epoch, self.batches_done)
        if self.batches_done == 0:  # a resumed epoch already had its start (its effects are in the task state)
            self.task.on_epoch_start(self.epoch)
        accum = self.settings.accum_grad
        progress = tqdm(desc=f"epoch {self.epoch}", unit="batch", initial=self.batches_done, file=sys.stderr,
                        disable=not self.dist.is_main, mininterval=1.0 if sys.stderr.isatty() else 30.0)
        try:
            for batch, is_last in _with_last_flag(self.data.train_loader):
                self.batches_done += 1
                self.window_batches += 1
                self._forward_backward(batch, sync=self.window_batches == accum or is_last)
                progress.update(1)
                if self.window_batches < accum and not is_last:
                    continue
                if self._optimizer_step() and self._after_step(progress):
                    return True
        finally:
            progress.close()
        return False

    def _reset_log_interval(self) -> None:
        """Statistics accumulated between two training log lines."""
        self._log_stats: List[Dict[str, float]] = []
        self._log_frames = 0
        self._grad_norms: List[float] = []
        self._log_start = time.monotonic()

    def _forward_backward(self, batch: Batch, sync: bool) -> None:
        with contextlib.ExitStack() as stack:
            if self.dist.distributed and not sync:
                for model in self.train_models.values():
                    stack.enter_context(model.no_sync())
            with torch.autocast(self.device.type, dtype=getattr(torch, self.settings.amp_dtype),
                                enabled=self.amp):
                loss, stats, frames = self.task.compute_loss(self.train_models, batch)
            finite = bool(torch.isfinite(loss).all().item())
            if not self.dist.all_true(finite):
                self._skip_bad_batch(batch, finite)
                return
            self.bad_in_a_row = 0
            self.window_good += 1
            self.scaler.scale(loss / self.settings.accum_grad).backward()
        self._log_stats.append(stats)
        self._log_frames += frames

    def _skip_bad_batch(self, batch: Batch, finite_here: bool) -> None:
        """Drop a batch whose loss is not finite on some rank.

        A zero-valued backward over every parameter still runs: under DDP it releases the gradient all-reduce
        that the other ranks' backward passes wait for, and it adds nothing to the accumulated gradients.
        """
        self.bad_in_a_row += 1
        ids = ", ".join(batch["utt_ids"][:20])
        if finite_here:
            log.warning("skipping batch: another rank had a non-finite loss (%d in a row)", self.bad_in_a_row)
        else:
            log.warning("non-finite loss, skipping batch (%d in a row) of utterances: %s", self.bad_in_a_row, ids)
        params = [p for m in self.models.values() for p in m.parameters() if p.requires_grad]
        sum(p.sum() * 0.0 for p in params).backward()
        if self.bad_in_a_row >= self.settings.max_bad_batches:
            raise RuntimeError(
                f"{self.bad_in_a_row} batches in a row had a non-finite loss (last utterances: {ids}); training "
                "diverged or the data is broken: lower optim.lr, raise schedule.warmup_steps, or check those cuts")

    def _optimizer_step(self) -> bool:
        """Apply the accumulated gradients; False when the window produced no usable gradient."""
        good = self.window_good
        self.window_batches = self.window_good = 0
        if good == 0:
            self.optimizer.zero_grad(set_to_none=True)
            return False
        self.scaler.unscale_(self.optimizer)
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        max_norm = self.settings.grad_clip if self.settings.grad_clip > 0 else math.inf
        grad_norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
        if not math.isfinite(grad_norm) and not self.scaler.is_enabled():
            self.optimizer.zero_grad(set_to_none=True)
            self.bad_in_a_row += 1
            log.warning("non-finite gradient norm, skipping the update (%d in a row)", self.bad_in_a_row)
            if self.bad_in_a_row >= self.settings.max_bad_batches:
                raise RuntimeError(f"{self.bad_in_a_row} non-finite updates in a row: lower optim.lr")
            return False
        self._lr = set_lr_scale(self.optimizer, self.schedule.scale(self.step + 1))
        self.scaler.step(self.optimizer)  # with float16 AMP this skips steps whose gradients overflowed
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        self._grad_norms.append(grad_norm)
        return True

    def _after_step(self, progress: tqdm) -> bool:
        """Logging, periodic validation and saving after optimiser step ``self.step``; True means stop."""
        s = self.settings
        if self.step % s.log_every_steps == 0:
            self._log_train(progress)
        stop = False
        if s.valid_every_steps > 0 and self.step % s.valid_every_steps == 0:
            stop = self._validate()
            self._save_last()
        elif s.save_every_steps > 0 and self.step % s.save_every_steps == 0:
            self._save_last()
        return stop or self._step_limit_reached()

    def _log_train(self, progress: tqdm) -> None:
        values = average_stats(self._log_stats)
        elapsed = max(time.monotonic() - self._log_start, 1e-6)
        values.update(lr=self._lr, grad_norm=sum(self._grad_norms) / max(len(self._grad_norms), 1),
                      frames_per_s=self._log_frames / elapsed)
        progress.set_postfix(loss=f"{values.get('loss', float('nan')):.3f}", lr=f"{self._lr:.2e}",
                             fps=f"{values['frames_per_s']:.0f}", refresh=False)
        log.info("epoch %d step %d: %s", self.epoch, self.step, " ".join(f"{k}={v:.4g}" for k, v in values.items()))
        if self.monitor is not None:
            self.monitor.record("train", self.step, values)
        self._reset_log_interval()

    # ----------------------------------------------------------------------------------------------- validation
    def _validate(self) -> bool:
        """Dev metrics (computed on rank 0, shared with all), best-N, schedule and early stop; True = stop."""
        metrics: Optional[Dict[str, float]] = None
        if self.dist.is_main:
            start = time.monotonic()
            for model in self.models.values():
                model.eval()
            with torch.no_grad():
                metrics = self.task.validate(self.models, self.data.dev_loader)
            for model in self.models.values():
                model.train()
            log.info("validation at step %d (%.1f s): %s", self.step, time.monotonic() - start,
                     " ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
        metrics = self.dist.broadcast_object(metrics)
        if self.settings.metric not in metrics:
            raise KeyError(f"train.metric '{self.settings.metric}' is not among the task's validation metrics "
                           f"({', '.join(metrics)})")
        value = float(metrics[self.settings.metric])
        self.last_validated_step = self.step
        self.schedule.on_validation(value)
        stop = self.early_stopping.update(value)
        if self.monitor is not None:
            self.monitor.record("dev", self.step, metrics)
            self.monitor.plot(self.task.error_rate_name, self.task.plot_panels())
            payload = model_checkpoint(self.models, self.config, self.task.checkpoint_metadata(), step=self.step,
                                       epoch=self.epoch, metrics=dict(metrics))
            if self.best.offer(value, self.step, payload):
                log.info("step %d is among the %d best by %s=%.4g", self.step, self.best.keep, self.settings.metric,
                         value)
        if stop:
            log.info("early stop: %s has not improved for %d validations (best %.4g)", self.settings.metric,
                     self.settings.early_stop_patience, self.early_stopping.best)
        return stop

    # ----------------------------------------------------------------------------------------------- checkpoints
    def _save_last(self) -> None:
        per_rank = self.dist.all_gather_object({"rng": capture_rng_state(), "task": self.task.state_dict()})
        if not self.dist.is_main:
            return
        state = model_checkpoint(self.models, self.config, self.task.checkpoint_metadata())
        state.update(
            kind=TRAINING_STATE, optimizer=self.optimizer.state_dict(), schedule=self.schedule.state_dict(),
            scaler=self.scaler.state_dict(), early_stopping=self.early_stopping.state_dict(),
            best=self.best.state_dict(), history=self.monitor.history, epoch=self.epoch, step=self.step,
            batches_done=self.batches_done, finished=self.finished, last_validated_step=self.last_validated_step,
            sampler=self.data.sampler.settings(), per_rank=per_rank, task_shared=self.task.shared_state_dict(),
            world_size=self.dist.world_size,
        )
        atomic_torch_save(state, self.exp_dir / LAST)

    def _write_final(self) -> Path:
        final = self.exp_dir / FINAL
        if self.dist.is_main:
            paths = self.best.paths(self.settings.average_best)
            averaged = write_averaged_model(paths, final)
            if len(paths) > 1:
                self._fall_back_if_average_is_worse(averaged["models"], paths[0], final)
            self.monitor.close()
        self.dist.barrier()
        return final

    def _fall_back_if_average_is_worse(self, averaged: Mapping[str, Mapping[str, torch.Tensor]], best: Path,
                                       final: Path) -> None:
        """Validate the averaged models; if they are worse than the best checkpoint, make that one ``final.pt``.

        Averaging helps checkpoints near one optimum; on a short run whose best checkpoints are still far apart
        (a dev PER of 100, 76 and 28 at three validations) the mean of their weights can be worse than any of them.
        """
        for name, model in self.models.items():
            model.load_state_dict(averaged[name])
            model.eval()
        with torch.no_grad():
            metrics = self.task.validate(self.models, self.data.dev_loader)
        value, best_value = float(metrics[self.settings.metric]), self.best.entries[0]["metric"]
        log.info("averaged model: %s=%.4g (best single checkpoint %s: %.4g)", self.settings.metric, value,
                 best.name, best_value)
        if value > best_value:
            log.info("the average is worse than %s: final.pt is that checkpoint instead", best.name)
            write_averaged_model([best], final)
