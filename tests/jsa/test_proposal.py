"""draw_proposals: the G2P-only proposal is the old one draw for draw; the mixture picks a component per candidate."""
from __future__ import annotations

import pytest
import torch

from phonasr.ctc import ctc_sample
from phonasr.jsa.proposal import draw_proposals

V, T = 5, 6
LENS = torch.tensor([6, 4])


def peaked(symbol: int) -> torch.Tensor:
    """CTC outputs that emit ``symbol`` on every frame (almost surely): a sample names the model it came from."""
    logits = torch.full((2, T, V), -30.0)
    logits[:, :, symbol] = 0.0
    return logits.log_softmax(-1)


def test_g2p_only_draws_what_a_g2p_sample_draws_and_nothing_more():
    g2p = torch.randn(2, T, V).log_softmax(-1)
    torch.manual_seed(3)
    drawn = draw_proposals((g2p, LENS), (peaked(1), LENS), [4, 2], 0.0)
    after = torch.get_rng_state()
    torch.manual_seed(3)
    plain = ctc_sample(g2p, LENS, 4)
    assert drawn == [plain[0], plain[1][:2]]
    assert torch.equal(torch.get_rng_state(), after)


@pytest.mark.parametrize("s2p_weight", [0.25, 1.0])
def test_each_candidate_comes_from_the_s2p_with_the_mixture_weight(s2p_weight):
    torch.manual_seed(0)
    drawn = draw_proposals((peaked(2), LENS), (peaked(1), LENS), [2000, 3], s2p_weight)
    assert [len(c) for c in drawn] == [2000, 3]
    assert all(h in ([1], [2]) for cands in drawn for h in cands)
    share = sum(h == [1] for h in drawn[0]) / 2000
    assert abs(share - s2p_weight) < 0.04


def test_weight_outside_the_unit_interval_is_an_error():
    out = (peaked(1), LENS)
    with pytest.raises(ValueError, match="proposal_s2p_weight"):
        draw_proposals(out, out, [1, 1], -0.1)
