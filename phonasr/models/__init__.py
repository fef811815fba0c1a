"""CTC models: the Conformer acoustic encoder (S2P, subword CTC) and the token Transformer (P2G, G2P)."""
from __future__ import annotations

from phonasr.models.conformer import ConformerConfig, ConformerEncoder, subsampled_lengths
from phonasr.models.ctc_model import CtcModel
from phonasr.models.factory import PRESETS, architecture, build_model, model_config
from phonasr.models.remap import NEW_ROW_INITS, RemapReport, remap_output_layer
from phonasr.models.transformer import TokenTransformerEncoder, TransformerConfig

__all__ = [
    "NEW_ROW_INITS", "PRESETS", "ConformerConfig", "ConformerEncoder", "CtcModel", "RemapReport",
    "TokenTransformerEncoder", "TransformerConfig", "architecture", "build_model",
    "model_config", "remap_output_layer", "subsampled_lengths",
]
