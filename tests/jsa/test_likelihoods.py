"""CtcLikelihoods: the batched scoring rows equal one CTC call per row, on the right utterance, and the P2G
scores without dropout (one network for every candidate)."""
from __future__ import annotations

from typing import List

import pytest
import torch

from phonasr.batching.padding import pad_ids
from phonasr.ctc import ctc_loss
from phonasr.jsa.likelihoods import CtcLikelihoods, inference
from phonasr.models import build_model

PHONES, SUBWORDS = 6, 7
GRAPHEMES = [[1, 2], [3, 4, 5]]      # y of utterance 0 and 1
CHAR_LENS = [4, 9]


@pytest.fixture
def setup():
    gen = torch.Generator().manual_seed(0)
    s2p = torch.randn(2, 12, PHONES, generator=gen).log_softmax(-1), torch.tensor([12, 9])
    g2p = torch.randn(2, 10, PHONES, generator=gen).log_softmax(-1), torch.tensor([8, 10])
    torch.manual_seed(0)
    p2g = build_model({"type": "transformer", "preset": "tiny", "upsample": 2, "dropout": 0.5}, SUBWORDS, PHONES)
    p2g.train()
    return s2p, g2p, p2g


def one_row(output, utt: int, target: List[int]) -> float:
    log_probs, lens = output
    return -float(ctc_loss(log_probs[utt:utt + 1], lens[utt:utt + 1], [target], backend="torch"))


def p2g_row(p2g: torch.nn.Module, h: List[int], y: List[int]) -> float:
    with inference(p2g):
        return one_row(p2g(*pad_ids([h])), 0, y)


def test_batched_rows_equal_per_row_ctc_calls(setup):
    s2p, g2p, p2g = setup
    score = CtcLikelihoods(s2p, g2p, p2g, GRAPHEMES, CHAR_LENS, ctc_backend="torch")
    utts = [1, 0, 1, 0]
    cands = [[1, 2, 3], [4], [5, 5, 1, 2], [2, 3]]
    out = score(utts, cands)
    for n, (u, h) in enumerate(zip(utts, cands)):
        assert float(out.s2p[n]) == pytest.approx(one_row(s2p, u, h), rel=1e-5)
        assert float(out.g2p[n]) == pytest.approx(one_row(g2p, u, h), rel=1e-5)
        assert float(out.p2g[n]) == pytest.approx(p2g_row(p2g, h, GRAPHEMES[u]), rel=1e-5)
    # the same candidate scores differently for the two utterances: the rows did index their own utterance
    swapped = score([0, 1], [[1, 2, 3], [4]])
    assert float(swapped.s2p[0]) != pytest.approx(float(out.s2p[0]))
    assert float(swapped.p2g[0]) != pytest.approx(float(out.p2g[0]))


def test_p2g_scores_in_eval_mode_and_keeps_the_training_mode(setup):
    """With dropout 0.5, training-mode scoring would give every row its own mask: equal candidates of one
    utterance would score differently, and w'/w would compare different networks."""
    s2p, g2p, p2g = setup
    score = CtcLikelihoods(s2p, g2p, p2g, GRAPHEMES, CHAR_LENS, ctc_backend="torch")
    out = score([0] * 6, [[1, 2, 3]] * 6)
    assert torch.equal(out.p2g, out.p2g[:1].expand(6))
    assert all(m.training for m in p2g.modules())


def test_margin_and_empty_rows_are_impossible(setup):
    """length_margin 1: the G2P pair needs chars > len(h) + 1, the P2G pair len(h) > len(y) + 1."""
    s2p, g2p, p2g = setup
    score = CtcLikelihoods(s2p, g2p, p2g, GRAPHEMES, CHAR_LENS, ctc_backend="torch", length_margin=1)
    utts = [0, 0, 0, 1, 1]
    cands = [[1, 2, 3, 4], [1, 2], [1, 2, 3], [1, 2, 3, 4, 5, 1], []]
    out = score(utts, cands)
    # utterance 0 (4 chars, 2 subwords): [1 2 3 4] fails the G2P margin, [1 2] the P2G's, [1 2 3] both;
    # utterance 1 (9 chars, 3 subwords): 6 phonemes pass both, and the empty h leaves the P2G nothing to read
    assert torch.isinf(out.g2p).tolist() == [True, False, True, False, False]
    assert torch.isinf(out.p2g).tolist() == [False, True, True, False, True]
    for n in (1, 3, 4):
        assert float(out.g2p[n]) == pytest.approx(one_row(g2p, utts[n], cands[n]), rel=1e-5)
    for n in (0, 3):
        assert float(out.p2g[n]) == pytest.approx(p2g_row(p2g, cands[n], GRAPHEMES[utts[n]]), rel=1e-5)
    assert torch.isfinite(out.s2p).all()


def test_repeated_rows_are_scored_once_and_equal_their_single_scores(setup):
    """A peaky proposal repeats h; each distinct (utterance, h) is scored once, the P2G reads each distinct h once
    (also when two utterances propose it), and every repeat gets the score of that row scored alone."""
    s2p, g2p, p2g = setup
    score = CtcLikelihoods(s2p, g2p, p2g, GRAPHEMES, CHAR_LENS, ctc_backend="torch")
    p2g_batches: List[int] = []
    p2g.register_forward_hook(lambda module, args, out: p2g_batches.append(out[0].size(0)))
    utts = [0, 1, 0, 0, 1, 1]
    cands = [[1, 2, 3], [1, 2, 3], [4, 5], [1, 2, 3], [1, 2, 3], [2]]
    out = score(utts, cands)
    assert p2g_batches == [3]   # [1 2 3], [4 5], [2]: one forward, three inputs
    for n, (u, h) in enumerate(zip(utts, cands)):
        assert float(out.s2p[n]) == pytest.approx(one_row(s2p, u, h), rel=1e-5)
        assert float(out.g2p[n]) == pytest.approx(one_row(g2p, u, h), rel=1e-5)
        assert float(out.p2g[n]) == pytest.approx(p2g_row(p2g, h, GRAPHEMES[u]), rel=1e-5)
    assert float(out.s2p[0]) == float(out.s2p[3]) and float(out.p2g[1]) == float(out.p2g[4])
