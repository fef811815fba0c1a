"""A latent-phoneme model small enough to enumerate, for checking the MIS against the exact posterior.

Vocabulary {0: blank, 1: a, 2: b}, three CTC frames: every phoneme sequence a 3-frame CTC can emit (9 of them)
is listed, and p(h|x), q(h|y) are exact CTC probabilities summed over all 27 frame paths. p(y|h) is a table
that gives one sequence zero probability, so the chain sees infeasible candidates.
"""
from __future__ import annotations

import itertools
import math
from typing import Dict, List, Tuple

import torch

from phonasr.jsa.sampler import LogLikelihoods

Seq = Tuple[int, ...]
BLANK = 0
NUM_FRAMES = 3

# Per-frame posteriors (rows: frames, columns: blank, a, b). q deliberately differs from the posterior.
S2P_FRAMES = torch.tensor([[0.2, 0.5, 0.3], [0.5, 0.2, 0.3], [0.1, 0.3, 0.6]], dtype=torch.float64)
G2P_FRAMES = torch.tensor([[0.6, 0.2, 0.2], [0.3, 0.4, 0.3], [0.5, 0.1, 0.4]], dtype=torch.float64)
P2G_TABLE: Dict[Seq, float] = {(): 0.02, (1,): 0.3, (2,): 0.1, (1, 1): 0.5, (1, 2): 0.9, (2, 1): 0.2,
                               (2, 2): 0.4, (1, 2, 1): 0.7, (2, 1, 2): 0.0}
INFEASIBLE: Seq = (2, 1, 2)
Y_LEN = 4  # length of the "grapheme" target, for the length-normalised weights


def collapse(path) -> Seq:
    out, prev = [], None
    for s in path:
        if s != prev and s != BLANK:
            out.append(int(s))
        prev = s
    return tuple(out)


def ctc_distribution(frames: torch.Tensor) -> Dict[Seq, float]:
    """Exact CTC probability of every emitted sequence, by summing over all frame paths."""
    dist: Dict[Seq, float] = {}
    for path in itertools.product(range(frames.shape[1]), repeat=frames.shape[0]):
        p = math.prod(float(frames[t, s]) for t, s in enumerate(path))
        dist[collapse(path)] = dist.get(collapse(path), 0.0) + p
    return dist


S2P = ctc_distribution(S2P_FRAMES)
G2P = ctc_distribution(G2P_FRAMES)
SPACE: List[Seq] = sorted(S2P)


def normalise(weights: Dict[Seq, float]) -> Dict[Seq, float]:
    total = sum(weights.values())
    return {h: w / total for h, w in weights.items()}


def exact_posterior() -> Dict[Seq, float]:
    """p(h|x,y) ∝ p(h|x) p(y|h)."""
    return normalise({h: S2P[h] * P2G_TABLE[h] for h in SPACE})


def mis_limit(proposal: Dict[Seq, float], log_w) -> Dict[Seq, float]:
    """The stationary law of an MIS that draws from ``proposal`` and weighs with ``log_w``: ∝ proposal(h) w(h)."""
    return normalise({h: proposal[h] * math.exp(log_w(h)) for h in SPACE if P2G_TABLE[h] > 0})


def length_normalised_limit() -> Dict[Seq, float]:
    """Where a MIS with length-normalised weights w~ converges."""
    def log_w(h: Seq) -> float:
        n = max(len(h), 1)
        return math.log(S2P[h]) / n + math.log(P2G_TABLE[h]) / Y_LEN - math.log(G2P[h]) / n
    return mis_limit(G2P, log_w)


def mixture(s2p_weight: float) -> Dict[Seq, float]:
    """The density of the mixture proposal (1-a) q(h|y) + a p(h|x)."""
    return {h: (1 - s2p_weight) * G2P[h] + s2p_weight * S2P[h] for h in SPACE}


def sample_proposals(num_utts: int, k: int, generator: torch.Generator,
                     s2p_weight: float = 0.0) -> List[List[List[int]]]:
    """Exact CTC samples of the proposal: each candidate from p(h|x) with probability ``s2p_weight``, else from
    q(h|y); one symbol per frame from the chosen model's posterior, then collapse."""
    n = num_utts * k
    g2p_paths = torch.multinomial(G2P_FRAMES, n, replacement=True, generator=generator).T
    s2p_paths = torch.multinomial(S2P_FRAMES, n, replacement=True, generator=generator).T
    from_s2p = torch.rand(n, 1, generator=generator, dtype=torch.float64) < s2p_weight
    seqs = [list(collapse(p)) for p in torch.where(from_s2p, s2p_paths, g2p_paths).tolist()]
    return [seqs[i * k:(i + 1) * k] for i in range(num_utts)]


def score(utt_indices: List[int], candidates: List[List[int]]) -> LogLikelihoods:
    def log(table: Dict[Seq, float]) -> torch.Tensor:
        return torch.tensor([math.log(table[tuple(c)]) if table[tuple(c)] > 0 else float("-inf")
                             for c in candidates], dtype=torch.float64)
    return LogLikelihoods(s2p=log(S2P), p2g=log(P2G_TABLE), g2p=log(G2P))


def total_variation(p: Dict[Seq, float], q: Dict[Seq, float]) -> float:
    return 0.5 * sum(abs(p.get(h, 0.0) - q.get(h, 0.0)) for h in set(p) | set(q))
