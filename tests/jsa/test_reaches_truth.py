"""JSA's chains must come closer to the truth than the S2P alone, in the regime of issue 11: an S2P that is good but
not perfect, a G2P whose samples rarely come near the truth, and a P2G that knows which phonemes the text spells.

The posterior p(h|x,y) ∝ p(h|x) p(y|h) then sits on the truth, so persistent chains that reach it hold samples
with a lower PER than the S2P's greedy hypothesis. They reach it with the mixture proposal; with the G2P alone they
keep the least bad G2P sample, far from the truth (the failure seen on the mini recipe), and the same check fails.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import kaldialign
import torch

from phonasr.ctc import ctc_loss, greedy_search
from phonasr.jsa.proposal import draw_proposals
from phonasr.jsa.sampler import LogLikelihoods, run_chains
from phonasr.jsa.stats import phone_error_rate

UTTS, V, TRUTH_LEN, K, ROUNDS = 48, 8, 10, 10, 3
P2G_NATS_PER_ERROR = 6.0  # log p(y|h) = -6 per edit between h and the phonemes the text spells


def toy_batch(seed: int = 0) -> Tuple[List[List[int]], torch.Tensor, torch.Tensor]:
    """Truths, and CTC posteriors (2 frames per phoneme) of an S2P that misreads ~1 phoneme in 5 and of a G2P
    that puts 0.3 on each true phoneme."""
    gen = torch.Generator().manual_seed(seed)
    truths = [torch.randint(1, V, (TRUTH_LEN,), generator=gen).tolist() for _ in range(UTTS)]
    frames = 2 * TRUTH_LEN
    s2p = torch.full((UTTS, frames, V), 0.005)
    g2p = torch.full((UTTS, frames, V), 0.1)
    for u, truth in enumerate(truths):
        for i, phone in enumerate(truth):
            s2p[u, 2 * i, phone] = 0.8
            if torch.rand(1, generator=gen) < 0.2:  # a misreading: another phoneme wins this frame
                s2p[u, 2 * i, 1 + (phone % (V - 1))] = 0.9
            s2p[u, 2 * i + 1, 0] = 0.8
            g2p[u, 2 * i, phone] = 0.3
    return truths, (s2p / s2p.sum(-1, keepdim=True)).log(), (g2p / g2p.sum(-1, keepdim=True)).log()


def chain_per(s2p_weight: float, start_greedy: bool = False) -> Tuple[float, float]:
    """(PER of the chains' states after ROUNDS steps, PER of the S2P's greedy hypotheses), both vs the truth;
    ``start_greedy``: the chains start from the S2P's greedy hypotheses (``jsa.new_chain_start: s2p_greedy``)."""
    truths, s2p, g2p = toy_batch()
    lens = torch.full((UTTS,), s2p.shape[1])

    def score(utts: List[int], cands: List[List[int]]) -> LogLikelihoods:
        index = torch.tensor(utts)
        errors = [kaldialign.edit_distance(truths[u], h)["total"] for u, h in zip(utts, cands)]
        return LogLikelihoods(s2p=-ctc_loss(s2p[index], lens[index], cands, backend="torch"),
                              p2g=-P2G_NATS_PER_ERROR * torch.tensor(errors, dtype=torch.float64),
                              g2p=-ctc_loss(g2p[index], lens[index], cands, backend="torch"))

    torch.manual_seed(0)
    states: List[Optional[List[int]]] = [list(h) for h in greedy_search(s2p, lens)] if start_greedy else [None] * UTTS
    for _ in range(ROUNDS):
        proposals = draw_proposals((g2p, lens), (s2p, lens), [K] * UTTS, s2p_weight)
        states = run_chains(states, proposals, score, s2p_weight=s2p_weight).states
    assert all(s is not None for s in states)
    return phone_error_rate(truths, states), phone_error_rate(truths, greedy_search(s2p, lens))


def test_mixture_chains_beat_the_s2p_alone():
    cache_per, s2p_per = chain_per(s2p_weight=0.5)
    assert s2p_per > 10.0, "the toy S2P must make errors for the posterior to correct"
    assert cache_per < 0.5 * s2p_per


def test_chains_started_from_the_s2p_greedy_hypotheses_improve_on_them():
    cache_per, s2p_per = chain_per(s2p_weight=0.5, start_greedy=True)
    assert cache_per < 0.5 * s2p_per
    # the start alone is no help: G2P-only proposals, which rarely beat the S2P's hypothesis, leave it where it is
    g2p_cache_per, _ = chain_per(s2p_weight=0.0, start_greedy=True)
    assert g2p_cache_per > cache_per


def test_g2p_only_chains_stay_far_from_the_truth():
    """The same check fails for the G2P-only proposal: it is no test of the sampler's exactness (both are exact)
    but of whether the chains get to the posterior within a few visits."""
    cache_per, s2p_per = chain_per(s2p_weight=0.0)
    assert cache_per > s2p_per
