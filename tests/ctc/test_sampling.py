"""ctc_sample must draw label sequences with exactly their CTC probabilities."""
from __future__ import annotations

import collections
from typing import Callable, Dict, List, Mapping

import pytest
import torch

from phonasr.ctc import ctc_loss, ctc_sample
from tests.ctc import brute

NUM_SAMPLES = 20000
#: a sampler is rejected when the chi-square test puts its counts at p < 1e-3 under the exact CTC distribution
SIGNIFICANCE = 1e-3
Sampler = Callable[[torch.Tensor, torch.Tensor, int, torch.Generator], List[List[List[int]]]]


def exact_ctc_probabilities(log_probs: torch.Tensor, length: torch.Tensor) -> Dict[brute.Seq, float]:
    """P(h) of every label sequence one utterance can emit, from ctc_loss; brute-force enumeration names them."""
    seqs = sorted(brute.label_log_probs(log_probs[: int(length)]))
    loss = ctc_loss(log_probs[None].expand(len(seqs), -1, -1), length[None].expand(len(seqs)),
                    [list(s) for s in seqs], backend="torch")
    probs = dict(zip(seqs, torch.exp(-loss).tolist()))
    assert abs(sum(probs.values()) - 1.0) < 1e-5, "exp(-loss) over all label sequences must sum to one"
    return probs


def chi_square_p_value(counts: Mapping[brute.Seq, int], probs: Mapping[brute.Seq, float], total: int) -> float:
    """Pearson's goodness-of-fit test of ``counts`` against ``probs``: the probability of a statistic at least
    this large if the draws came from ``probs`` (chi-square law with len(probs) - 1 degrees of freedom; valid
    here, where every expected count is above 10)."""
    statistic = sum((counts.get(s, 0) - total * p) ** 2 / (total * p) for s, p in probs.items())
    dof = torch.tensor((len(probs) - 1) / 2, dtype=torch.float64)
    return float(torch.special.gammaincc(dof, torch.tensor(statistic / 2, dtype=torch.float64)))


def fit_p_values(sampler: Sampler) -> List[float]:
    """Per utterance, the chi-square p-value of ``sampler``'s draws against the exact CTC probabilities.

    T=4, V=3 (15 label sequences); a second, shorter utterance checks that padding is ignored. A fixed seed makes
    the verdict deterministic; the true sampler scores about 0.006 in total variation, and a sampler 10% too hot
    or too cold (about 0.02, which a total-variation bound of 0.04 let through) fails.
    """
    log_probs = brute.random_log_probs(2, 4, 3, seed=10, sharpness=1.0)
    lengths = torch.tensor([4, 2])
    samples = sampler(log_probs, lengths, NUM_SAMPLES, torch.Generator().manual_seed(0))
    assert len(samples) == 2 and all(len(s) == NUM_SAMPLES for s in samples)
    p_values = []
    for b in range(2):
        probs = exact_ctc_probabilities(log_probs[b], lengths[b])
        counts = collections.Counter(tuple(s) for s in samples[b])
        assert set(counts) <= set(probs), "sampled a sequence with zero probability"
        p_values.append(chi_square_p_value(counts, probs, NUM_SAMPLES))
    return p_values


def test_empirical_distribution_matches_exact_ctc_probabilities():
    p_values = fit_p_values(lambda log_probs, lengths, n, gen: ctc_sample(log_probs, lengths, n, generator=gen))
    assert min(p_values) > SIGNIFICANCE, f"chi-square p-values {p_values} of sampled vs exact CTC distributions"


@pytest.mark.parametrize("temperature", [1.1, 0.9])
def test_the_check_rejects_a_sampler_ten_percent_off_temperature(temperature):
    """The test above must be able to fail: frame posteriors tempered by 10% (flatter or sharper) are caught."""
    def tempered(log_probs, lengths, n, gen):
        return ctc_sample((log_probs / temperature).log_softmax(dim=-1), lengths, n, generator=gen)

    p_values = fit_p_values(tempered)
    assert min(p_values) < SIGNIFICANCE, f"a sampler at temperature {temperature} passed: p-values {p_values}"


def test_generator_makes_samples_reproducible():
    log_probs = brute.random_log_probs(3, 8, 5, seed=11)
    lengths = torch.tensor([8, 5, 1])
    first = ctc_sample(log_probs, lengths, 4, generator=torch.Generator().manual_seed(7))
    again = ctc_sample(log_probs, lengths, 4, generator=torch.Generator().manual_seed(7))
    assert first == again
    assert all(len(seq) <= 1 for seq in first[2])  # one valid frame: at most one label


def test_padded_frames_holding_nan_are_ignored():
    log_probs = brute.random_log_probs(1, 6, 4, seed=12)
    log_probs[0, 3:] = float("nan")
    samples = ctc_sample(log_probs, torch.tensor([3]), 50, generator=torch.Generator().manual_seed(0))
    assert all(len(seq) <= 3 for seq in samples[0])
