"""Argument types shared by the workers' command lines."""
from __future__ import annotations

import argparse


def str2bool(value: str) -> bool:
    """``true``/``false`` only, as Kaldi-style shell scripts pass booleans (parse_options.sh's rule)."""
    if value not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"expected true or false, got '{value}'")
    return value == "true"


def thread_count(value: str) -> int:
    """``--num-threads``: 0 leaves torch its own choice (one thread per core), N > 0 asks for N threads.

    The same meaning as the shell scripts' --num-threads (utils/num_threads.sh), which pass the value through.
    """
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise argparse.ArgumentTypeError(f"expected 0 (torch's choice) or a positive thread count, got '{value}'")
    return count


def device_name(value: str) -> str:
    """``--device``: auto, cpu, cuda or cuda:N, refused at parse time (one usage line, no traceback) when this
    machine cannot honour it. The worker passes the name on to :func:`phonasr.utils.device.choose_device`."""
    from phonasr.utils.device import DeviceUnavailable, choose_device  # torch: only workers that take --device

    try:
        choose_device(value)
    except DeviceUnavailable as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return value
