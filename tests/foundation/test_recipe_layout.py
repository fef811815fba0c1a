"""The recipe directories have the Kaldi layout users expect, and their path.sh works from anywhere it is linked.

All cheap: no stage runs. path.sh is sourced for real, which is only cheap because .venv is current; the guard
below fails the test rather than let a stale stamp start the installer from inside the suite.
"""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = ["commonvoice_id", "commonvoice_pl", "cv_lang10", "mini_pl"]
TEMPLATE = ROOT / "egs/TEMPLATE/jsa_spg/jsa_spg.sh"  # the shared JSA-SPG pipeline, no recipe of its own
RECIPES = sorted(p.name for p in (ROOT / "egs").iterdir() if p.is_dir() and p.name != "TEMPLATE")
JSA_SPG_RECIPES = ["commonvoice_id", "commonvoice_pl", "mini_pl"]


def test_the_four_recipes_exist():
    assert set(EXPECTED) <= set(RECIPES), RECIPES


@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_layout(recipe: str):
    recipe_dir = ROOT / "egs" / recipe
    for name in ("run.sh", "cmd.sh", "path.sh"):
        assert (recipe_dir / name).is_file(), f"egs/{recipe}/{name} is missing"
    assert any((recipe_dir / "conf").iterdir()), f"egs/{recipe}/conf is missing or empty"
    for shared in ("steps", "utils", "local"):
        link = recipe_dir / shared
        assert link.is_symlink(), f"egs/{recipe}/{shared} is not a symlink"
        assert link.resolve() == ROOT / shared, f"egs/{recipe}/{shared} -> {link.resolve()}, not {ROOT / shared}"


@pytest.mark.parametrize("recipe", JSA_SPG_RECIPES)
def test_jsa_spg_recipes_run_the_shared_pipeline(recipe: str):
    # one pipeline outside every recipe: a recipe differs in its conf/ only
    run_sh = ROOT / "egs" / recipe / "run.sh"
    assert run_sh.is_symlink() and run_sh.resolve() == TEMPLATE


def test_the_template_alone_is_no_recipe():
    out = subprocess.run(["bash", str(TEMPLATE), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "run a recipe's run.sh" in out.stderr


@pytest.mark.parametrize("recipe", RECIPES)
def test_run_sh_help_lists_the_stage_options(recipe: str):
    out = subprocess.run(["bash", str(ROOT / "egs" / recipe / "run.sh"), "--help"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--stage" in out.stdout and "--stop-stage" in out.stdout, out.stdout


def _venv_is_current() -> bool:
    """path.sh's own test: the .venv stamp equals the hash of the requirements (else it runs the installer)."""
    want = hashlib.sha256(b"".join((ROOT / f).read_bytes() for f in (
        "requirements/base.txt", "requirements/constraints.txt", "setup.py"))).hexdigest()[:16]
    stamp = ROOT / ".venv/.phonasr-stamp"
    return stamp.exists() and stamp.read_text().strip() == want


@pytest.mark.parametrize("recipe", RECIPES)
@pytest.mark.parametrize("option", ["--stage", "--stop-stage"])
def test_run_sh_refuses_a_stage_that_is_not_a_number(recipe: str, option: str, tmp_path: Path):
    # before anything runs: a non-number would make every stage test false and the recipe silently do nothing
    out = subprocess.run(["bash", str(ROOT / "egs" / recipe / "run.sh"), option, "3x", "--corpus-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "take whole numbers, got '3x'" in out.stderr, out.stderr


@pytest.mark.parametrize("recipe", RECIPES)
def test_path_sh_through_symlinks_finds_the_toolkit(recipe: str, tmp_path: Path):
    if not _venv_is_current():
        pytest.fail(".venv is not set up (its stamp is stale): run `bash utils/install.sh` first")
    # As run.sh --dir does (an absolute link), plus a relative link on top: a cluster job script in the output
    # dir sources ./path.sh, so BASH_SOURCE is "./path.sh" there.
    (tmp_path / "recipe").mkdir()
    (tmp_path / "recipe/path.sh").symlink_to(ROOT / "egs" / recipe / "path.sh")
    (tmp_path / "out").mkdir()
    (tmp_path / "out/path.sh").symlink_to("../recipe/path.sh")
    out = subprocess.run(["bash", "-c", '. ./path.sh && printf "%s\\n" "$PHONASR_ROOT" "$(command -v python)"'],
                         cwd=tmp_path / "out", capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == [str(ROOT), str(ROOT / ".venv/bin/python")]
