"""Build a CTC model from the ``model:`` section of a training config.

The section names an encoder ``type`` (``conformer`` or ``transformer``), optionally a ``preset`` whose sizes
are the defaults, and any size to override::

    model: {type: conformer, preset: whistle_s}
    model: {type: conformer, preset: tiny, num_blocks: 3}
    model: {type: transformer, preset: spg, upsample: 2}

Unknown keys are errors, so a typo in a config cannot silently fall back to a default size.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Mapping, Optional

from phonasr.models.conformer import ConformerConfig, ConformerEncoder
from phonasr.models.ctc_model import CtcModel
from phonasr.models.transformer import TokenTransformerEncoder, TransformerConfig

PRESETS: Dict[str, Dict[str, Dict[str, Any]]] = {
    "conformer": {
        # tests and the mini recipe on a CPU. The front end's second convolution (channels² x 9 per output cell)
        # costs more than both blocks together at 96 channels; 32 make a training step 2.6x faster on 2 cores
        # (223 -> 87 ms for 40 s of speech)
        "tiny": {"num_blocks": 2, "d_model": 96, "num_heads": 4, "ffn_dim": 384, "conv_kernel": 15,
                 "subsampling_channels": 32},
        # Whistle-S (arXiv 2406.02166): 14 blocks, d 512, 4 heads, conv kernel 15, ~90M parameters. The paper
        # does not give the front end's channel count; 256 (CAT configs call it conv_multiplier) gives 91.6M,
        # 512 would give 95.8M.
        "whistle_s": {"num_blocks": 14, "d_model": 512, "num_heads": 4, "ffn_dim": 2048, "conv_kernel": 15,
                      "subsampling_channels": 256},
    },
    "transformer": {
        "tiny": {"num_layers": 2, "d_model": 96, "num_heads": 4, "ffn_dim": 192},
        # the P2G / G2P of JSA-SPG (arXiv 2507.06249): 8 layers, d 512, 4 heads, FFN 1024
        "spg": {"num_layers": 8, "d_model": 512, "num_heads": 4, "ffn_dim": 1024},
    },
}

_CONFIGS = {"conformer": ConformerConfig, "transformer": TransformerConfig}


def model_config(cfg: Mapping[str, Any]) -> ConformerConfig | TransformerConfig:
    """The typed encoder config of a ``model:`` section (preset values overridden by explicit keys)."""
    cfg = dict(cfg)
    kind = cfg.pop("type", None)
    if kind not in _CONFIGS:
        raise ValueError(f"model.type must be one of {sorted(_CONFIGS)}, got {kind!r}")
    preset = cfg.pop("preset", None)
    values: Dict[str, Any] = {}
    if preset is not None:
        if preset not in PRESETS[kind]:
            raise ValueError(f"unknown {kind} preset {preset!r}; choose from {sorted(PRESETS[kind])}")
        values.update(PRESETS[kind][preset])
    config_cls = _CONFIGS[kind]
    allowed = {f.name for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(cfg) - allowed)
    if unknown:
        raise ValueError(f"unknown {kind} model settings {unknown}; allowed: type, preset, "
                         f"{', '.join(sorted(allowed))}")
    values.update(cfg)
    return config_cls(**values)


def architecture(cfg: Mapping[str, Any]) -> ConformerConfig | TransformerConfig:
    """The parts of a ``model:`` section that the weights depend on or that change what the model computes:
    its typed config with dropout zeroed. Dropout is a training choice, free to differ when a run starts from
    another run's weights; two sections with equal architectures load each other's weights with the same meaning
    (``num_heads`` changes no weight shape, so a strict ``load_state_dict`` alone would not notice it)."""
    return dataclasses.replace(model_config(cfg), dropout=0.0)


def build_model(cfg: Mapping[str, Any], vocab_size: int, input_vocab_size: Optional[int] = None) -> CtcModel:
    """A freshly initialised CTC model with ``vocab_size`` outputs (id 0 = blank).

    Token models (``type: transformer``) also need ``input_vocab_size``, the size of their input tokenizer.
    """
    encoder_cfg = model_config(cfg)
    if isinstance(encoder_cfg, ConformerConfig):
        return CtcModel(ConformerEncoder(encoder_cfg), vocab_size)
    if input_vocab_size is None:
        raise ValueError("a transformer (P2G/G2P) model needs input_vocab_size, the size of its input tokenizer")
    return CtcModel(TokenTransformerEncoder(encoder_cfg, input_vocab_size), vocab_size)
