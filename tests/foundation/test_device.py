"""choose_device: the one reading of --device / train.device."""
from __future__ import annotations

import pytest
import torch

from phonasr.utils.device import DeviceUnavailable, choose_device


def test_auto_is_the_gpu_only_when_torch_sees_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert choose_device("auto") == torch.device("cpu")
    assert choose_device("cpu", cuda_index=3) == torch.device("cpu")
    with pytest.raises(DeviceUnavailable, match="device 'cuda:1' needs a GPU but torch sees none"):
        choose_device("cuda:1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert choose_device("auto") == torch.device("cuda")
    assert choose_device("auto", cuda_index=2) == torch.device("cuda", 2)
    assert choose_device("cuda:1", cuda_index=2) == torch.device("cuda", 1)  # an explicit GPU stays


def test_unknown_device_is_a_user_error():
    with pytest.raises(DeviceUnavailable, match="unknown device 'gpu0': use auto, cpu, cuda or cuda:N"):
        choose_device("gpu0")


def test_decode_worker_refuses_an_unavailable_device_in_one_line(monkeypatch, capsys):
    """--device cuda on a machine without a GPU: argparse's usage line and exit status 2, no traceback."""
    from phonasr.bin import decode_p2g

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit) as exit_info:
        decode_p2g.main(["--device", "cuda", "p2g.pt", "s2p_dir", "out"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --device: device 'cuda' needs a GPU but torch sees none; use cpu or auto" in err
