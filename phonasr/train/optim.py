"""The one optimiser of a training run, over the parameters of all the task's models.

Each model gets its own parameter group (``name`` = model name) with a ``base_lr``; the schedule's multiplier is
applied to every group's ``base_lr``, so per-model rates (``optim.lr: {s2p: 3e-5, p2g: 1e-4}``) keep their ratio.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch

from phonasr.train.settings import spelling_fix
from phonasr.utils.config import ConfigError

_OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}


def build_optimizer(models: Mapping[str, torch.nn.Module], cfg: Mapping[str, Any]) -> torch.optim.Optimizer:
    """``optim:`` section -> Adam/AdamW. Keys: name, lr (float or per-model mapping), betas, eps, weight_decay."""
    cfg = dict(cfg)
    name = cfg.pop("name", "adamw")
    if name not in _OPTIMIZERS:
        raise ConfigError(f"unknown optim.name '{name}'", f"use one of {', '.join(_OPTIMIZERS)}")
    lr = cfg.pop("lr", 1e-3)
    unknown = set(cfg) - {"betas", "eps", "weight_decay"}
    if unknown:
        raise ConfigError(f"unknown optim settings: {', '.join(sorted(unknown))}",
                          spelling_fix(sorted(unknown), ["betas", "eps", "lr", "name", "weight_decay"], "optim"))
    if "betas" in cfg:
        cfg["betas"] = tuple(float(b) for b in cfg["betas"])
    groups = []
    for model_name, model in models.items():
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            continue
        base_lr = float(lr[model_name] if isinstance(lr, Mapping) else lr)
        groups.append({"params": params, "name": model_name, "base_lr": base_lr, "lr": base_lr})
    if not groups:
        raise ValueError("the task's models have no trainable parameters")
    return _OPTIMIZERS[name](groups, **cfg)


def set_lr_scale(optimizer: torch.optim.Optimizer, scale: float) -> float:
    """Set every group's lr to ``base_lr * scale``; return the first group's lr (for logging)."""
    for group in optimizer.param_groups:
        group["lr"] = group["base_lr"] * scale
    return optimizer.param_groups[0]["lr"]

