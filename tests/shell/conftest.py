"""Fixtures for the shell-infrastructure tests: running bash/perl scripts and starting local clusters."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UTILS = ROOT / "utils"
HERE = Path(__file__).resolve().parent


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "sge: needs a local Grid Engine cell (started by tests/shell/sge/start_cluster.sh)"
    )


def run(args: list[str], cwd: Path, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    """Runs a command with text output captured; never raises on a non-zero exit (tests check it)."""
    env = dict(os.environ, LC_ALL="C")
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, **kwargs)


@pytest.fixture(scope="session")
def run_cmd():
    """The ``run`` helper above, for test modules (conftest modules are not importable under importlib mode)."""
    return run


def _start_cluster(script: Path) -> None:
    """Runs a start_cluster.sh; skips only when it cannot install the scheduler (not root), fails otherwise."""
    proc = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=900)
    if proc.returncode == 2 and os.geteuid() != 0:
        pytest.skip(f"{script.parent.name} cluster not installable without root: {proc.stderr.strip()}")
    if proc.returncode != 0:
        pytest.fail(f"{script} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


@pytest.fixture(scope="session")
def slurm_cluster() -> None:
    _start_cluster(HERE / "slurm" / "start_cluster.sh")


@pytest.fixture(scope="session")
def sge_cluster() -> None:
    _start_cluster(HERE / "sge" / "start_cluster.sh")
