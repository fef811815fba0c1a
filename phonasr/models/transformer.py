"""Bidirectional Transformer encoder over token sequences: the P2G (phonemes -> subwords) and G2P
(characters -> phonemes) models of JSA-SPG, both trained with CTC.

CTC needs at least as many input frames as output tokens (more when a token repeats). Instead of dropping the
pairs that violate this (the reference keeps only len(input) > len(output) + 2), ``upsample: r`` repeats every
input token r times, so every pair with len(output) <= r * len(input) (minus repeats) stays trainable; r = 1 is
the reference's behaviour. Repeated copies differ only by their sinusoidal positions, which a small model
hardly tells apart: it then emits the same token on every copy and cannot write two outputs (a digraph, a
word boundary) for one input. ``copy_index: true`` adds a learned embedding of the copy's index (0..r-1), so
each copy knows which it is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Tuple

import torch
from torch import nn

from phonasr.models.masking import lengths_to_mask


@dataclass(frozen=True)
class TransformerConfig:
    """Sizes of a token Transformer encoder (the paper's P2G/G2P: 8 layers, d 512, 4 heads, FFN 1024)."""

    d_model: int = 512
    num_layers: int = 8
    num_heads: int = 4
    ffn_dim: int = 1024
    dropout: float = 0.1
    upsample: int = 1
    copy_index: bool = False  # with upsample r > 1: add a learned embedding of each position's copy index

    def __post_init__(self) -> None:
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model {self.d_model} must be divisible by num_heads {self.num_heads}")
        if self.d_model % 2:
            raise ValueError(f"d_model must be even (sinusoidal positions), got {self.d_model}")
        if self.upsample < 1:
            raise ValueError(f"upsample must be >= 1 (1 = no repetition), got {self.upsample}")


def sinusoidal_positions(length: int, d_model: int, device: torch.device) -> torch.Tensor:
    """(length, d_model) absolute sinusoidal position encodings."""
    pos = torch.arange(length, device=device, dtype=torch.float32)
    inv_freq = torch.exp(torch.arange(0, d_model, 2, device=device, dtype=torch.float32)
                         * (-math.log(10000.0) / d_model))
    angles = pos[:, None] * inv_freq[None, :]
    return torch.stack([angles.sin(), angles.cos()], dim=-1).reshape(length, d_model)


class TokenTransformerEncoder(nn.Module):
    """(tokens (B, L), lengths (B,)) -> (hidden (B, r·L, d_model), r·lengths)."""

    def __init__(self, cfg: TransformerConfig, input_vocab_size: int) -> None:
        super().__init__()
        self.config = cfg
        self.d_model = cfg.d_model
        self.input_vocab_size = input_vocab_size
        self.embed = nn.Embedding(input_vocab_size, cfg.d_model)
        # N(0, 1/d) so that the sqrt(d) scaling in forward gives unit-variance embeddings, on the scale of the
        # sinusoidal positions; torch's default N(0, 1) would make them sqrt(d) times larger and drown the order of
        # the (repeated) tokens, which CTC over the output needs.
        nn.init.normal_(self.embed.weight, std=cfg.d_model ** -0.5)
        self.copy_embed = (nn.Embedding(cfg.upsample, cfg.d_model) if cfg.copy_index and cfg.upsample > 1
                           else None)
        if self.copy_embed is not None:
            nn.init.normal_(self.copy_embed.weight, std=1.0)  # unit variance, like the token embeddings
        self.dropout = nn.Dropout(cfg.dropout)
        layer = nn.TransformerEncoderLayer(cfg.d_model, cfg.num_heads, cfg.ffn_dim, cfg.dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        # nested tensors are off: they only serve post-norm layers and would warn about it
        self.layers = nn.TransformerEncoder(layer, cfg.num_layers, norm=nn.LayerNorm(cfg.d_model),
                                            enable_nested_tensor=False)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        if tokens.dim() != 2:
            raise ValueError(f"expected tokens (B, L), got {tuple(tokens.shape)}")
        valid = lengths_to_mask(lengths, tokens.size(1))
        bad = (tokens < 0) | (tokens >= self.input_vocab_size)
        if bool((bad & valid).any()):
            raise ValueError(f"input token ids must lie in [0, {self.input_vocab_size}); check that the input "
                             "tokenizer matches the one the model was built for")
        x, lengths = self.embed_inputs(tokens.masked_fill(~valid, 0), lengths)
        x = self.layers(self.dropout(x), src_key_padding_mask=~lengths_to_mask(lengths, x.size(1)))
        return x, lengths

    def embed_inputs(self, tokens: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Upsampled token embeddings plus positions (and copy indices): the first layer's input, before dropout.
        ``tokens`` must be valid ids everywhere (padding 0); repetition is an expand, which ONNX traces."""
        r = self.config.upsample
        if r > 1:
            b, n = tokens.shape
            tokens = tokens.unsqueeze(2).expand(b, n, r).reshape(b, n * r)
            lengths = lengths * r
        x = self.embed(tokens) * math.sqrt(self.d_model)
        x = x + sinusoidal_positions(x.size(1), self.d_model, x.device).to(x.dtype)
        if self.copy_embed is not None:
            copy = torch.arange(x.size(1), device=x.device) % r
            x = x + self.copy_embed(copy).to(x.dtype)
        return x, lengths
