"""Run ``python -m phonasr.bin.train`` in a subprocess, as the recipes do, on a config written to a YAML file."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def worker_env() -> Dict[str, str]:
    """The repository and tests/train (home of the toy task) on the path of the child."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(HERE), os.environ.get("PYTHONPATH", "")]))


def train_command(config: Dict[str, Any], config_path: Path, exp_dir: Path) -> List[str]:
    """Write ``config`` to ``config_path``; the command line that trains it into ``exp_dir`` on one thread."""
    config_path.write_text(yaml.safe_dump(config))
    return [sys.executable, "-m", "phonasr.bin.train", "--config", str(config_path), "--exp-dir", str(exp_dir),
            "--num-threads", "1"]


def run_train(config: Dict[str, Any], config_path: Path, exp_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(train_command(config, config_path, exp_dir), env=worker_env(), capture_output=True,
                          text=True, timeout=300)


def error_lines(stderr: str) -> List[str]:
    """The one-line errors a worker reports (``error: ...``), which steps/train.sh shows the user."""
    return [line for line in stderr.splitlines() if line.startswith("error:")]
