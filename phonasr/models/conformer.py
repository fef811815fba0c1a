"""Conformer acoustic encoder (Gulati et al. 2020) as used by Whistle: global CMVN of the fbank input, conv2d ×4
subsampling, then blocks of FFN(½) - relative-position MHSA - convolution module - FFN(½) - LayerNorm.

Padding never leaks into valid frames: attention masks padded keys, the convolution module zeroes padded frames
before its depthwise convolution, and it normalises with LayerNorm instead of BatchNorm (whose batch statistics
would mix padded frames and other utterances into every output). So an utterance decodes to the same posteriors
alone or in any batch, which the decoding and JSA code rely on.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from phonasr.models.masking import lengths_to_mask
from phonasr.models.normalization import GlobalCmvn


@dataclass(frozen=True)
class ConformerConfig:
    """Sizes of a Conformer encoder (see ``phonasr.models.factory`` for the named presets)."""

    input_dim: int = 80
    d_model: int = 144
    num_blocks: int = 4
    num_heads: int = 4
    ffn_dim: int = 576
    conv_kernel: int = 15
    dropout: float = 0.1
    #: channels of the two subsampling convolutions (default: d_model)
    subsampling_channels: Optional[int] = None
    #: normalise the input features with global statistics kept in the model (phonasr.models.normalization)
    global_cmvn: bool = True

    def __post_init__(self) -> None:
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model {self.d_model} must be divisible by num_heads {self.num_heads}")
        if self.conv_kernel % 2 == 0:
            raise ValueError(f"conv_kernel must be odd (same-length convolution), got {self.conv_kernel}")
        if self.input_dim < 7:
            raise ValueError(f"input_dim must be at least 7 for the ×4 conv front end, got {self.input_dim}")


def subsampled_lengths(lengths: torch.Tensor) -> torch.Tensor:
    """Frames after two valid-padding, kernel-3, stride-2 convolutions: ((L - 1) // 2 - 1) // 2, at least 0.

    Each output frame of these convolutions only reads input frames inside the valid part, which is why the
    count is exact and the output of an utterance does not depend on how much padding follows it.
    """
    once = torch.div(lengths - 1, 2, rounding_mode="floor")
    return torch.div(once - 1, 2, rounding_mode="floor").clamp(min=0)


class Conv2dSubsampling(nn.Module):
    """(B, T, F) features -> (B, T', d_model) with T' = subsampled_lengths(T)."""

    MIN_FRAMES = 7

    def __init__(self, input_dim: int, d_model: int, channels: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, channels, kernel_size=3, stride=2), nn.ReLU(),
            nn.Conv2d(channels, channels, kernel_size=3, stride=2), nn.ReLU(),
        )
        freq = ((input_dim - 1) // 2 - 1) // 2
        self.proj = nn.Linear(channels * freq, d_model)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        if x.size(1) < self.MIN_FRAMES:
            raise ValueError(f"input has {x.size(1)} frames; the ×4 conv front end needs at least "
                             f"{self.MIN_FRAMES} (drop such short utterances before batching)")
        y = self.conv(x.unsqueeze(1))  # (B, C, T', F')
        b, c, t, f = y.shape
        y = self.proj(y.transpose(1, 2).reshape(b, t, c * f))
        return y, subsampled_lengths(lengths)


class RelativePositionalEncoding(nn.Module):
    """Sinusoidal embeddings of the relative distances T-1, T-2, ..., -(T-1) (Transformer-XL style).

    They are computed from the distances themselves, so the embedding of a distance is the same whatever the
    padded length of the batch.
    """

    def __init__(self, d_model: int, dropout: float) -> None:
        super().__init__()
        self.d_model = d_model
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.size(1)
        distances = torch.arange(t - 1, -t, -1, device=x.device, dtype=torch.float32)
        inv_freq = torch.exp(torch.arange(0, self.d_model, 2, device=x.device, dtype=torch.float32)
                             * (-math.log(10000.0) / self.d_model))
        angles = distances[:, None] * inv_freq[None, :]
        pe = torch.stack([angles.sin(), angles.cos()], dim=-1).reshape(2 * t - 1, self.d_model)
        return self.dropout(pe.to(x.dtype).unsqueeze(0))


class RelativeMultiHeadAttention(nn.Module):
    """Multi-head self-attention with relative positions: score(i, j) = (q_i + u)·k_j + (q_i + v)·p_{i-j}."""

    def __init__(self, d_model: int, num_heads: int, dropout: float) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.d_head = d_model // num_heads
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.pos_proj = nn.Linear(d_model, d_model, bias=False)
        self.out_proj = nn.Linear(d_model, d_model)
        self.pos_bias_u = nn.Parameter(torch.zeros(num_heads, self.d_head))
        self.pos_bias_v = nn.Parameter(torch.zeros(num_heads, self.d_head))
        nn.init.xavier_uniform_(self.pos_bias_u)
        nn.init.xavier_uniform_(self.pos_bias_v)
        self.dropout = nn.Dropout(dropout)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.size(0), x.size(1), self.num_heads, self.d_head).transpose(1, 2)

    def forward(self, x: torch.Tensor, pos_emb: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        """x (B, T, D); pos_emb (1, 2T-1, D); key_mask (B, T) True on valid frames."""
        b, t, _ = x.shape
        q, k, v = self._heads(self.q_proj(x)), self._heads(self.k_proj(x)), self._heads(self.v_proj(x))
        p = self._heads(self.pos_proj(pos_emb))  # (1, H, 2T-1, d)
        content = torch.matmul(q + self.pos_bias_u[:, None, :], k.transpose(-2, -1))
        position = torch.matmul(q + self.pos_bias_v[:, None, :], p.transpose(-2, -1))  # (B, H, T, 2T-1)
        # column m of `position` holds distance T-1-m; query i, key j needs distance i-j, i.e. m = T-1-i+j
        idx = torch.arange(t, device=x.device)
        rel_index = (idx[None, :] - idx[:, None] + t - 1).expand(b, self.num_heads, t, t)
        scores = (content + position.gather(-1, rel_index)) / math.sqrt(self.d_head)
        padded = ~key_mask[:, None, None, :]
        scores = scores.masked_fill(padded, torch.finfo(scores.dtype).min)
        attn = torch.softmax(scores, dim=-1).masked_fill(padded, 0.0)
        out = torch.matmul(self.dropout(attn), v).transpose(1, 2).reshape(b, t, -1)
        return self.out_proj(out)


class FeedForward(nn.Module):
    def __init__(self, d_model: int, ffn_dim: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(d_model), nn.Linear(d_model, ffn_dim), nn.SiLU(), nn.Dropout(dropout),
                                 nn.Linear(ffn_dim, d_model), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvolutionModule(nn.Module):
    """LayerNorm - pointwise (GLU) - depthwise conv - LayerNorm - SiLU - pointwise, on valid frames only."""

    def __init__(self, d_model: int, kernel: int, dropout: float) -> None:
        super().__init__()
        self.norm_in = nn.LayerNorm(d_model)
        self.pointwise_in = nn.Linear(d_model, 2 * d_model)
        self.depthwise = nn.Conv1d(d_model, d_model, kernel, padding=kernel // 2, groups=d_model)
        self.norm_mid = nn.LayerNorm(d_model)
        self.pointwise_out = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        y = F.glu(self.pointwise_in(self.norm_in(x)), dim=-1)
        y = y.masked_fill(~frame_mask[:, :, None], 0.0)  # padded frames must look like the conv's zero padding
        y = self.depthwise(y.transpose(1, 2)).transpose(1, 2)
        y = self.pointwise_out(F.silu(self.norm_mid(y)))
        return self.dropout(y)


class ConformerBlock(nn.Module):
    def __init__(self, cfg: ConformerConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.ffn1 = FeedForward(d, cfg.ffn_dim, cfg.dropout)
        self.attn_norm = nn.LayerNorm(d)
        self.attn = RelativeMultiHeadAttention(d, cfg.num_heads, cfg.dropout)
        self.attn_dropout = nn.Dropout(cfg.dropout)
        self.conv = ConvolutionModule(d, cfg.conv_kernel, cfg.dropout)
        self.ffn2 = FeedForward(d, cfg.ffn_dim, cfg.dropout)
        self.final_norm = nn.LayerNorm(d)

    def forward(self, x: torch.Tensor, pos_emb: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        x = x + 0.5 * self.ffn1(x)
        x = x + self.attn_dropout(self.attn(self.attn_norm(x), pos_emb, frame_mask))
        x = x + self.conv(x, frame_mask)
        x = x + 0.5 * self.ffn2(x)
        return self.final_norm(x)


class ConformerEncoder(nn.Module):
    """(features (B, T, F), lengths (B,)) -> (hidden (B, T', d_model), lengths (B,))."""

    def __init__(self, cfg: ConformerConfig) -> None:
        super().__init__()
        self.config = cfg
        self.d_model = cfg.d_model
        self.cmvn = GlobalCmvn(cfg.input_dim) if cfg.global_cmvn else None
        self.subsampling = Conv2dSubsampling(cfg.input_dim, cfg.d_model, cfg.subsampling_channels or cfg.d_model)
        self.pos_enc = RelativePositionalEncoding(cfg.d_model, cfg.dropout)
        self.input_dropout = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(ConformerBlock(cfg) for _ in range(cfg.num_blocks))

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        if features.dim() != 3 or features.size(-1) != self.config.input_dim:
            raise ValueError(f"expected features (B, T, {self.config.input_dim}), got {tuple(features.shape)}")
        if self.cmvn is not None:
            features = self.cmvn(features)
        x, lengths = self.subsampling(features, lengths)
        x = self.input_dropout(x)
        pos_emb = self.pos_enc(x)
        mask = lengths_to_mask(lengths, x.size(1))
        for block in self.blocks:
            x = block(x, pos_emb, mask)
        return x, lengths
