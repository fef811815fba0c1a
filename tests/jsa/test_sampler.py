"""The MIS must sample the exact posterior p(h|x,y); checked on a model whose h-space can be enumerated."""
from __future__ import annotations

import collections
import math
from typing import Dict, List, Optional

import pytest
import torch

from phonasr.jsa.sampler import LogLikelihoods, log_proposal_density, run_chains
from tests.jsa import toy

NUM_CHAINS = 1000
NUM_ROUNDS = 20
BURN_IN = 2
K = 10


def run_toy_chains(length_normalised: bool, seed: int = 0, drawn_s2p_weight: float = 0.0,
                   weighed_s2p_weight: float = 0.0) -> Dict[toy.Seq, float]:
    """Persistent chains (the cache's behaviour) over many rounds; the empirical law of their states.

    The proposals come from the mixture with S2P weight ``drawn_s2p_weight``; the sampler is told
    ``weighed_s2p_weight``, which is right only when the two agree."""
    gen = torch.Generator().manual_seed(seed)
    states: List[Optional[List[int]]] = [None] * NUM_CHAINS
    counts: collections.Counter = collections.Counter()
    for r in range(NUM_ROUNDS):
        proposals = toy.sample_proposals(NUM_CHAINS, K, gen, drawn_s2p_weight)
        result = run_chains(states, proposals, toy.score, generator=gen, length_normalised=length_normalised,
                            y_lens=[toy.Y_LEN] * NUM_CHAINS, s2p_weight=weighed_s2p_weight)
        states = result.states
        assert all(s is not None and tuple(s) != toy.INFEASIBLE for s in states)
        if r >= BURN_IN:
            counts.update(tuple(s) for s in states)
    total = sum(counts.values())
    return {h: c / total for h, c in counts.items()}


def test_exact_weights_sample_the_posterior():
    posterior = toy.exact_posterior()
    proposal = toy.normalise({h: toy.G2P[h] for h in toy.SPACE})
    assert toy.total_variation(posterior, proposal) > 0.2, "the toy proposal must differ from the target"
    empirical = run_toy_chains(length_normalised=False)
    assert toy.total_variation(empirical, posterior) <= 0.02


def test_length_normalised_weights_miss_the_posterior():
    """The reference's weights make a valid chain, but for another distribution than the posterior."""
    empirical = run_toy_chains(length_normalised=True, seed=1)
    assert toy.total_variation(empirical, toy.length_normalised_limit()) <= 0.02
    assert toy.total_variation(empirical, toy.exact_posterior()) > 0.1


@pytest.mark.parametrize("s2p_weight", [0.5, 1.0])
def test_mixture_proposal_with_its_density_samples_the_posterior(s2p_weight):
    empirical = run_toy_chains(length_normalised=False, seed=2, drawn_s2p_weight=s2p_weight,
                               weighed_s2p_weight=s2p_weight)
    assert toy.total_variation(empirical, toy.exact_posterior()) <= 0.02


def test_mixture_proposal_weighed_as_the_g2p_alone_misses_the_posterior():
    """Candidates drawn from the mixture but weighed by q(h|y) alone: the chain converges to ∝ q_mix w, not the
    posterior; this is the check above failing on a wrong density."""
    empirical = run_toy_chains(length_normalised=False, seed=3, drawn_s2p_weight=0.5, weighed_s2p_weight=0.0)
    wrong_limit = toy.mis_limit(toy.mixture(0.5), lambda h: math.log(toy.S2P[h] * toy.P2G_TABLE[h] / toy.G2P[h]))
    assert toy.total_variation(empirical, wrong_limit) <= 0.02
    assert toy.total_variation(empirical, toy.exact_posterior()) > 0.1


def test_mixture_density():
    s2p, g2p = torch.tensor([-1.0, float("-inf"), -3.0]), torch.tensor([-2.0, -4.0, float("-inf")])
    mixed = log_proposal_density(s2p, g2p, 0.25)
    expected = torch.log(0.75 * g2p.exp() + 0.25 * s2p.exp())
    torch.testing.assert_close(mixed, expected)
    assert torch.equal(log_proposal_density(s2p, g2p, 0.0), g2p)
    assert torch.equal(log_proposal_density(s2p, g2p, 1.0), s2p)
    with pytest.raises(ValueError, match="proposal_s2p_weight"):
        log_proposal_density(s2p, g2p, 1.5)


