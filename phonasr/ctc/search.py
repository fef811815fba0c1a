"""CTC decoding without a language model: greedy (best path) and prefix beam search.

Prefix beam search keeps, per utterance, the ``beam`` best label prefixes with two scores each: the log
probability of all frame paths so far that collapse to the prefix and end in blank (``pb``) or in its last label
(``pnb``). It sums over alignments, so the final scores are label-sequence probabilities, not path scores; with a
beam wide enough to keep every prefix they are the exact CTC probabilities.

Everything is batched: the beams of all utterances are (B, W) tensors and prefixes a (B, W, L) id tensor, so one
frame costs a few dozen tensor operations whatever the batch size, on CPU or GPU. Finding which candidate
prefix is already in the beam compares prefix hashes (O(W²) per frame) instead of the prefixes (O(W²·L)).
"""
from __future__ import annotations

from typing import List, NamedTuple, Tuple

import torch

from phonasr.ctc.common import BLANK, check_log_probs, collapse

PAD = -1
NEG_INF = float("-inf")


class Hypothesis(NamedTuple):
    tokens: List[int]
    log_prob: float


def greedy_search(log_probs: torch.Tensor, lengths: torch.Tensor) -> List[List[int]]:
    """Best path per utterance (argmax per frame), collapsed to a label sequence."""
    check_log_probs(log_probs, lengths)
    return collapse(log_probs.argmax(dim=-1), lengths.to(log_probs.device))


# Prefix identity by two polynomial hashes with different bases modulo the prime 2^31 - 1 (products stay within
# int64): a false match needs both to collide at once between two of the few prefixes alive in one beam.
_HASH_MOD = 2**31 - 1
_HASH_MULT = torch.tensor([1_000_003, 998_244_353 % _HASH_MOD])


