"""The installer is idempotent: on a set-up machine a second run changes nothing and says so."""
from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_second_install_run_does_nothing():
    stamps = [p for p in (ROOT / ".venv/.phonasr-stamp", ROOT / ".venv/.kaldifeat-stamp",
                          ROOT / ".venv/.kaldifeat-failed", ROOT / ".venv-k2/.phonasr-stamp") if p.exists()]
    assert stamps, "the environment is not set up; tests/run.sh runs utils/install.sh first"
    before = {p: p.stat().st_mtime_ns for p in stamps}
    k2 = "true" if (ROOT / ".venv-k2/.phonasr-stamp").exists() else "false"
    out = subprocess.run(["bash", str(ROOT / "utils/install.sh"), "--k2", k2], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert ".venv is up to date" in out.stderr
    assert "installing" not in out.stderr and "building" not in out.stderr, out.stderr
    assert {p: p.stat().st_mtime_ns for p in stamps} == before


def test_installer_help_lists_options():
    out = subprocess.run(["bash", str(ROOT / "utils/install.sh"), "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for option in ("--k2", "--kaldifeat", "--system", "--python"):
        assert option in out.stdout
