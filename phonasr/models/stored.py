"""What a trained model is, as a checkpoint stores it: architecture, weights and the tokenizers it reads and writes.

Training writes it (:func:`model_checkpoint`, :func:`specs_metadata`), and training (fine-tuning, JSA
initialisation), decoding and export read it back through :func:`stored_model`, so there is one reader of the
format. Both checkpoint kinds hold it: ``best-step<N>.pt`` / ``final.pt`` (``kind: model``) and the resumable
``last.pt`` (``kind: training_state``, see :mod:`phonasr.train.checkpoint`):

* ``models``: ``{name: state_dict}``, CPU tensors, so the file loads with ``weights_only=True``;
* ``config``: the training config;
* ``model_specs``: per model, its ``model:`` section and the lang dirs and symbols of what it reads and writes, so
  one model of a multi-model file (the P2G of a JSA run) can be rebuilt and checked against a tokenizer.

Single-model tasks also keep the top-level ``tokenizer_dir`` and ``symbols`` of their output; files without
``model_specs`` (written by hand or by older code) are described by those and ``config.model``.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import torch

from phonasr.models.ctc_model import CtcModel
from phonasr.models.factory import architecture, build_model
from phonasr.tokenizers import Tokenizer, load_tokenizer
from phonasr.utils.io import load_checkpoint

MODEL = "model"
StateDict = Dict[str, torch.Tensor]
# the weights whose first dimension is the size of the output / input tokenizer (input: token models only)
VOCAB_WEIGHTS = {"output": "output.weight", "input": "encoder.embed.weight"}


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

    def vocab_size(self, side: str) -> Optional[int]:
        """The size of the tokenizer the weights were trained for on ``side`` (input/output); None for the input
        of a model that reads features."""
        weight = self.state.get(VOCAB_WEIGHTS[side])
        return None if weight is None else weight.size(0)

    def lang_dir(self, side: str, override: Optional[str] = None) -> str:
        """``override``, else the lang dir of the ``side`` tokenizer recorded at training time."""
        lang_dir = override or getattr(self.spec, f"{side}_dir")
        if not lang_dir:
            raise ValueError(f"model '{self.name}' of {self.path} records no {side} lang dir; pass one "
                             f"(--tokenizer-dir, or --{side}-tokenizer-dir for a token model)")
        return lang_dir

    def tokenizer(self, side: str, lang_dir: str) -> Tokenizer:
        """The tokenizer of ``lang_dir`` after checking that the model's ``side`` was trained with it: its size
        against the weights and its symbols against the recorded ones."""
        tokenizer = load_tokenizer(lang_dir)
        size = self.vocab_size(side)
        if size is not None and tokenizer.vocab_size != size:
            verb = "outputs" if side == "output" else "reads"
            raise ValueError(f"tokenizer {lang_dir} has {tokenizer.vocab_size} tokens but model '{self.name}' "
                             f"{verb} {size}; pass the lang dir it was trained with")
        self.check_symbols(side, tokenizer.symbols, lang_dir)
        return tokenizer

    def check_symbols(self, side: str, symbols: Sequence[str], lang_dir: str) -> None:
        """Fail unless the model's recorded ``side`` (input/output) symbols are ``symbols`` (the tokenizer of
        ``lang_dir``): same-sized tables in another order would load without error and map every id wrongly."""
        recorded = getattr(self.spec, f"{side}_symbols")
        if recorded is not None and list(recorded) != list(symbols):
            trained_on = getattr(self.spec, f"{side}_dir") or "another lang dir"
            raise ValueError(f"model '{self.name}' of {self.path} was trained with {side} symbols of {trained_on}, "
                             f"which differ from those of {lang_dir}; use the lang dir it was trained with")

    def build(self, device: str | torch.device = "cpu") -> CtcModel:
        """The model in eval mode on ``device``, sized by its weights (so a tokenizer is checked against the model
        by :meth:`tokenizer`, not silently assumed)."""
        output_size = self.vocab_size("output")
        if output_size is None:
            raise ValueError(f"model '{self.name}' in {self.path} is not a phonasr CtcModel (no output.weight)")
        model = build_model(dict(self.spec.config), output_size, self.vocab_size("input"))
        self._load_weights(model, f"the model of its recorded model section {dict(self.spec.config)}")
        return model.to(device).eval()

    def load_into(self, model: torch.nn.Module, model_section: Mapping[str, Any]) -> None:
        """Strictly load these weights into ``model``, built from the config's ``model_section``: another
        architecture must fail here, naming both sections, not train a half-initialised model. Dropout may differ
        (a training choice no weight depends on); ``num_heads`` changes no weight shape, hence the explicit check."""
        if architecture(self.spec.config) != architecture(model_section):
            raise ValueError(f"model '{self.name}' of {self.path} has the architecture {self.spec.config}, this "
                             f"config's model section is {dict(model_section)}: fine-tuning needs the same "
                             "sizes (only dropout may differ): it needs the same model section as the run it "
                             "starts from")
        self._load_weights(model, f"the model of this config's model section {dict(model_section)}")

    def _load_weights(self, model: torch.nn.Module, target: str) -> None:
        try:
            model.load_state_dict(self.state)
        except RuntimeError as e:
            raise ValueError(f"the weights of model '{self.name}' of {self.path} do not fit {target}: {e}") from e


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


def load_stored_model(path: str | Path, name: Optional[str] = None, prefer: Optional[str] = None) -> StoredModel:
    """:func:`stored_model` of the checkpoint file ``path``."""
    return stored_model(load_model_checkpoint(path), path, name, prefer)
