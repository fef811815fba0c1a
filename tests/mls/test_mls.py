"""MLS on a toy whose phoneme space can be enumerated: it converges to the exact log p(y|x), and with q = p(h|x)
the S2P and G2P terms cancel."""
from __future__ import annotations

import itertools
import math

import pytest
import torch

from phonasr.ctc import ctc_loss, ctc_sample
from phonasr.decode.mls import log_marginals

PHONES, GRAPHEMES = 3, 3  # blank + 2 each


class ToyP2G(torch.nn.Module):
    """A P2G with fixed random per-phoneme output scores, each input position read twice (so CTC fits)."""

    def __init__(self) -> None:
        super().__init__()
        self.scores = torch.nn.Parameter(torch.randn(PHONES, GRAPHEMES, generator=torch.Generator().manual_seed(3)))

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor):
        return torch.log_softmax(self.scores[tokens], -1).repeat_interleave(2, dim=1), 2 * lengths


def _posteriors(seed: int, frames: int, vocab: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.log_softmax(torch.randn(1, frames, vocab, generator=g), -1), torch.tensor([frames])


def _exact_log_marginal(s2p, p2g: ToyP2G, y) -> float:
    """log Σ_h p(h|x) p(y|h) over every phoneme sequence the S2P's frames can emit (p(y|empty h) = 0)."""
    total = []
    for n in range(1, s2p[0].size(1) + 1):
        for h in itertools.product(range(1, PHONES), repeat=n):
            log_p_h = -float(ctc_loss(*s2p, [list(h)]))
            p2g_out = p2g(torch.tensor([h]), torch.tensor([n]))
            p2g_out = (p2g_out[0].detach(), p2g_out[1])
            total.append(log_p_h - float(ctc_loss(*p2g_out, [y])))
    return float(torch.logsumexp(torch.tensor(total), 0))


@pytest.mark.parametrize("y", [[1], [1, 2], [2, 2]])
def test_converges_to_the_exact_marginal(y):
    s2p, g2p, p2g = _posteriors(0, 3, PHONES), _posteriors(1, 5, PHONES), ToyP2G()
    exact = _exact_log_marginal(s2p, p2g, y)
    # 20 independent estimates of 1000 samples: their mean (in probability) is the 20000-sample estimate, their
    # spread its standard error
    chunks = torch.cat([log_marginals(s2p, g2p, p2g, [y], 1000, torch.Generator().manual_seed(seed))
                        for seed in range(20)])
    ratios = torch.exp(chunks - chunks.max())
    estimate = float(chunks.max() + ratios.mean().log())
    std_error = float(ratios.std() / ratios.mean()) / math.sqrt(len(chunks))
    assert std_error < 0.05
    assert estimate == pytest.approx(exact, abs=4 * std_error + 1e-3)
    small = log_marginals(s2p, g2p, p2g, [y], 3, torch.Generator().manual_seed(0))
    assert abs(float(small[0]) - exact) > 1e-3  # a few samples do not hit it by chance: the test can fail


def test_proposal_equal_to_the_s2p_leaves_the_mean_p2g_likelihood():
    s2p, p2g, y, k = _posteriors(4, 4, PHONES), ToyP2G(), [1, 2], 50
    estimate = log_marginals(s2p, s2p, p2g, [y], k, torch.Generator().manual_seed(5))
    samples = ctc_sample(*s2p, k, generator=torch.Generator().manual_seed(5))[0]
    with torch.no_grad():
        log_p_y = [-math.inf if not h else -float(ctc_loss(*p2g(torch.tensor([h]), torch.tensor([len(h)])), [y]))
                   for h in samples]
    assert float(estimate[0]) == pytest.approx(float(torch.logsumexp(torch.tensor(log_p_y), 0)) - math.log(k),
                                               abs=1e-5)


def test_seeded_and_batched_rows_are_independent():
    p2g = ToyP2G()
    rows = [_posteriors(s, 4, PHONES) for s in (6, 7)]
    s2p = (torch.cat([r[0] for r in rows]), torch.tensor([4, 4]))
    g2p = (torch.cat([_posteriors(8, 5, PHONES)[0]] * 2), torch.tensor([5, 5]))
    first = log_marginals(s2p, g2p, p2g, [[1], [2, 1]], 100, torch.Generator().manual_seed(9))
    again = log_marginals(s2p, g2p, p2g, [[1], [2, 1]], 100, torch.Generator().manual_seed(9))
    assert torch.equal(first, again) and first.dtype == torch.float64 and torch.isfinite(first).all()
