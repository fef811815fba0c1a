"""Token Transformer CTC model (P2G / G2P): upsampling, padding independence, sizes."""
from __future__ import annotations

import pytest
import torch

from phonasr.models import build_model

TINY = {"type": "transformer", "preset": "tiny", "dropout": 0.0}


def _model(**overrides) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model({**TINY, **overrides}, vocab_size=20, input_vocab_size=30).eval()


@pytest.mark.parametrize("upsample", [1, 3])
def test_upsampling_repeats_each_input_position(upsample):
    model = _model(upsample=upsample)
    tokens = torch.randint(1, 30, (2, 9))
    with torch.no_grad():
        log_probs, out_lens = model(tokens, torch.tensor([9, 4]))
    assert log_probs.shape == (2, 9 * upsample, 20)
    assert out_lens.tolist() == [9 * upsample, 4 * upsample]


def test_padding_does_not_change_the_valid_positions():
    model = _model(upsample=2)
    seqs = [torch.randint(1, 30, (n,)) for n in (11, 6, 1)]
    batch = torch.full((3, 11), 29, dtype=torch.long)  # padding holds real ids: it must be masked, not ignored
    for i, s in enumerate(seqs):
        batch[i, : len(s)] = s
    with torch.no_grad():
        together, lens = model(batch, torch.tensor([11, 6, 1]))
        for i, s in enumerate(seqs):
            alone, _ = model(s[None], torch.tensor([len(s)]))
            n = int(lens[i])
            assert torch.allclose(together[i, :n], alone[0], atol=1e-5)


def test_token_ids_outside_the_input_vocabulary_are_rejected():
    with pytest.raises(ValueError, match="input token ids"):
        _model()(torch.tensor([[3, 30]]), torch.tensor([2]))


def test_spg_preset_size_and_missing_input_vocab():
    model = build_model({"type": "transformer", "preset": "spg"}, vocab_size=500, input_vocab_size=100)
    n = sum(p.numel() for p in model.parameters())
    assert 16e6 < n < 19e6, f"P2G has {n / 1e6:.1f}M parameters (paper: ~18M)"
    with pytest.raises(ValueError, match="input_vocab_size"):
        build_model({"type": "transformer", "preset": "spg"}, vocab_size=500)
    with pytest.raises(ValueError, match="upsample"):
        build_model({**TINY, "upsample": 0}, 10, 10)


def test_scaled_embeddings_are_on_the_scale_of_the_positions():
    # The encoder multiplies embeddings by sqrt(d); with torch's N(0, 1) init they would be ~10x the unit-amplitude
    # sinusoidal positions at d=96, and the P2G could barely tell the order of its (repeated) phonemes apart.
    model = _model(d_model=96)
    encoder = next(m for m in model.modules() if hasattr(m, "embed"))
    scaled_std = float(encoder.embed.weight.detach().std()) * 96 ** 0.5
    assert 0.8 < scaled_std < 1.2, scaled_std


def test_copy_index_tells_the_copies_of_one_input_apart():
    tokens = torch.tensor([[5, 7, 5]])
    plain, indexed = _model(upsample=2), _model(upsample=2, copy_index=True)
    encoders = [next(m for m in model.modules() if hasattr(m, "embed_inputs")) for model in (plain, indexed)]
    (x_plain, _), (x_indexed, lens) = (e.embed_inputs(tokens, torch.tensor([3])) for e in encoders)
    assert lens.tolist() == [6] and encoders[0].copy_embed is None
    offset = x_indexed - x_plain  # the same token and position embeddings (same seed), plus the copy's embedding
    weight = encoders[1].copy_embed.weight
    assert torch.allclose(offset[0, 0::2], weight[0].expand(3, -1), atol=1e-6)
    assert torch.allclose(offset[0, 1::2], weight[1].expand(3, -1), atol=1e-6)
    assert not torch.allclose(weight[0], weight[1])
    # without upsampling there is nothing to tell apart: no parameter is added
    assert _model(upsample=1, copy_index=True).state_dict().keys() == _model(upsample=1).state_dict().keys()
