"""SpecAugment time and frequency masking applied to a padded feature batch during training.

It runs in the training process on the batch tensor (not in DataLoader workers) and draws from torch's global
generator, whose state is checkpointed, so a resumed run masks exactly as an uninterrupted one would.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class SpecAugment:
    """``freq_masks`` bands of up to ``freq_width`` bins, ``time_masks`` spans of up to ``time_width_ratio`` of
    each utterance (at most ``max_time_width`` frames); masked values are set to the utterance's mean."""

    freq_masks: int = 2
    freq_width: int = 27
    time_masks: int = 10
    time_width_ratio: float = 0.05
    max_time_width: int = 100

    def __call__(self, features: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
        out = features.clone()
        batch, _, num_bins = out.shape
        for b in range(batch):
            length = int(lens[b])
            utt = out[b, :length]
            fill = utt.mean()
            for _ in range(self.freq_masks):
                width = int(torch.randint(0, self.freq_width + 1, ()).item())
                start = int(torch.randint(0, max(1, num_bins - width), ()).item())
                utt[:, start:start + width] = fill
            max_width = min(self.max_time_width, int(self.time_width_ratio * length))
            for _ in range(self.time_masks):
                width = int(torch.randint(0, max_width + 1, ()).item())
                start = int(torch.randint(0, max(1, length - width), ()).item())
                utt[start:start + width, :] = fill
        return out
