"""Padding masks shared by the encoders."""
from __future__ import annotations

import torch


def lengths_to_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B,) lengths -> (B, max_len) bool mask, True on the valid (non-padded) positions."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]
