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


def length_normalised_limit() -> Dict[Seq, float]:
    """Where a MIS with length-normalised weights w~ converges: ∝ q(h) w~(h) (stationary law of an MIS)."""
    def log_w(h: Seq) -> float:
        n = max(len(h), 1)
        return math.log(S2P[h]) / n + math.log(P2G_TABLE[h]) / Y_LEN - math.log(G2P[h]) / n
    return normalise({h: G2P[h] * math.exp(log_w(h)) for h in SPACE if P2G_TABLE[h] > 0})


def sample_proposals(num_utts: int, k: int, generator: torch.Generator) -> List[List[List[int]]]:
    """Exact CTC samples of q(h|y): one symbol per frame from its posterior, then collapse."""
    paths = torch.multinomial(G2P_FRAMES, num_utts * k, replacement=True, generator=generator).T
    seqs = [list(collapse(p)) for p in paths.tolist()]
    return [seqs[i * k:(i + 1) * k] for i in range(num_utts)]


def score(utt_indices: List[int], candidates: List[List[int]]) -> LogLikelihoods:
    def log(table: Dict[Seq, float]) -> torch.Tensor:
        return torch.tensor([math.log(table[tuple(c)]) if table[tuple(c)] > 0 else float("-inf")
                             for c in candidates], dtype=torch.float64)
    return LogLikelihoods(s2p=log(S2P), p2g=log(P2G_TABLE), g2p=log(G2P))


def total_variation(p: Dict[Seq, float], q: Dict[Seq, float]) -> float:
    return 0.5 * sum(abs(p.get(h, 0.0) - q.get(h, 0.0)) for h in set(p) | set(q))
