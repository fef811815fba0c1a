"""Exact sampling from a CTC distribution p(h | input).

Under CTC, frames are independent given the input and a label sequence is the collapse (merge repeats, drop
blanks) of a frame path, so drawing one symbol per frame from its posterior and collapsing the path draws h with
exactly its CTC probability (the sum over all its alignments). JSA's G2P proposal relies on this exactness.
"""
from __future__ import annotations

from typing import List, Optional

import torch

from phonasr.ctc.common import check_log_probs, collapse


def ctc_sample(log_probs: torch.Tensor, lengths: torch.Tensor, num_samples: int,
               generator: Optional[torch.Generator] = None) -> List[List[List[int]]]:
    """``num_samples`` label sequences per utterance: result[b][k] is sample k of utterance b.

    All B × num_samples paths are drawn in one multinomial call on the device of ``log_probs`` (pass a
    ``generator`` on that device for reproducible draws).
    """
    check_log_probs(log_probs, lengths)
    if num_samples < 1:
        raise ValueError(f"num_samples must be >= 1, got {num_samples}")
    b, t, v = log_probs.shape
    if b == 0 or t == 0:
        return [[[] for _ in range(num_samples)] for _ in range(b)]
    valid = torch.arange(t, device=log_probs.device)[None, :] < lengths.to(log_probs.device)[:, None]
    # padded frames may hold anything (even NaN); give them a harmless uniform row, they are ignored anyway
    probs = log_probs.detach().float().exp().masked_fill(~valid[:, :, None], 1.0)
    paths = torch.multinomial(probs.reshape(b * t, v), num_samples, replacement=True, generator=generator)
    paths = paths.view(b, t, num_samples).permute(0, 2, 1).reshape(b * num_samples, t)
    sequences = collapse(paths, lengths.to(log_probs.device).repeat_interleave(num_samples))
    return [sequences[i * num_samples:(i + 1) * num_samples] for i in range(b)]