def _extend_hash(prefix_hash: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """(..., 2) hashes of prefixes and (...) labels -> (..., 2) hashes of the prefixes with the label appended."""
    mult = _HASH_MULT.to(prefix_hash.device)
    return (prefix_hash * mult + (label + 1)[..., None]) % _HASH_MOD


class _Beams:
    """The beam state of every utterance: prefixes (ids, lengths, last labels, hashes of the prefix and of its
    parent, i.e. the prefix without its last label) and the two scores."""

    def __init__(self, batch: int, beam: int, max_len: int, device: torch.device) -> None:
        self.prefix = torch.full((batch, beam, max(1, max_len)), PAD, dtype=torch.long, device=device)
        self.length = torch.zeros(batch, beam, dtype=torch.long, device=device)
        self.last = torch.full((batch, beam), PAD, dtype=torch.long, device=device)
        self.hash = torch.zeros(batch, beam, 2, dtype=torch.long, device=device)
        self.parent_hash = torch.full((batch, beam, 2), -1, dtype=torch.long, device=device)
        self.pb = torch.full((batch, beam), NEG_INF, device=device)
        self.pb[:, 0] = 0.0  # one live beam: the empty prefix
        self.pnb = torch.full((batch, beam), NEG_INF, device=device)
        self.longest = 0  # no prefix is longer than this

    def total(self) -> torch.Tensor:
        return torch.logaddexp(self.pb, self.pnb)


def _parent_of(beams: _Beams) -> torch.Tensor:
    """(B, W, W) bool: [b, i, j] is True when live prefix j is live prefix i plus one label.

    Such a j receives, besides its own paths, the paths that extend i by j's last label; those must not be
    counted a second time as a separate candidate.
    """
    live = beams.total() > NEG_INF
    same = (beams.hash[:, :, None, :] == beams.parent_hash[:, None, :, :]).all(dim=-1)
    return same & live[:, :, None] & live[:, None, :]


def _candidates(beams: _Beams, frame: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Scores after one more frame (B, V): (stay_pb, stay_pnb) of every prefix kept as it is, (B, W) each, and
    ``appended`` (B, W·(V-1)) of every prefix extended by label c = 1..V-1 (flat index i·(V-1) + c-1)."""
    b, w = beams.pb.shape
    v = frame.size(1)
    total = beams.total()
    # keeping the prefix: a blank, or a repeat of the last label that merges into it
    stay_pb = total + frame[:, BLANK:BLANK + 1]
    last_lp = frame.gather(1, beams.last.clamp(min=0))
    stay_pnb = torch.where(beams.length > 0, beams.pnb + last_lp, torch.full_like(last_lp, NEG_INF))
    # appending c; after the same label only the paths that end in blank may append it
    labels = torch.arange(1, v, device=frame.device)
    appended = torch.where(beams.last[:, :, None] == labels[None, None, :],
                           beams.pb[:, :, None], total[:, :, None]) + frame[:, None, 1:]
    appended = appended.reshape(b, w * (v - 1))
    # an appended prefix already in the beam: its score moves there and the duplicate candidate goes. Each live
    # prefix has at most one parent in the beam, found by argmax and gathered (reductions over -inf are slow).
    parent = _parent_of(beams)
    has_parent = parent.any(dim=1)
    flat_index = parent.long().argmax(dim=1) * (v - 1) + (beams.last - 1).clamp(min=0)
    moved = appended.gather(1, flat_index).masked_fill(~has_parent, NEG_INF)
    stay_pnb = torch.logaddexp(stay_pnb, moved)
    duplicate = torch.zeros_like(appended, dtype=torch.long).scatter_add_(1, flat_index, has_parent.long())
    return stay_pb, stay_pnb, appended.masked_fill(duplicate > 0, NEG_INF)


def _step(beams: _Beams, frame: torch.Tensor, active: torch.Tensor) -> None:
    """Advance the beams of the utterances with ``active`` True by one frame (B, V); keep the others."""
    b, w = beams.pb.shape
    v = frame.size(1)
    stay_pb, stay_pnb, appended = _candidates(beams, frame)
    best = torch.cat([torch.logaddexp(stay_pb, stay_pnb), appended], dim=1).topk(w, dim=1).indices
    is_stay = best < w
    ext_index = (best - w).clamp(min=0)
    source = torch.where(is_stay, best, torch.div(ext_index, v - 1, rounding_mode="floor"))
    label = ext_index % (v - 1) + 1

    n = beams.longest + 1
    prefix = beams.prefix[:, :, :n].gather(1, source[:, :, None].expand(b, w, n))
    length = beams.length.gather(1, source)
    prefix.scatter_(2, length[:, :, None], label.masked_fill(is_stay, PAD)[:, :, None])
    src_hash = beams.hash.gather(1, source[:, :, None].expand(b, w, 2))
    stay3 = is_stay[:, :, None]
    updates = {
        "pb": torch.where(is_stay, stay_pb.gather(1, source), torch.full_like(stay_pb, NEG_INF)),
        "pnb": torch.where(is_stay, stay_pnb.gather(1, source), appended.gather(1, ext_index)),
        "length": length + (~is_stay).long(),
        "last": torch.where(is_stay, beams.last.gather(1, source), label),
        "hash": torch.where(stay3, src_hash, _extend_hash(src_hash, label)),
        "parent_hash": torch.where(stay3, beams.parent_hash.gather(1, source[:, :, None].expand(b, w, 2)), src_hash),
    }
    keep = active[:, None]
    for name, value in updates.items():
        old = getattr(beams, name)
        setattr(beams, name, torch.where(keep.view(b, *([1] * (old.dim() - 1))), value, old))
    beams.prefix[:, :, :n] = torch.where(keep[:, :, None], prefix, beams.prefix[:, :, :n])
    beams.longest = min(n, beams.prefix.size(2))


def prefix_beam_search(log_probs: torch.Tensor, lengths: torch.Tensor, beam: int = 16,
                       nbest: int = 1) -> List[List[Hypothesis]]:
    """Up to ``nbest`` (≤ beam) hypotheses per utterance, best first, each (label ids, log P(labels | input))."""
    check_log_probs(log_probs, lengths)
    if beam < 1 or not 1 <= nbest <= beam:
        raise ValueError(f"need beam >= 1 and 1 <= nbest <= beam, got beam {beam}, nbest {nbest}")
    b, t_max, _ = log_probs.shape
    device = log_probs.device
    lengths = lengths.to(device)
    frames = log_probs.detach().float()
    beams = _Beams(b, beam, t_max, device)
    for t in range(t_max):
        _step(beams, frames[:, t], t < lengths)

    scores, order = beams.total().sort(dim=1, descending=True)
    scores, order = scores[:, :nbest].cpu(), order[:, :nbest]
    prefixes = beams.prefix.gather(1, order[:, :, None].expand(-1, -1, beams.prefix.size(2))).cpu()
    plen = beams.length.gather(1, order).cpu()
    return [[Hypothesis(prefixes[i, k, : int(plen[i, k])].tolist(), float(scores[i, k]))
             for k in range(order.size(1)) if scores[i, k] > NEG_INF]
            for i in range(b)]
