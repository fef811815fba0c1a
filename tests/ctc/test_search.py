"""Greedy and prefix beam search against exhaustive enumeration of label sequences."""
from __future__ import annotations

import pytest
import torch

from phonasr.ctc import greedy_search, prefix_beam_search
from tests.ctc import brute


def _exact_ranking(log_probs: torch.Tensor, length: int):
    exact = brute.label_log_probs(log_probs[:length])
    return sorted(exact.items(), key=lambda kv: kv[1], reverse=True)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_wide_beam_nbest_equals_exact_label_probabilities(seed):
    # T=5, V=3: at most 63 prefixes, so a beam of 64 never prunes and the scores are exact
    log_probs = brute.random_log_probs(3, 5, 3, seed=seed)
    lengths = torch.tensor([5, 3, 4])
    hyps = prefix_beam_search(log_probs, lengths, beam=64, nbest=8)
    for b in range(3):
        ranking = _exact_ranking(log_probs[b], int(lengths[b]))
        assert len(hyps[b]) == min(8, len(ranking))
        for hyp, (seq, log_prob) in zip(hyps[b], ranking):
            assert tuple(hyp.tokens) == seq
            assert hyp.log_prob == pytest.approx(log_prob, abs=1e-4)


@pytest.mark.parametrize("beam", [1, 3, 8])
def test_pruned_search_equals_a_textbook_implementation(beam):
    log_probs = brute.random_log_probs(3, 40, 6, seed=30 + beam, sharpness=1.5)
    lengths = torch.tensor([40, 23, 31])
    hyps = prefix_beam_search(log_probs, lengths, beam=beam, nbest=beam)
    for b in range(3):
        expected = brute.reference_prefix_beam_search(log_probs[b, : lengths[b]], beam)
        assert [tuple(h.tokens) for h in hyps[b]] == [seq for seq, _ in expected]
        assert [h.log_prob for h in hyps[b]] == pytest.approx([score for _, score in expected], abs=1e-4)


def test_batched_search_equals_one_utterance_at_a_time():
    log_probs = brute.random_log_probs(4, 12, 6, seed=20)
    lengths = torch.tensor([12, 7, 1, 10])
    together = prefix_beam_search(log_probs, lengths, beam=4, nbest=3)
    for b in range(4):
        alone = prefix_beam_search(log_probs[b:b + 1, : lengths[b]], lengths[b:b + 1], beam=4, nbest=3)[0]
        assert [h.tokens for h in together[b]] == [h.tokens for h in alone]
        assert [h.log_prob for h in together[b]] == pytest.approx([h.log_prob for h in alone], abs=1e-5)


def test_small_beam_top1_on_a_peaky_distribution_matches_greedy():
    log_probs = brute.random_log_probs(2, 30, 8, seed=21, sharpness=8.0)
    lengths = torch.tensor([30, 17])
    beam_top = [h[0].tokens for h in prefix_beam_search(log_probs, lengths, beam=2)]
    assert beam_top == greedy_search(log_probs, lengths)


def test_greedy_is_the_collapsed_argmax_path():
    log_probs = brute.random_log_probs(2, 7, 4, seed=22)
    lengths = torch.tensor([7, 4])
    for b, tokens in enumerate(greedy_search(log_probs, lengths)):
        path = tuple(log_probs[b, : lengths[b]].argmax(-1).tolist())
        assert tuple(tokens) == brute.collapse_path(path)


def test_hypotheses_are_unique_and_sorted():
    log_probs = brute.random_log_probs(1, 20, 5, seed=23, sharpness=1.0)
    hyps = prefix_beam_search(log_probs, torch.tensor([20]), beam=16, nbest=16)[0]
    assert len(hyps) == 16
    assert len({tuple(h.tokens) for h in hyps}) == 16
    assert all(a.log_prob >= b.log_prob for a, b in zip(hyps, hyps[1:]))


def test_invalid_beam_settings_are_rejected():
    log_probs = brute.random_log_probs(1, 3, 3, seed=24)
    with pytest.raises(ValueError, match="nbest"):
        prefix_beam_search(log_probs, torch.tensor([3]), beam=2, nbest=3)
