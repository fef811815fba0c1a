"""Global per-bin mean and standard deviation of fbank features (the statistics of Kaldi's global CMVN).

Accumulated in float64 over every frame of a training set, so the result does not depend on how the frames
were chunked; the model applies them itself (:class:`phonasr.models.normalization.GlobalCmvn`).
"""
from __future__ import annotations

from typing import Iterable

import torch


class FeatureStats:
    """Running count, sum and sum of squares of feature frames, per bin."""

    def __init__(self, dim: int) -> None:
        self.count = 0
        self.sum = torch.zeros(dim, dtype=torch.float64)
        self.sum_sq = torch.zeros(dim, dtype=torch.float64)

    def add(self, feats: torch.Tensor) -> None:
        """Add the frames of one ``(frames, dim)`` matrix."""
        if feats.dim() != 2 or feats.size(1) != self.sum.numel():
            raise ValueError(f"expected (frames, {self.sum.numel()}) features, got {tuple(feats.shape)}")
        frames = feats.detach().to(torch.float64)
        self.count += frames.size(0)
        self.sum += frames.sum(dim=0)
        self.sum_sq += (frames * frames).sum(dim=0)

    def mean(self) -> torch.Tensor:
        self._check_nonempty()
        return self.sum / self.count

    def std(self) -> torch.Tensor:
        """Population standard deviation per bin (0 for a bin that never varies)."""
        mean = self.mean()
        return (self.sum_sq / self.count - mean * mean).clamp(min=0.0).sqrt()

    def _check_nonempty(self) -> None:
        if self.count == 0:
            raise ValueError("no feature frames were accumulated")


def feature_stats(matrices: Iterable[torch.Tensor], dim: int) -> FeatureStats:
    """Statistics of every frame of ``matrices`` (each ``(frames, dim)``)."""
    stats = FeatureStats(dim)
    for feats in matrices:
        stats.add(feats)
    return stats
