"""steps/pack_model.sh: packs from a recipe output root, skips a finished packing, and refuses a missing
--language with one line."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_step(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(["bash", "steps/pack_model.sh", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_pack_step_packs_once(toy_recipe):
    for name in ("steps", "utils"):
        if not (toy_recipe / name).exists():
            (toy_recipe / name).symlink_to(ROOT / name)
    args = ("--g2p", "exp/jsa/final.pt:g2p", "--results", "exp/results.tsv", "--results-systems", "toy",
            "toy", "exp/jsa/final.pt:s2p", "exp/jsa/final.pt:p2g", "exp/step/model")
    missing = run_step(toy_recipe, *args)
    assert missing.returncode == 1 and "--language is required" in missing.stderr
    first = run_step(toy_recipe, "--language", "pl", *args)
    assert first.returncode == 0, first.stderr
    assert (toy_recipe / "exp/step/model/model.yaml").is_file()
    assert (toy_recipe / "exp/step/.pack_model.model.done").is_file()
    again = run_step(toy_recipe, "--language", "pl", *args)
    assert again.returncode == 0 and "already packed; skipping" in again.stderr
