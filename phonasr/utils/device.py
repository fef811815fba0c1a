"""The one reading of a ``--device`` / ``train.device`` setting, shared by training and every decoding worker."""
from __future__ import annotations

from typing import Optional

import torch


class DeviceUnavailable(ValueError):
    """A device setting this machine cannot honour (a GPU asked for where torch sees none, or no such device)."""


def choose_device(name: str = "auto", cuda_index: Optional[int] = None) -> torch.device:
    """``auto``: the GPU when torch sees one, else the CPU; otherwise ``cpu``, ``cuda`` or ``cuda:N`` as torch
    reads them. ``cuda_index`` numbers a GPU left unnumbered (torchrun's local rank, one GPU per process).

    Asking for a GPU that torch does not see fails here, naming the setting, rather than at the first tensor
    moved deep inside a model.
    """
    try:
        device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if name == "auto" else name)
    except RuntimeError:
        raise DeviceUnavailable(f"unknown device '{name}': use auto, cpu, cuda or cuda:N") from None
    if device.type != "cuda":
        return device
    if not torch.cuda.is_available():
        raise DeviceUnavailable(f"device '{name}' needs a GPU but torch sees none; use cpu or auto")
    return torch.device("cuda", cuda_index) if device.index is None and cuda_index is not None else device
