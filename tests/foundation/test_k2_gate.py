"""tests/k2 skips where k2 is absent, except under PHONASR_REQUIRE_K2=1 (tests/run.sh in .venv-k2), where a k2
that does not import fails the run: a broken .venv-k2 must not pass as "all k2 tests skipped"."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _collect_k2_tests(require: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PHONASR_REQUIRE_K2"}
    if require:
        env["PHONASR_REQUIRE_K2"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only",
                           "tests/k2"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(importlib.util.find_spec("k2") is not None, reason="k2 imports here, so nothing is missing")
def test_missing_k2_skips_unless_required():
    out = _collect_k2_tests(require=False)
    assert out.returncode in (0, 5), out.stdout + out.stderr  # 5: nothing collected, the module skipped
    assert "SKIPPED" in out.stdout and "error" not in out.stdout.lower(), out.stdout
    out = _collect_k2_tests(require=True)
    assert out.returncode not in (0, 5), out.stdout
    assert "No module named 'k2'" in out.stdout, out.stdout
