"""Global CMVN statistics: exact per-bin mean and std whatever the chunking."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from phonasr.features.cmvn import FeatureStats, feature_stats


def test_stats_equal_numpy_over_all_frames_whatever_the_chunks():
    rng = np.random.default_rng(0)
    frames = rng.normal(16.0, 3.0, size=(1000, 5)) * np.arange(1, 6)
    chunks = [torch.from_numpy(frames[a:b]).float() for a, b in [(0, 7), (7, 500), (500, 1000)]]
    stats = feature_stats(chunks, 5)
    assert stats.count == 1000
    np.testing.assert_allclose(stats.mean().numpy(), frames.astype(np.float32).mean(0), rtol=1e-6)
    np.testing.assert_allclose(stats.std().numpy(), frames.astype(np.float32).std(0), rtol=1e-5)
    one = feature_stats([torch.from_numpy(frames).float()], 5)
    torch.testing.assert_close(one.mean(), stats.mean())


def test_constant_bin_has_zero_std_and_bad_input_is_refused():
    stats = FeatureStats(2)
    stats.add(torch.tensor([[1.0, 3.0], [1.0, 5.0]]))
    torch.testing.assert_close(stats.std(), torch.tensor([0.0, 1.0], dtype=torch.float64))
    with pytest.raises(ValueError, match=r"expected \(frames, 2\) features"):
        stats.add(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="no feature frames"):
        FeatureStats(2).mean()
