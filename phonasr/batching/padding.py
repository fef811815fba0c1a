"""Padding of variable-length batches, shared by training (feature and token-pair batches), JSA and decoding."""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch
from torch.nn.utils.rnn import pad_sequence

#: Value of the frames that pad a feature batch: one value for stored and on-the-fly features, in training and in
#: decoding, so a batch is the same tensor whichever way its features come. phonasr's Conformer never lets padded
#: frames into valid outputs (valid convolutions, masks), but anything reading the whole tensor sees them.
FEATURE_PAD_VALUE = 0.0


def pad_features(feats: Sequence[torch.Tensor], min_frames: int = 0) -> torch.Tensor:
    """(B, max(T, min_frames), F) batch of ``feats`` padded with :data:`FEATURE_PAD_VALUE`."""
    if not feats:
        raise ValueError("no features to pad")
    batch = pad_sequence(list(feats), batch_first=True, padding_value=FEATURE_PAD_VALUE)
    if batch.size(1) < min_frames:
        extra = batch.new_full((batch.size(0), min_frames - batch.size(1), batch.size(2)), FEATURE_PAD_VALUE)
        batch = torch.cat([batch, extra], dim=1)
    return batch



def pad_ids(seqs: Sequence[Sequence[int]], device: Optional[torch.device] = None
            ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Token id lists -> zero-padded (N, max_len) tensor and (N,) lengths (max_len >= 1, so N can be any size)."""
    lens = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    tokens = torch.zeros((len(seqs), max(int(lens.max()) if len(seqs) else 0, 1)), dtype=torch.long)
    for i, s in enumerate(seqs):
        tokens[i, : len(s)] = torch.as_tensor(list(s), dtype=torch.long)
    return tokens.to(device), lens.to(device)
