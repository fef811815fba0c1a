"""Checkpoint contents: what a resumable training state and a trained model hold, and best-N averaging.

Two kinds of file, both plain data (tensors, numbers, strings, lists, dicts) so they load with
``weights_only=True`` through :func:`phonasr.utils.io.load_checkpoint`:

* ``last.pt`` (``kind: training_state``): models, optimiser, schedule, AMP scaler, sampler position, every rank's
  RNG and task state, epoch/step, history and best-N bookkeeping: everything needed to continue the SAME run.
* ``best-step<N>.pt`` and ``final.pt`` (``kind: model``): models only, plus the config and tokenizer metadata that
  decoding needs. ``final.pt`` averages the best checkpoints' parameters.

Both carry ``model_specs``: per model, its ``model:`` section and the lang dirs and symbols of what it reads and
writes, so one model of a multi-model file (the P2G of a JSA run) can be rebuilt, checked against a tokenizer
and used to initialise another run (:func:`stored_model`). Single-model tasks also keep the top-level
``tokenizer_dir`` and ``symbols`` of their output, which decoding reads.
"""
from __future__ import annotations

import dataclasses
import logging
import random
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch

from phonasr.models import architecture
from phonasr.utils.io import atomic_torch_save, load_checkpoint

log = logging.getLogger(__name__)

TRAINING_STATE = "training_state"
MODEL = "model"
StateDict = Dict[str, torch.Tensor]


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


def model_checkpoint(models: Mapping[str, torch.nn.Module], config: Mapping[str, Any],
                     metadata: Mapping[str, Any], **extra: Any) -> Dict[str, Any]:
    """The ``kind: model`` payload: parameters of every model, the training config and task metadata
    (e.g. ``tokenizer_dir`` and ``symbols``) so a decoder can rebuild the models without the experiment dir."""
    return {"kind": MODEL, "models": {name: _cpu_state(m.state_dict()) for name, m in models.items()},
            "config": dict(config), **dict(metadata), **extra}


def _cpu_state(state: Mapping[str, torch.Tensor]) -> StateDict:
    return {k: v.detach().cpu().clone() for k, v in state.items()}


@dataclasses.dataclass
class ModelSpec:
    """What rebuilding one model needs besides its weights: its ``model:`` section, and the lang dir and symbols
    of its output tokenizer and, for token models (P2G, G2P), of its input tokenizer."""

    config: Dict[str, Any]
    output_dir: Optional[str] = None
    output_symbols: Optional[List[str]] = None
    input_dir: Optional[str] = None
    input_symbols: Optional[List[str]] = None


def specs_metadata(specs: Mapping[str, ModelSpec]) -> Dict[str, Any]:
    """The ``model_specs`` entry of a checkpoint (plain data)."""
    return {"model_specs": {name: dataclasses.asdict(spec) for name, spec in specs.items()}}


@dataclasses.dataclass
class StoredModel:
    """One model of a checkpoint file: its name there, weights and spec."""

    path: str
    name: str
    state: StateDict
    spec: ModelSpec

    def check_symbols(self, side: str, symbols: Sequence[str], lang_dir: str) -> None:
        """Fail unless the model's recorded ``side`` (input/output) symbols are ``symbols`` (the tokenizer of
        ``lang_dir``): same-sized tables in another order would load without error and map every id wrongly."""
        recorded = getattr(self.spec, f"{side}_symbols")
        if recorded is not None and list(recorded) != list(symbols):
            trained_on = getattr(self.spec, f"{side}_dir") or "another lang dir"
            raise ValueError(f"model '{self.name}' of {self.path} was trained with {side} symbols of {trained_on}, "
                             f"which differ from those of {lang_dir}; use the lang dir it was trained with")

    def load_into(self, model: torch.nn.Module, model_section: Mapping[str, Any]) -> None:
        """Strictly load these weights into ``model``, built from the config's ``model_section``: another
        architecture must fail here, naming both sections, not train a half-initialised model. Dropout may differ
        (a training choice no weight depends on); ``num_heads`` changes no weight shape, hence the explicit check."""
        if architecture(self.spec.config) != architecture(model_section):
            raise ValueError(f"model '{self.name}' of {self.path} has the architecture {self.spec.config}, this "
                             f"config's model section is {dict(model_section)}: fine-tuning needs the same "
                             "sizes (only dropout may differ): it needs the same model section as the run it "
                             "starts from")
        try:
            model.load_state_dict(self.state)
        except RuntimeError as e:
            raise ValueError(f"the weights of model '{self.name}' of {self.path} do not fit the model of this "
                             f"config's model section {dict(model_section)}: {e}") from e


def stored_model(ckpt: Mapping[str, Any], path: str | Path, name: Optional[str] = None,
                 prefer: Optional[str] = None) -> StoredModel:
    """Model ``name`` of a loaded checkpoint; without a name, the model called ``prefer`` if the file has one,
    else its only model. Checkpoints without ``model_specs`` (written by hand or by older code) describe their
    model by ``config.model`` and the top-level ``tokenizer_dir``/``symbols``."""
    names = list(ckpt["models"])
    if name is None:
        if prefer in names:
            name = prefer
        elif len(names) == 1:
            name = names[0]
        else:
            raise ValueError(f"{path} holds models {', '.join(names)}: name the one to use (model_name)")
    elif name not in names:
        raise ValueError(f"{path} has no model '{name}'; it holds {', '.join(names)}")
    spec = (ckpt.get("model_specs") or {}).get(name)
    if spec is not None:
        return StoredModel(str(path), name, ckpt["models"][name], ModelSpec(**spec))
    model_cfg = (ckpt.get("config") or {}).get("model")
    if not isinstance(model_cfg, Mapping):
        raise ValueError(f"{path} records no model settings for '{name}' (neither model_specs nor config.model)")
    symbols = ckpt.get("symbols") if len(names) == 1 else None
    return StoredModel(str(path), name, ckpt["models"][name],
                       ModelSpec(dict(model_cfg), ckpt.get("tokenizer_dir"), symbols))


def load_model_checkpoint(path: str | Path) -> Dict[str, Any]:
    """Load a ``kind: model`` or ``kind: training_state`` file (both carry ``models`` and ``config``)."""
    ckpt = load_checkpoint(path)
    if not isinstance(ckpt, dict) or "models" not in ckpt:
        raise ValueError(f"{path} is not a phonasr training checkpoint (no 'models' entry)")
    return ckpt


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
