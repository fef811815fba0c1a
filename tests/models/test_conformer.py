"""Conformer CTC model: output lengths, padding independence, sizes, and that it can learn."""
from __future__ import annotations

import pytest
import torch

from phonasr.ctc import ctc_loss
from phonasr.models import build_model, subsampled_lengths

TINY = {"type": "conformer", "preset": "tiny", "dropout": 0.0}


def _model(vocab: int = 12, **overrides) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model({**TINY, **overrides}, vocab).eval()


@pytest.mark.parametrize("frames", [7, 8, 9, 10, 11, 31, 100, 101])
def test_output_length_follows_the_subsampling_arithmetic(frames):
    model = _model()
    with torch.no_grad():
        log_probs, out_lens = model(torch.randn(1, frames, 80), torch.tensor([frames]))
    expected = ((frames - 1) // 2 - 1) // 2
    assert log_probs.shape == (1, expected, 12)
    assert out_lens.tolist() == [expected]
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(1, expected), atol=1e-5)


def test_subsampled_lengths_never_negative():
    assert subsampled_lengths(torch.tensor([0, 1, 3, 6, 7, 12])).tolist() == [0, 0, 0, 0, 1, 2]


def test_padding_does_not_change_the_valid_frames():
    model = _model()
    model.encoder.cmvn.set_stats(torch.full((80,), 16.0), torch.full((80,), 3.0))  # padding shifts too
    lengths = torch.tensor([120, 57, 33])
    feats = [torch.randn(int(n), 80) for n in lengths]
    batch = torch.zeros(3, 120, 80)
    for i, f in enumerate(feats):
        batch[i, : len(f)] = f
    batch[1:, 60:] = 1e3  # garbage in the padding must not leak anywhere
    with torch.no_grad():
        together, out_lens = model(batch, lengths)
        for i, f in enumerate(feats):
            alone, alone_len = model(f[None], lengths[i:i + 1])
            n = int(out_lens[i])
            assert n == int(alone_len[0]) == alone.size(1)
            assert torch.allclose(together[i, :n], alone[0], atol=1e-5), f"utterance {i} changed by padding"


def test_global_cmvn_normalises_the_input_and_refuses_bad_statistics():
    model = _model()
    cmvn = model.encoder.cmvn
    x = torch.randn(2, 50, 80) * 3.0 + 16.0
    torch.testing.assert_close(cmvn(x), x)  # identity until statistics are set
    cmvn.set_stats(x.reshape(-1, 80).mean(0), x.reshape(-1, 80).std(0, unbiased=False))
    y = cmvn(x).reshape(-1, 80)
    torch.testing.assert_close(y.mean(0), torch.zeros(80), atol=1e-4, rtol=0)
    torch.testing.assert_close(y.std(0, unbiased=False), torch.ones(80), atol=1e-4, rtol=0)
    assert "encoder.cmvn.mean" in model.state_dict()  # stored with the weights
    with pytest.raises(ValueError, match="not finite"):
        cmvn.set_stats(torch.full((80,), float("nan")), torch.ones(80))
    assert _model(global_cmvn=False).encoder.cmvn is None


def test_too_short_input_is_a_clear_error():
    with pytest.raises(ValueError, match="at least 7"):
        _model()(torch.randn(2, 6, 80), torch.tensor([6, 5]))


def test_whistle_s_has_about_90m_parameters():
    with torch.device("meta"):
        model = build_model({"type": "conformer", "preset": "whistle_s"}, 100)
    n = sum(p.numel() for p in model.parameters())
    assert 85e6 < n < 95e6, f"Whistle-S has {n / 1e6:.1f}M parameters"
    assert len(model.encoder.blocks) == 14 and model.encoder.d_model == 512


def test_config_errors_name_the_problem():
    with pytest.raises(ValueError, match="num_block"):
        build_model({"type": "conformer", "num_block": 3}, 10)
    with pytest.raises(ValueError, match="preset"):
        build_model({"type": "conformer", "preset": "huge"}, 10)
    with pytest.raises(ValueError, match="model.type"):
        build_model({"preset": "tiny"}, 10)
    with pytest.raises(ValueError, match="divisible"):
        build_model({**TINY, "num_heads": 5}, 10)


def test_tiny_model_learns_to_fit_two_utterances():
    torch.manual_seed(0)
    model = build_model({**TINY, "dropout": 0.0}, 6)
    feats, lengths = torch.randn(2, 40, 80), torch.tensor([40, 31])
    targets = [[1, 2, 3], [5, 5, 2]]
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses = []
    for _ in range(12):
        log_probs, out_lens = model(feats, lengths)
        loss = ctc_loss(log_probs, out_lens, targets, backend="torch").mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
