"""forced_align against the best path found by enumerating all frame paths."""
from __future__ import annotations

import pytest
import torch

from phonasr.ctc import forced_align
from tests.ctc import brute


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batched_alignment_equals_brute_force_best_path(seed):
    log_probs = brute.random_log_probs(4, 6, 3, seed=seed)
    lengths = torch.tensor([6, 3, 5, 4])
    targets = [[1, 2, 1], [2], [1, 1], []]
    paths = forced_align(log_probs, lengths, targets)
    for b in range(4):
        assert len(paths[b]) == int(lengths[b])
        assert paths[b] == brute.best_alignment(log_probs[b, : lengths[b]], tuple(targets[b]))


def test_repeated_label_needs_a_blank_between():
    log_probs = brute.random_log_probs(1, 3, 3, seed=5)
    assert forced_align(log_probs, torch.tensor([3]), [[2, 2]]) == [[2, 0, 2]]


def test_infeasible_alignment_names_the_utterance():
    log_probs = brute.random_log_probs(2, 4, 3, seed=6)
    with pytest.raises(ValueError, match=r"utterances \[1\]"):
        forced_align(log_probs, torch.tensor([4, 2]), [[1, 2], [1, 1]])