def _const_score(values: Dict[tuple, float], calls: list):
    def score(utts: List[int], cands: List[List[int]]) -> LogLikelihoods:
        calls.append((list(utts), [list(c) for c in cands]))
        w = torch.tensor([values[tuple(c)] for c in cands], dtype=torch.float64)
        return LogLikelihoods(s2p=w, p2g=torch.zeros_like(w), g2p=torch.zeros_like(w))
    return score


def test_infeasible_candidates_are_never_accepted():
    inf = float("-inf")
    calls: list = []
    score = _const_score({(1,): 0.0, (2,): inf, (3,): math.nan, (4,): -1e9}, calls)
    result = run_chains(states=[None, [1], [2], [4]],
                        proposals=[[[2], [3]], [[2], [3], [2]], [[3], [4]], [[2]]], score=score)
    # No feasible state anywhere for utterance 0; 1 keeps its state; 2's infeasible state yields to [4] (a
    # re-initialisation, not an accept test); 3 keeps a state of tiny weight against infeasible candidates.
    assert result.states == [None, [1], [4], [4]]
    assert result.accepted == [0, 0, 0, 0]
    assert result.initialised == [False, False, True, False]
    assert result.tested == [0, 3, 0, 1]
    assert result.infeasible == [2, 3, 1, 1]
    assert result.changed == [False, False, True, False]
    assert result.acceptance_rate == 0.0
    assert len(calls) == 1, "all candidates of all utterances are scored in one call"


def test_an_infeasible_state_without_a_feasible_proposal_is_no_state():
    """A cached state the models now give zero probability (-inf or NaN) must not come back as the chain's
    sample: the task would train all three models on it and count the chain as holding a state."""
    score = _const_score({(1,): 0.0, (2,): float("-inf"), (3,): math.nan}, [])
    result = run_chains(states=[[2], [3], [1]], proposals=[[[3], [2]], [[2]], [[2]]], score=score)
    assert result.states == [None, None, [1]]
    assert result.initialised == [False, False, False] and result.tested == [0, 0, 1]
    assert result.changed == [True, True, False]


def test_candidates_are_scored_once_per_utterance():
    calls: list = []
    score = _const_score({(1,): 0.0, (2,): 0.0}, calls)
    run_chains(states=[[1], [1]], proposals=[[[1], [2], [2]], [[2], [2]]], score=score)
    (utts, cands), = calls
    assert sorted(zip(utts, map(tuple, cands))) == [(0, (1,)), (0, (2,)), (1, (1,)), (1, (2,))]


def test_better_candidate_always_accepted_and_acceptance_counted():
    score = _const_score({(1,): -5.0, (2,): -1.0, (3,): -0.5}, [])
    result = run_chains(states=[[1]], proposals=[[[2], [3]]], score=score)
    assert result.states == [[3]] and result.accepted == [2] and result.acceptance_rate == 1.0
    assert result.changed == [True]


def test_first_state_of_a_new_chain_is_no_acceptance():
    """A new chain takes its first feasible proposal without a test: counted as an acceptance (and the proposals
    before it as tests) it would give a rate of 2/7 here instead of 1/5."""
    score = _const_score({(1,): -1.0, (2,): -50.0, (3,): float("-inf")}, [])
    gen = torch.Generator().manual_seed(0)
    result = run_chains(states=[None, [1]], proposals=[[[3], [1], [2], [2]], [[2], [2], [1]]], score=score,
                        generator=gen)
    assert result.initialised == [True, False]
    assert result.accepted == [0, 1]  # [2] is e^-49 times less likely: rejected; [1] over [1] always accepted
    assert result.tested == [2, 3]  # chain 0: the infeasible [3] and the initialising [1] are no tests
    assert result.acceptance_rate == 1 / 5
    assert result.states == [[1], [1]]


def test_acceptance_rate_is_undefined_without_tests():
    score = _const_score({(1,): 0.0}, [])
    result = run_chains(states=[None], proposals=[[[1]]], score=score)
    assert result.initialised == [True] and result.tested == [0] and result.acceptance_rate is None


def test_length_normalisation_needs_grapheme_lengths():
    score = _const_score({(1,): 0.0}, [])
    with pytest.raises(ValueError, match="y_lens"):
        run_chains(states=[None], proposals=[[[1]]], score=score, length_normalised=True)


def test_score_function_shape_is_checked():
    def bad(utts, cands):
        z = torch.zeros(len(cands) + 1)
        return LogLikelihoods(z, z, z)
    with pytest.raises(ValueError, match="shape"):
        run_chains(states=[None], proposals=[[[1]]], score=bad)
