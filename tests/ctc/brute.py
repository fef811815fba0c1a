"""Brute-force CTC by enumerating every frame path: the ground truth the fast implementations are tested against.

Only for toy sizes (V ** T paths).
"""
from __future__ import annotations

import itertools
import math
from typing import Dict, List, Optional, Tuple

import torch

Seq = Tuple[int, ...]


def collapse_path(path: Seq) -> Seq:
    return tuple(x for i, x in enumerate(path) if x != 0 and (i == 0 or path[i - 1] != x))


def label_log_probs(log_probs: torch.Tensor) -> Dict[Seq, float]:
    """(T, V) frame log-probabilities -> log P(label sequence) for every sequence with non-zero probability."""
    t, v = log_probs.shape
    lp = log_probs.double().tolist()
    sums: Dict[Seq, List[float]] = {}
    for path in itertools.product(range(v), repeat=t):
        sums.setdefault(collapse_path(path), []).append(sum(lp[i][x] for i, x in enumerate(path)))
    return {seq: _logsumexp(scores) for seq, scores in sums.items()}


def best_alignment(log_probs: torch.Tensor, target: Seq) -> Optional[List[int]]:
    """The highest-scoring frame path that collapses to ``target`` (None if there is none)."""
    t, v = log_probs.shape
    best: Optional[Tuple[float, List[int]]] = None
    for path in itertools.product(range(v), repeat=t):
        if collapse_path(path) == tuple(target):
            score = sum(float(log_probs[i, x]) for i, x in enumerate(path))
            if best is None or score > best[0]:
                best = (score, list(path))
    return None if best is None else best[1]


def random_log_probs(batch: int, frames: int, vocab: int, seed: int, sharpness: float = 2.0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, frames, vocab, generator=gen) * sharpness).log_softmax(dim=-1)


def _accumulate(beams: Dict[Seq, List[float]], prefix: Seq, blank: float, label: float) -> None:
    old = beams.setdefault(prefix, [-math.inf, -math.inf])
    old[0], old[1] = _logsumexp([old[0], blank]), _logsumexp([old[1], label])


def _logsumexp(values: List[float]) -> float:
    m = max(values)
    if m == -math.inf:
        return m
    return m + math.log(sum(math.exp(x - m) for x in values))


def reference_prefix_beam_search(log_probs: torch.Tensor, beam: int) -> List[Tuple[Seq, float]]:
    """Textbook one-utterance prefix beam search over dicts (slow, obviously right): the (prefix, log-prob)
    list, best first, of the ``beam`` prefixes kept after the last frame."""
    lp = log_probs.double().tolist()
    beams: Dict[Seq, Tuple[float, float]] = {(): (0.0, -math.inf)}  # prefix -> (ends in blank, ends in label)
    for frame in lp:
        nxt: Dict[Seq, List[float]] = {}
        for prefix, (pb, pnb) in beams.items():
            total = _logsumexp([pb, pnb])
            _accumulate(nxt, prefix, total + frame[0], -math.inf)
            if prefix:
                _accumulate(nxt, prefix, -math.inf, pnb + frame[prefix[-1]])
            for c in range(1, len(frame)):
                from_score = pb if prefix and prefix[-1] == c else total
                _accumulate(nxt, prefix + (c,), -math.inf, from_score + frame[c])
        ranked = sorted(nxt.items(), key=lambda kv: _logsumexp(kv[1]), reverse=True)[:beam]
        beams = {p: (s[0], s[1]) for p, s in ranked}
    return sorted(((p, _logsumexp(list(s))) for p, s in beams.items()), key=lambda kv: kv[1], reverse=True)
