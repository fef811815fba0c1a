"""Checkpoint contents of a resumable training run: RNG capture, the ``last.pt`` kind, and best-N averaging.

Two kinds of file, both plain data (tensors, numbers, strings, lists, dicts) so they load with
``weights_only=True`` through :func:`phonasr.utils.io.load_checkpoint`:

* ``last.pt`` (``kind: training_state``): models, optimiser, schedule, AMP scaler, sampler position, every rank's
  RNG and task state, epoch/step, history and best-N bookkeeping: everything needed to continue the SAME run.
* ``best-step<N>.pt`` and ``final.pt`` (``kind: model``): models only, plus the config and tokenizer metadata that
  decoding needs. ``final.pt`` averages the best checkpoints' parameters.

What both say about the trained models (``models``, ``config``, ``model_specs``) is written and read by
:mod:`phonasr.models.stored`.
"""
from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch

from phonasr.models.stored import StateDict, load_model_checkpoint
from phonasr.utils.io import atomic_torch_save

log = logging.getLogger(__name__)

TRAINING_STATE = "training_state"


def capture_rng_state() -> Dict[str, Any]:
    """Python, NumPy and torch (CPU + every GPU) generator states, as tensors and numbers only."""
    version, mt_state, gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state: Dict[str, Any] = {
        "python": {"version": version, "state": torch.tensor(mt_state, dtype=torch.int64), "gauss": gauss},
        "numpy": {"name": np_name, "keys": torch.from_numpy(np_keys.astype(np.int64)), "pos": int(np_pos),
                  "has_gauss": int(np_has_gauss), "gauss": float(np_gauss)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: Mapping[str, Any]) -> None:
    py = state["python"]
    random.setstate((py["version"], tuple(int(x) for x in py["state"].tolist()), py["gauss"]))
    nps = state["numpy"]
    np.random.set_state((nps["name"], nps["keys"].numpy().astype(np.uint32), nps["pos"], nps["has_gauss"],
                         nps["gauss"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def average_model_states(states: Sequence[Mapping[str, StateDict]]) -> Dict[str, StateDict]:
    """Element-wise mean of floating-point tensors over several ``models`` dicts; integer buffers (e.g. batch
    norm's ``num_batches_tracked``) come from the last state, since a mean of counters means nothing."""
    if not states:
        raise ValueError("no checkpoints to average")
    averaged: Dict[str, StateDict] = {}
    for name, last in states[-1].items():
        out: StateDict = {}
        for key, value in last.items():
            if value.is_floating_point():
                total = torch.zeros_like(value, dtype=torch.float64)
                for s in states:
                    total += s[name][key].to(torch.float64)
                out[key] = (total / len(states)).to(value.dtype)
            else:
                out[key] = value.clone()
        averaged[name] = out
    return averaged


class BestCheckpoints:
    """Keep the ``keep`` best validation results as ``best-step<N>.pt`` model files (lower metric is better)."""

    def __init__(self, directory: str | Path, keep: int) -> None:
        if keep < 1:
            raise ValueError("train.keep_best must be >= 1")
        self.directory = Path(directory)
        self.keep = keep
        self.entries: List[Dict[str, Any]] = []  # {"metric", "step", "file"}, best first

    def offer(self, metric: float, step: int, payload: Dict[str, Any]) -> bool:
        """Save ``payload`` if ``metric`` is among the best ``keep`` so far; delete the file that drops out."""
        if len(self.entries) >= self.keep and metric >= self.entries[-1]["metric"]:
            return False
        name = f"best-step{step}.pt"
        atomic_torch_save(payload, self.directory / name)
        self.entries.append({"metric": float(metric), "step": int(step), "file": name})
        self.entries.sort(key=lambda e: (e["metric"], e["step"]))
        for dropped in self.entries[self.keep:]:
            (self.directory / dropped["file"]).unlink(missing_ok=True)
        self.entries = self.entries[: self.keep]
        return True

    def paths(self, n: Optional[int] = None) -> List[Path]:
        return [self.directory / e["file"] for e in self.entries[: n or self.keep]]

    def state_dict(self) -> Dict[str, Any]:
        return {"keep": self.keep, "entries": [dict(e) for e in self.entries]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.entries = [dict(e) for e in state["entries"]]


def write_averaged_model(paths: Sequence[Path], out_path: str | Path) -> Dict[str, Any]:
    """Average the models of ``paths`` into ``out_path`` (a ``kind: model`` file, loadable by decoding)."""
    ckpts = [load_model_checkpoint(p) for p in paths]
    final = dict(ckpts[0])
    final["models"] = average_model_states([c["models"] for c in ckpts])
    final["averaged_from"] = [str(Path(p).name) for p in paths]
    final["metrics"] = [c.get("metrics", {}) for c in ckpts]
    atomic_torch_save(final, out_path)
    log.info("averaged %d checkpoints (%s) into %s", len(paths), ", ".join(final["averaged_from"]), out_path)
    return final
