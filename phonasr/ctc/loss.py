"""Per-sequence CTC negative log-likelihood with two interchangeable backends.

``torch`` is ``F.ctc_loss`` and works everywhere; ``k2`` intersects each target's CTC graph with the dense
posteriors (k2 1.23.2 exists only for Python 3.9 + torch 1.12.1, see tests/k2). Both return +inf for a target
that cannot be aligned (too long for its input, counting the blanks that repeats need), never a clamped value:
JSA uses this to reject infeasible proposals.

Gradients: the two backends agree on gradients with respect to anything *before* the log-softmax (model
parameters, logits). With respect to the log-probabilities themselves they differ by a per-frame constant
(torch's kernel returns ``exp(log_probs) - occupancy`` instead of ``-occupancy``), which log-softmax removes.
"""
from __future__ import annotations

import importlib.util
from typing import List, Sequence

import torch
import torch.nn.functional as F

from phonasr.ctc.common import BLANK, check_log_probs, check_targets

BACKENDS = ("auto", "torch", "k2")


def k2_available() -> bool:
    return importlib.util.find_spec("k2") is not None


def ctc_loss(log_probs: torch.Tensor, lengths: torch.Tensor, targets: Sequence[Sequence[int]],
             backend: str = "auto") -> torch.Tensor:
    """(B, T, V) log-probabilities, (B,) valid frame counts, B target id lists -> (B,) float32 NLL (inf if
    infeasible). ``auto`` uses k2 when it is importable, else torch."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    check_log_probs(log_probs, lengths)
    check_targets(targets, log_probs.size(0), log_probs.size(2))
    log_probs = log_probs.float()
    if backend == "k2" or (backend == "auto" and k2_available()):
        return _k2_ctc_loss(log_probs, lengths, targets)
    return _torch_ctc_loss(log_probs, lengths, targets)


def _torch_ctc_loss(log_probs: torch.Tensor, lengths: torch.Tensor,
                    targets: Sequence[Sequence[int]]) -> torch.Tensor:
    flat: List[int] = [t for seq in targets for t in seq]
    target_lengths = torch.tensor([len(seq) for seq in targets], dtype=torch.long)
    device = log_probs.device
    return F.ctc_loss(log_probs.transpose(0, 1), torch.tensor(flat, dtype=torch.long, device=device),
                      lengths.long().to(device), target_lengths.to(device), blank=BLANK, reduction="none",
                      zero_infinity=False)


def _k2_ctc_loss(log_probs: torch.Tensor, lengths: torch.Tensor, targets: Sequence[Sequence[int]]) -> torch.Tensor:
    import k2  # only importable in the k2 environment

    # DenseFsaVec wants its segments sorted by length (longest first); graph i must match segment i
    order = torch.argsort(lengths.cpu(), descending=True)
    segments = torch.stack([order, torch.zeros_like(order), lengths.cpu()[order]], dim=1).to(torch.int32)
    dense = k2.DenseFsaVec(log_probs, segments)
    graphs = k2.ctc_graph([list(targets[i]) for i in order.tolist()], modified=False, device=log_probs.device)
    # an infinite output beam keeps every path: the exact loss, not a pruned approximation
    sorted_loss = k2.ctc_loss(graphs, dense, output_beam=float("inf"), reduction="none", use_double_scores=True)
    loss = torch.empty_like(sorted_loss)
    loss[order.to(loss.device)] = sorted_loss
    return loss.float()
