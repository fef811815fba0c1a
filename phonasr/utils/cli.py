"""Argument types shared by the workers' command lines."""
from __future__ import annotations

import argparse
from typing import Tuple


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


def shard(value: str) -> Tuple[int, int]:
    """``--shard J/N`` of a split decoding job: job J (1-based) of N."""
    try:
        job, total = (int(x) for x in value.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard takes J/N (e.g. 2/4), got '{value}'") from None
    if not 1 <= job <= total:
        raise argparse.ArgumentTypeError(f"--shard J/N needs 1 <= J <= N, got '{value}'")
    return job, total
