"""Global mean and variance normalisation of the acoustic features, as the model's first layer.

Why: raw log-mel fbank sits around +16 with a standard deviation of about 3.4 per bin. Fed as it is, the tiny
Conformer of the mini recipe emitted nothing but blanks for the first two of its four pretraining epochs (dev PER
100, 100, 47.7, 22.3); with the inputs normalised it reached PER 31.8 after one epoch and 13.0 after two.

The statistics are buffers of the model, so a fine-tuned or decoded model normalises exactly as it was trained
(crosslingual fine-tuning keeps the pretraining data's statistics), and a checkpoint needs no side file. A model
trained from scratch gets them from its training features (:meth:`GlobalCmvn.set_stats`, called by the CTC
task); until then the layer is the identity.
"""
from __future__ import annotations

import torch
from torch import nn

#: smallest standard deviation a bin is divided by (a bin that never varies is only shifted)
MIN_STD = 1e-2


class GlobalCmvn(nn.Module):
    """``(x - mean) / std`` per feature bin; padded frames change too, but no valid output reads them."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("inv_std", torch.ones(dim))

    def set_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        if mean.shape != self.mean.shape or std.shape != self.mean.shape:
            raise ValueError(f"CMVN statistics of shape {tuple(mean.shape)}/{tuple(std.shape)} for "
                             f"{self.mean.numel()} feature bins")
        if not (torch.isfinite(mean).all() and torch.isfinite(std).all()):
            raise ValueError("CMVN statistics are not finite: the training features hold NaN or inf values; "
                             "recompute the fbank stage")
        self.mean.copy_(mean.to(self.mean))
        self.inv_std.copy_(1.0 / std.to(self.inv_std).clamp(min=MIN_STD))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) * self.inv_std
