"""Viterbi forced alignment: the most probable frame path that collapses to a given label sequence.

The usual CTC trellis over the blank-interleaved target (blank, y1, blank, y2, ..., blank) is run for the whole
batch at once on the device of the log-probabilities; only the cheap back-trace runs on the CPU.
"""
from __future__ import annotations

from typing import List, Sequence

import torch

from phonasr.ctc.common import BLANK, check_log_probs, check_targets, pad_targets


def forced_align(log_probs: torch.Tensor, lengths: torch.Tensor,
                 targets: Sequence[Sequence[int]]) -> List[List[int]]:
    """Per utterance, ``lengths[b]`` frame labels (token ids, 0 = blank) of its best alignment to ``targets[b]``.

    Raises ValueError naming the utterances whose target cannot be aligned in their number of frames.
    """
    check_log_probs(log_probs, lengths)
    b, t_max, v = log_probs.shape
    check_targets(targets, b, v)
    device = log_probs.device
    lengths = lengths.to(device)
    labels, target_lengths = pad_targets(targets, device)
    num_states = 2 * labels.size(1) + 1
    ext = torch.full((b, num_states), BLANK, dtype=torch.long, device=device)
    ext[:, 1::2] = labels
    state_ids = torch.arange(num_states, device=device)
    state_valid = state_ids[None, :] < (2 * target_lengths + 1)[:, None]
    # a label may follow the label two states back directly unless both are the same symbol
    can_skip = (state_ids[None, :] >= 2) & (ext != BLANK)
    can_skip[:, 2:] &= ext[:, 2:] != ext[:, :-2]

    neg_inf = torch.tensor(float("-inf"), device=device)
    emit = log_probs.detach().float().gather(2, ext[:, None, :].expand(b, t_max, num_states))
    score = torch.full((b, num_states), float("-inf"), device=device)
    score[:, :2] = emit[:, 0, :2]
    score = torch.where(state_valid, score, neg_inf)
    backptr = torch.zeros(b, t_max, num_states, dtype=torch.uint8, device=device)
    for t in range(1, t_max):
        prev1 = torch.cat([neg_inf.expand(b, 1), score[:, :-1]], dim=1)
        prev2 = torch.cat([neg_inf.expand(b, 2), score[:, :-2]], dim=1).masked_fill(~can_skip, float("-inf"))
        best, step = torch.stack([score, prev1, prev2], dim=2).max(dim=2)
        new_score = torch.where(state_valid, best + emit[:, t], neg_inf)
        active = (t < lengths)[:, None]
        score = torch.where(active, new_score, score)
        backptr[:, t] = step.to(torch.uint8)

    last = 2 * target_lengths  # final blank; the final label is one state before it
    end_blank = score.gather(1, last[:, None]).squeeze(1)
    end_label = score.gather(1, (last - 1).clamp(min=0)[:, None]).squeeze(1)
    end_label = torch.where(target_lengths > 0, end_label, neg_inf)
    final_score = torch.maximum(end_blank, end_label)
    infeasible = (~torch.isfinite(final_score) | (lengths == 0)).nonzero().flatten().tolist()
    if infeasible:
        raise ValueError(f"utterances {infeasible} cannot be aligned: their targets need more frames than they have "
                         "(count one extra frame for every repeated symbol)")
    state = torch.where(end_label > end_blank, last - 1, last)
    return _backtrace(backptr.cpu(), ext.cpu(), state.cpu(), lengths.cpu())


def _backtrace(backptr: torch.Tensor, ext: torch.Tensor, state: torch.Tensor,
               lengths: torch.Tensor) -> List[List[int]]:
    """Follow the back-pointers from each utterance's final state down to frame 0, all utterances together."""
    b, t_max, _ = backptr.shape
    rows = torch.arange(b)
    path = torch.zeros(b, t_max, dtype=torch.long)
    state = state.clone()
    for t in range(t_max - 1, -1, -1):
        on = t < lengths
        path[on, t] = ext[rows[on], state[on]]
        if t > 0:
            state[on] -= backptr[rows[on], t, state[on]].long()
    return [path[i, : int(lengths[i])].tolist() for i in range(b)]
