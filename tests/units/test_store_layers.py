"""The units stages' shared pieces: per-cut array files, and the encoder's per-layer outputs."""
from __future__ import annotations

import pytest
import torch

from phonasr.models import build_model
from phonasr.units.layers import encoder_layers, layer_list, num_layers
from phonasr.units.store import check_aligned, load_arrays, save_arrays


def test_arrays_round_trip_and_kind_is_checked(tmp_path):
    arrays = {"a": torch.arange(5), "b": torch.tensor([3, 1])}
    save_arrays(tmp_path / "u.pt", "units", arrays, {"k": 7})
    loaded, meta = load_arrays(tmp_path / "u.pt", "units")
    assert meta == {"k": 7} and all(torch.equal(loaded[k], arrays[k]) for k in arrays)
    with pytest.raises(ValueError, match="holds 'units', not 'features'"):
        load_arrays(tmp_path / "u.pt", "features")


def test_check_aligned_names_the_cut():
    with pytest.raises(ValueError, match="cut 'b' has 2 frames in one file and 3"):
        check_aligned({"a": torch.zeros(4), "b": torch.zeros(2)}, {"a": torch.zeros(4), "b": torch.zeros(3)}, "x")
    with pytest.raises(ValueError, match="1 cuts are in one file"):
        check_aligned({"a": torch.zeros(4)}, {}, "x")


def test_encoder_layers_last_is_the_encoder_output_and_model_mode_is_kept():
    torch.manual_seed(0)
    model = build_model({"type": "conformer", "preset": "tiny"}, 10, 80)
    model.train()
    feats, lengths = torch.randn(2, 100, 80), torch.tensor([100, 60])
    deepest = num_layers(model)
    hidden, out_lens = encoder_layers(model, feats, lengths, [0, deepest])
    assert model.training
    model.eval()
    with torch.no_grad():
        expected, expected_lens = model.encoder(feats, lengths)
    assert torch.allclose(hidden[deepest], expected) and torch.equal(out_lens, expected_lens)
    assert hidden[0].shape == expected.shape and not torch.allclose(hidden[0], expected)
    with pytest.raises(ValueError, match="do not exist"):
        encoder_layers(model, feats, lengths, [deepest + 1])


def test_layer_list():
    assert layer_list("0-2,5") == [0, 1, 2, 5] and layer_list("3") == [3]
    with pytest.raises(ValueError):
        layer_list(" ")
