"""Learning-rate schedules and early stopping, with plain-data state so they resume exactly.

Two schedules cover the recipes: ``noam`` (linear warm-up, then decay with the inverse square root of the step;
for training from scratch) and ``plateau`` (linear warm-up to a fixed rate, reduced by ``factor`` whenever the
validation metric stops improving; for fine-tuning). ``plateau`` with ``factor: 1.0`` is a constant rate.
"""
from __future__ import annotations

import math
from typing import Any, Dict, Optional, Protocol

from phonasr.utils.config import ConfigError


def _improved(value: float, best: Optional[float], min_delta: float) -> bool:
    """Lower is better for every metric the trainer tracks (losses, error rates)."""
    return best is None or value < best - min_delta


class NoamSchedule:
    """``scale(step) = min(step / warmup, sqrt(warmup / step))``: peaks at 1.0 when ``step == warmup``."""

    def __init__(self, warmup_steps: int) -> None:
        if warmup_steps < 1:
            raise ValueError("schedule.warmup_steps must be >= 1 for the noam schedule")
        self.warmup_steps = warmup_steps

    def scale(self, step: int) -> float:
        step = max(step, 1)
        return min(step / self.warmup_steps, math.sqrt(self.warmup_steps / step))

    def on_validation(self, metric: float) -> None:
        """Noam ignores validation results."""

    def state_dict(self) -> Dict[str, Any]:
        return {"warmup_steps": self.warmup_steps}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.warmup_steps = int(state["warmup_steps"])


class PlateauSchedule:
    """Linear warm-up to 1.0, then multiply by ``factor`` after ``patience`` validations without improvement."""

    def __init__(self, warmup_steps: int = 0, factor: float = 0.5, patience: int = 1, min_scale: float = 0.01,
                 min_delta: float = 0.0) -> None:
        if not 0.0 < factor <= 1.0:
            raise ValueError("schedule.factor must be in (0, 1]")
        self.warmup_steps = warmup_steps
        self.factor = factor
        self.patience = patience
        self.min_scale = min_scale
        self.min_delta = min_delta
        self.current = 1.0
        self.best: Optional[float] = None
        self.bad_validations = 0

    def scale(self, step: int) -> float:
        warm = min(1.0, max(step, 1) / self.warmup_steps) if self.warmup_steps > 0 else 1.0
        return warm * self.current

    def on_validation(self, metric: float) -> None:
        if _improved(metric, self.best, self.min_delta):
            self.best = metric
            self.bad_validations = 0
            return
        self.bad_validations += 1
        if self.bad_validations > self.patience:
            self.current = max(self.current * self.factor, self.min_scale)
            self.bad_validations = 0

    def state_dict(self) -> Dict[str, Any]:
        return {"current": self.current, "best": self.best, "bad_validations": self.bad_validations}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.current = float(state["current"])
        self.best = state["best"]
        self.bad_validations = int(state["bad_validations"])


class LrSchedule(Protocol):
    """What the trainer needs from a schedule: a multiplier of the base learning rate per optimiser step."""

    def scale(self, step: int) -> float: ...

    def on_validation(self, metric: float) -> None: ...

    def state_dict(self) -> Dict[str, Any]: ...

    def load_state_dict(self, state: Dict[str, Any]) -> None: ...


def build_schedule(cfg: Dict[str, Any]) -> LrSchedule:
    """``schedule:`` section of a training config -> schedule object (unknown keys are errors)."""
    cfg = dict(cfg or {"name": "plateau", "factor": 1.0})
    name = cfg.pop("name", "plateau")
    try:
        if name == "noam":
            return NoamSchedule(**cfg)
        if name == "plateau":
            return PlateauSchedule(**cfg)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"schedule '{name}': {e}", "fix the schedule: section") from e
    raise ConfigError(f"unknown schedule.name '{name}'", "use noam or plateau")


class EarlyStopping:
    """Stop training after ``patience`` validations without improvement of the tracked metric (0: never)."""

    def __init__(self, patience: int = 0, min_delta: float = 0.0) -> None:
        self.patience = patience
        self.min_delta = min_delta
        self.best: Optional[float] = None
        self.bad_validations = 0

    def update(self, metric: float) -> bool:
        """Record a validation result; return True when training should stop."""
        if _improved(metric, self.best, self.min_delta):
            self.best = metric
            self.bad_validations = 0
        else:
            self.bad_validations += 1
        return self.patience > 0 and self.bad_validations >= self.patience

    def state_dict(self) -> Dict[str, Any]:
        return {"best": self.best, "bad_validations": self.bad_validations}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.best = state["best"]
        self.bad_validations = int(state["bad_validations"])
