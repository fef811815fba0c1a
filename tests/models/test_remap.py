"""Output-layer re-mapping for crosslingual fine-tuning."""
from __future__ import annotations

import pytest
import torch

from phonasr.models import build_model, remap_output_layer

OLD = ["<blk>", "a", "b", "ʃ", "t͡ɕ"]
NEW = ["<blank>", "t͡ɕ", "a", "dʑ", "x"]


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model({"type": "conformer", "preset": "tiny"}, len(OLD)).eval()


def test_shared_rows_are_copied_and_new_rows_start_from_the_mean_of_the_non_blank_rows():
    model = _model()
    old_w, old_b = model.output.weight.detach().clone(), model.output.bias.detach().clone()
    report = remap_output_layer(model, OLD, NEW, init="mean")
    w, b = model.output.weight.detach(), model.output.bias.detach()
    assert w.shape == (5, model.encoder.d_model) and model.vocab_size == 5
    for new_id, old_id in [(0, 0), (1, 4), (2, 1)]:  # blank is id 0 on both sides, whatever its name
        assert torch.equal(w[new_id], old_w[old_id]) and b[new_id] == old_b[old_id]
    for new_id in (3, 4):  # blank (old row 0) is left out of the mean
        assert torch.allclose(w[new_id], old_w[1:].mean(0)) and torch.isclose(b[new_id], old_b[1:].mean())
        assert not torch.allclose(w[new_id], old_w.mean(0))
    assert report.copied == ["<blank>", "t͡ɕ", "a"]
    assert report.new == ["dʑ", "x"]
    assert report.dropped == ["b", "ʃ"]
    assert "2 new" in report.summary()
    with torch.no_grad():
        log_probs, _ = model(torch.randn(1, 20, 80), torch.tensor([20]))
    assert log_probs.size(-1) == 5


def test_random_init_keeps_copied_rows_and_differs_elsewhere():
    model = _model()
    old_w = model.output.weight.detach().clone()
    remap_output_layer(model, OLD, NEW, init="random")
    assert torch.equal(model.output.weight[1], old_w[4])
    assert not torch.allclose(model.output.weight[3], old_w[1:].mean(0))
    with pytest.raises(ValueError, match="init must be one of mean, random"):
        remap_output_layer(_model(), OLD, NEW, init="default")


def test_wrong_old_symbol_table_is_rejected():
    with pytest.raises(ValueError, match="symbol table"):
        remap_output_layer(_model(), OLD[:-1], NEW)
    with pytest.raises(ValueError, match="duplicates"):
        remap_output_layer(_model(), OLD, ["<blk>", "a", "a"])
