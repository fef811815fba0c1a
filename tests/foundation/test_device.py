"""choose_device: the one reading of --device / train.device."""
from __future__ import annotations

import pytest
import torch

from phonasr.utils.device import choose_device


def test_auto_is_the_gpu_only_when_torch_sees_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert choose_device("auto") == torch.device("cpu")
    assert choose_device("cpu", cuda_index=3) == torch.device("cpu")
    with pytest.raises(RuntimeError, match="device 'cuda:1' needs a GPU but torch sees none"):
        choose_device("cuda:1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert choose_device("auto") == torch.device("cuda")
    assert choose_device("auto", cuda_index=2) == torch.device("cuda", 2)
    assert choose_device("cuda:1", cuda_index=2) == torch.device("cuda", 1)  # an explicit GPU stays
