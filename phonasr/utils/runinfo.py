"""Record how an output was made: the config, the seed, the command and library versions.

Every stage calls :func:`write_run_info` into its output directory, so any result can be traced back to the
exact settings and software that produced it.
"""
from __future__ import annotations

import json
import platform
import random
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np
import torch

from phonasr.utils.config import dump_config
from phonasr.utils.io import atomic_write_text

_TRACKED = ("torch", "lhotse", "numpy", "sentencepiece", "kaldifeat", "kaldi-native-fbank", "k2", "kaldifst",
            "kaldi-decoder", "kaldilm", "kaldialign", "soundfile", "lilcom", "phonasr")


def library_versions() -> dict[str, Optional[str]]:
    versions: dict[str, Optional[str]] = {"python": platform.python_version()}
    for name in _TRACKED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    versions["cuda"] = torch.version.cuda
    return versions


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) so a rerun with the same seed repeats the run."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def write_run_info(out_dir: str | Path, name: str, config: Optional[Mapping[str, Any]] = None,
                   seed: Optional[int] = None) -> None:
    """Write ``<out_dir>/<name>.config.yaml`` and ``<out_dir>/<name>.versions.json``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if config is not None:
        atomic_write_text(out_dir / f"{name}.config.yaml", dump_config(dict(config)))
    info = {
        "command": " ".join(sys.argv),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "host": platform.node(),
        "seed": seed,
        "versions": library_versions(),
    }
    atomic_write_text(out_dir / f"{name}.versions.json", json.dumps(info, indent=2) + "\n")
