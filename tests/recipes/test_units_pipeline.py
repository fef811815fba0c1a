"""egs/TEMPLATE/units/units.sh hands stages 0-6 to the recipe's JSA-SPG pipeline with the run's options."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def recipe(tmp_path: Path) -> Path:
    """A units recipe whose jsa_spg.sh is a stand-in that records how it was called."""
    (tmp_path / "run.sh").symlink_to(ROOT / "egs/TEMPLATE/units/units.sh")
    for name in ("utils", "steps", "local"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "path.sh").write_text(f"export PATH={ROOT}/.venv/bin:$PATH\n")
    (tmp_path / "cmd.sh").write_text("export train_cmd=utils/run.pl cuda_cmd=utils/run.pl\n")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf/recipe.conf").write_text("target_lang=pl\nbpe_size=500\ntext_units=char\nsubset_minutes=10\n")
    (tmp_path / "jsa_spg.sh").write_text('#!/usr/bin/env bash\necho "$*" >> "$(dirname "$0")/calls.txt"\n')
    (tmp_path / "jsa_spg.sh").chmod(0o755)
    return tmp_path


def run(recipe: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(recipe / "run.sh"), *args], capture_output=True, text=True, timeout=60)


def test_stages_0_to_6_go_to_the_pipeline_with_the_run_options(recipe):
    out = run(recipe, "--stage", "2", "--stop-stage", "4", "--nj", "3", "--seed", "5", "--dir", "outdir")
    assert out.returncode == 0, out.stderr
    assert (recipe / "calls.txt").read_text().split() == [
        "--stage", "2", "--stop-stage", "4", "--quick", "false", "--nj", "3", "--seed", "5", "--dir", "outdir"]


def test_the_units_stages_alone_leave_the_pipeline_alone(recipe):
    out = run(recipe, "--stage", "14")   # past the last stage: nothing to do, and no call of stages 0-6
    assert out.returncode == 0, out.stderr
    assert not (recipe / "calls.txt").exists()


def test_help_lists_the_stages_and_a_typo_is_one_line(recipe):
    out = run(recipe, "--help")
    assert "7  frame labels" in out.stdout + out.stderr
    out = run(recipe, "--stag", "3")
    assert out.returncode != 0 and len(out.stderr.strip().splitlines()) <= 3
