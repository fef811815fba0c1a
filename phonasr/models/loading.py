"""Rebuild a trained model from a phonasr checkpoint (``kind: model`` or ``kind: training_state``).

Checkpoints hold ``models: {name: state_dict}``, the training ``config`` and task metadata (see
phonasr/train/checkpoint.py). Each model is described by ``model_specs[name]`` (its ``model:`` section and the lang
dir and symbols of its output tokenizer), so a model can be taken out of a multi-model (JSA) checkpoint; files
without specs describe their one model by ``config["model"]`` and the top-level ``tokenizer_dir``/``symbols``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import torch

from phonasr.models.ctc_model import CtcModel
from phonasr.models.factory import build_model
from phonasr.utils.io import load_checkpoint


@dataclass
class TrainedModel:
    model: CtcModel
    name: str
    tokenizer_dir: Optional[str]  # the lang dir of the model's outputs, as recorded at training time
    symbols: Optional[List[str]]  # the output symbols it was trained with (None: not recorded)
    checkpoint: Dict[str, Any]  # everything but the weights: config, metadata, ...


ModelDescription = Tuple[Mapping[str, Any], Optional[str], Optional[List[str]]]


def model_description(ckpt: Mapping[str, Any], name: str) -> ModelDescription:
    """``(model section, output lang dir, output symbols)`` of model ``name`` in a loaded checkpoint."""
    spec = (ckpt.get("model_specs") or {}).get(name)
    if isinstance(spec, Mapping):
        return spec["config"], spec.get("output_dir"), spec.get("output_symbols")
    config = ckpt.get("config") or {}
    if isinstance(config.get("model"), Mapping):
        single = len(ckpt.get("models") or {}) == 1
        return config["model"], ckpt.get("tokenizer_dir"), ckpt.get("symbols") if single else None
    raise ValueError(f"the checkpoint records no settings for model '{name}' (neither model_specs nor config.model)")


def load_trained_model(path: Union[str, Path], model_name: Optional[str] = None,
                       input_vocab_size: Optional[int] = None, device: Union[str, torch.device] = "cpu"
                       ) -> TrainedModel:
    """The model ``model_name`` of checkpoint ``path`` (the only one when None), in eval mode on ``device``.

    The output size comes from the stored weights, so the tokenizer is checked against the model by the caller
    rather than silently assumed.
    """
    ckpt = load_checkpoint(path)
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("models"), dict):
        raise ValueError(f"{path} is not a phonasr checkpoint (no 'models' entry)")
    names = list(ckpt["models"])
    if model_name is None:
        if len(names) != 1:
            raise ValueError(f"{path} holds models {names}; choose one with --model-name")
        model_name = names[0]
    if model_name not in ckpt["models"]:
        raise ValueError(f"{path} has no model '{model_name}'; it holds {names}")
    state = ckpt["models"][model_name]
    if "output.weight" not in state:
        raise ValueError(f"model '{model_name}' in {path} is not a phonasr CtcModel (no output.weight)")
    vocab_size = state["output.weight"].size(0)
    if input_vocab_size is None and "encoder.embed.weight" in state:
        input_vocab_size = state["encoder.embed.weight"].size(0)
    section, tokenizer_dir, symbols = model_description(ckpt, model_name)
    model = build_model(dict(section), vocab_size, input_vocab_size)
    model.load_state_dict(state)
    meta = {k: v for k, v in ckpt.items() if k != "models"}
    return TrainedModel(model.to(device).eval(), model_name, tokenizer_dir, symbols, meta)
