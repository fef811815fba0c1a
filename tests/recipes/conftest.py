"""The quick mini recipe, run once per session: its tests and the tests of the packed model it leaves share it."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "egs/mini_pl/run.sh"


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory) -> Path:
    """The output root of `egs/mini_pl/run.sh --quick true`, every stage run. PHONASR_QUICK_RUN=DIR reuses a
    finished quick run instead (a developer's shortcut when working on the tests of its outputs)."""
    reuse = os.environ.get("PHONASR_QUICK_RUN")
    if reuse:
        return Path(reuse)
    out = tmp_path_factory.mktemp("mini_pl_quick")
    run = subprocess.run(["bash", str(RECIPE), "--quick", "true", "--dir", str(out)], capture_output=True,
                         text=True, timeout=1500)
    assert run.returncode == 0, run.stderr[-4000:]
    return out
