"""ctc_loss (torch backend; k2 is compared in tests/k2) against brute-force sums over all frame paths."""
from __future__ import annotations

import math

import pytest
import torch

from phonasr.ctc import ctc_loss, k2_available
from tests.ctc import brute


def test_torch_loss_equals_brute_force_sum_over_paths():
    log_probs = brute.random_log_probs(3, 5, 3, seed=0)
    lengths = torch.tensor([5, 3, 4])
    targets = [[1, 2], [2], [1, 1]]
    loss = ctc_loss(log_probs, lengths, targets, backend="torch")
    for b in range(3):
        exact = brute.label_log_probs(log_probs[b, : lengths[b]])
        assert loss[b].item() == pytest.approx(-exact[tuple(targets[b])], abs=1e-5)


def test_infeasible_targets_give_inf_not_a_clamped_value():
    log_probs = brute.random_log_probs(3, 4, 3, seed=1)
    lengths = torch.tensor([4, 2, 4])
    # [1, 1, 1] needs 5 frames (blanks between repeats); [1, 2, 1] needs 3 > 2
    loss = ctc_loss(log_probs, lengths, [[1, 1, 1], [1, 2, 1], [2, 2]], backend="torch")
    assert math.isinf(loss[0].item()) and math.isinf(loss[1].item())
    assert math.isfinite(loss[2].item())


def test_empty_target_is_the_all_blank_path():
    log_probs = brute.random_log_probs(1, 4, 3, seed=2)
    loss = ctc_loss(log_probs, torch.tensor([4]), [[]], backend="torch")
    assert loss.item() == pytest.approx(-log_probs[0, :, 0].sum().item(), abs=1e-5)


def test_bad_inputs_are_rejected_with_the_utterance_named():
    log_probs = brute.random_log_probs(2, 4, 3, seed=3)
    with pytest.raises(ValueError, match="target 1"):
        ctc_loss(log_probs, torch.tensor([4, 4]), [[1], [0, 2]], backend="torch")
    with pytest.raises(ValueError, match=r"utterances \[0\]"):
        ctc_loss(log_probs, torch.tensor([5, 4]), [[1], [2]], backend="torch")
    with pytest.raises(ValueError, match="backend"):
        ctc_loss(log_probs, torch.tensor([4, 4]), [[1], [2]], backend="cudnn")


@pytest.mark.skipif(k2_available(), reason="auto picks k2 here; the k2 tests cover it")
def test_auto_backend_without_k2_is_torch():
    log_probs = brute.random_log_probs(2, 6, 4, seed=4)
    lengths, targets = torch.tensor([6, 5]), [[1, 3], [2, 2]]
    assert torch.equal(ctc_loss(log_probs, lengths, targets), ctc_loss(log_probs, lengths, targets, "torch"))
