"""Argument types shared by the workers' command lines."""
from __future__ import annotations

import argparse


def str2bool(value: str) -> bool:
    """``true``/``false`` only, as Kaldi-style shell scripts pass booleans (parse_options.sh's rule)."""
    if value not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"expected true or false, got '{value}'")
    return value == "true"
