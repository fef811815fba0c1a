"""Input checks and small tensor helpers shared by the CTC functions (blank is always id 0)."""
from __future__ import annotations

from typing import List, Sequence, Tuple

import torch

BLANK = 0


def check_log_probs(log_probs: torch.Tensor, lengths: torch.Tensor) -> None:
    """Fail early, with the offending shape or utterance index, on inputs every CTC function rejects."""
    if log_probs.dim() != 3:
        raise ValueError(f"log_probs must be (B, T, V), got shape {tuple(log_probs.shape)}")
    if not log_probs.is_floating_point():
        raise TypeError(f"log_probs must be floating point, got {log_probs.dtype}")
    if lengths.dim() != 1 or lengths.numel() != log_probs.size(0):
        raise ValueError(f"lengths must be (B,) with B = {log_probs.size(0)}, got shape {tuple(lengths.shape)}")
    if log_probs.size(2) < 2:
        raise ValueError("CTC needs a vocabulary of blank plus at least one symbol")
    bad = ((lengths < 0) | (lengths > log_probs.size(1))).nonzero().flatten().tolist()
    if bad:
        raise ValueError(f"lengths of utterances {bad} lie outside [0, {log_probs.size(1)}] (the padded length)")


def check_targets(targets: Sequence[Sequence[int]], batch_size: int, vocab_size: int) -> None:
    if len(targets) != batch_size:
        raise ValueError(f"got {len(targets)} target sequences for a batch of {batch_size}")
    for i, seq in enumerate(targets):
        if any(t <= BLANK or t >= vocab_size for t in seq):
            raise ValueError(f"target {i} has ids outside [1, {vocab_size}) (blank 0 may not be a target): "
                             f"{list(seq)}")


def min_ctc_frames(ids: Sequence[int]) -> int:
    """Fewest CTC frames that can emit ``ids``: one per label plus a blank between equal neighbours."""
    return len(ids) + sum(1 for a, b in zip(ids, ids[1:]) if a == b)


def pad_targets(targets: Sequence[Sequence[int]], device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """Targets -> ((B, U_max) long padded with blank, (B,) lengths), on ``device``."""
    lengths = torch.tensor([len(t) for t in targets], dtype=torch.long)
    padded = torch.zeros(len(targets), max(1, int(lengths.max()) if len(targets) else 1), dtype=torch.long)
    for i, seq in enumerate(targets):
        padded[i, : len(seq)] = torch.as_tensor(list(seq), dtype=torch.long)
    return padded.to(device), lengths.to(device)


def collapse(frame_labels: torch.Tensor, lengths: torch.Tensor) -> List[List[int]]:
    """(N, T) frame labels -> per row the CTC label sequence: merge repeats, drop blanks, ignore padding."""
    t = frame_labels.size(1)
    keep = frame_labels != BLANK
    keep[:, 1:] &= frame_labels[:, 1:] != frame_labels[:, :-1]
    keep &= torch.arange(t, device=frame_labels.device)[None, :] < lengths[:, None]
    counts = keep.sum(dim=1).tolist()
    values = frame_labels[keep].tolist()
    out: List[List[int]] = []
    start = 0
    for n in counts:
        out.append(values[start:start + n])
        start += n
    return out
