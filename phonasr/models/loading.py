"""Rebuild a trained model from a phonasr checkpoint (``kind: model`` or ``kind: training_state``).

Checkpoints hold ``models: {name: state_dict}``, the training ``config`` and task metadata such as
``tokenizer_dir`` and ``symbols`` (see phonasr/train/checkpoint.py). Single-model tasks keep the model's
settings in ``config["model"]``; multi-model tasks (JSA) in ``config["models"][name]``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

import torch

from phonasr.models.ctc_model import CtcModel
from phonasr.models.factory import build_model
from phonasr.utils.io import load_checkpoint


@dataclass
class TrainedModel:
    model: CtcModel
    name: str
    checkpoint: Dict[str, Any]  # everything but the weights: config, tokenizer_dir, symbols, ...


def model_section(config: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    models = config.get("models")
    if isinstance(models, Mapping) and isinstance(models.get(name), Mapping):
        return models[name]
    if isinstance(config.get("model"), Mapping):
        return config["model"]
    raise ValueError(f"the checkpoint's config has no settings for model '{name}' (neither model nor models.{name})")


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
    model = build_model(dict(model_section(ckpt.get("config") or {}, model_name)), vocab_size, input_vocab_size)
    model.load_state_dict(state)
    meta = {k: v for k, v in ckpt.items() if k != "models"}
    return TrainedModel(model.to(device).eval(), model_name, meta)
