"""The installer is idempotent: on a set-up machine a second run changes nothing and says so."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

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


# ------------------------------------------------------------------------------------------------------------
# The installer's failure paths, on a copy of it whose environments are stubs: the real .venv is never touched
# and nothing is built or downloaded.

STUB_VENV_PYTHON = """#!/usr/bin/env bash
# A set-up .venv without kaldifeat, on a machine where pip cannot download pybind11's sdist. Its torch is a CPU
# build unless $STUB_TORCH_CUDA is set.
case "$*" in
  "-m pip download"*) echo "ERROR: No matching distribution found for pybind11 (stub)" >&2; exit 1 ;;
  "-c import torch, sys"*) [ -n "${STUB_TORCH_CUDA:-}" ] ;;
  "-c import torch"*) echo "torch 0.0+stub" ;;
  *) exit 1 ;;
esac
"""


def _stamp(root: Path, *files: str) -> str:
    """The installer's hash_of: the first 16 hex digits of the sha256 of the files' concatenation."""
    return hashlib.sha256(b"".join((root / f).read_bytes() for f in files)).hexdigest()[:16]


def _executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)


@pytest.fixture
def stub_root(tmp_path: Path) -> Path:
    """A tree with utils/install.sh and what it reads, and a .venv whose stamp is current (a stub python)."""
    for rel in ("utils/install.sh", "utils/parse_options.sh", "utils/log.sh", "setup.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, tmp_path / rel)
    shutil.copytree(ROOT / "requirements", tmp_path / "requirements")
    _executable(tmp_path / ".venv/bin/python", STUB_VENV_PYTHON)
    (tmp_path / ".venv/.phonasr-stamp").write_text(
        _stamp(tmp_path, "requirements/base.txt", "requirements/constraints.txt", "setup.py") + "\n")
    return tmp_path


def _install(root: Path, *args: str, path: str = os.environ["PATH"], cuda: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=path, STUB_TORCH_CUDA="1" if cuda else "")
    return subprocess.run(["bash", str(root / "utils/install.sh"), "--system", "false", *args], cwd=root,
                          env=env, capture_output=True, text=True, timeout=60)


def test_by_default_kaldifeat_is_not_built_for_a_cpu_torch(stub_root):
    # 10-15 minutes of compiling for an fbank that saves seconds on a CPU unless the corpus is huge: not by default.
    out = _install(stub_root, "--k2", "false")
    assert out.returncode == 0, out.stderr
    assert "kaldifeat: skipped, .venv's torch is a CPU build" in out.stderr
    assert "--kaldifeat true builds it anyway" in out.stderr
    assert "building kaldifeat" not in out.stderr
    assert not (stub_root / ".venv/.kaldifeat-failed").exists()
    assert not (stub_root / ".cache/install/kaldifeat.log").exists()


@pytest.mark.parametrize("option, cuda", [("auto", True), ("true", False)])
def test_kaldifeat_is_built_for_a_cuda_torch_or_when_asked(stub_root, option, cuda):
    out = _install(stub_root, "--k2", "false", "--kaldifeat", option, cuda=cuda)
    assert out.returncode == 0, out.stderr
    assert "building kaldifeat 1.24 from source" in out.stderr and "skipped" not in out.stderr, out.stderr


def test_kaldifeat_option_takes_auto_true_or_false(stub_root):
    out = _install(stub_root, "--kaldifeat", "yes")
    assert out.returncode == 1
    assert "--kaldifeat takes auto, true or false, not 'yes'" in out.stderr
    assert not (stub_root / ".cache").exists()  # refused before doing anything


def test_a_failed_kaldifeat_build_says_why_and_the_installer_carries_on(stub_root):
    out = _install(stub_root, "--k2", "false", "--kaldifeat", "true")
    assert out.returncode == 0, out.stderr
    assert "WARNING: kaldifeat did not build (ERROR: No matching distribution found for pybind11" in out.stderr
    assert "environment ready: torch 0.0+stub" in out.stderr
    failed = stub_root / ".venv/.kaldifeat-failed"
    assert failed.read_text().strip() == _stamp(stub_root, "requirements/constraints.txt")
    assert not (stub_root / ".cache/install/pybind11").exists()  # no half-unpacked sources left to trust
    out = _install(stub_root, "--k2", "false", "--kaldifeat", "true")
    assert out.returncode == 0 and "not retrying" in out.stderr, out.stderr


def test_k2_venv_with_a_current_stamp_but_no_python_is_rebuilt(stub_root, tmp_path_factory):
    stamp = stub_root / ".venv-k2/.phonasr-stamp"
    stamp.parent.mkdir()
    stamp.write_text(_stamp(stub_root, "requirements/k2.txt", "setup.py") + "\n")
    # pyenv's Python 3.9 is a stub that refuses to make the venv, so "rebuilding" stops right there.
    bin_dir = tmp_path_factory.mktemp("bin")
    _executable(bin_dir / "pyenv", f'#!/usr/bin/env bash\necho "{bin_dir}/py39"\n')
    _executable(bin_dir / "py39/bin/python", '#!/usr/bin/env bash\necho "stub python3.9: $*" >&2\nexit 3\n')
    path = f"{bin_dir}:{os.environ['PATH']}"
    out = _install(stub_root, "--kaldifeat", "false", "--k2", "true", path=path)
    assert out.returncode != 0
    assert "building .venv-k2" in out.stderr and "stub python3.9: -m venv" in out.stderr, out.stderr
    _executable(stub_root / ".venv-k2/bin/python", "#!/usr/bin/env bash\nexit 0\n")
    out = _install(stub_root, "--kaldifeat", "false", "--k2", "true", path=path)
    assert out.returncode == 0 and ".venv-k2 is up to date" in out.stderr, out.stderr


def test_a_failed_kenlm_build_says_why_and_is_not_retried(stub_root):
    out = _install(stub_root, "--k2", "false", "--kaldifeat", "false")
    assert out.returncode == 0, out.stderr
    assert "building KenLM 0.3.0's lmplz" in out.stderr
    assert "WARNING: KenLM did not build (ERROR: No matching distribution" in out.stderr, out.stderr
    assert "environment ready" in out.stderr
    assert (stub_root / ".venv/.kenlm-failed").is_file() and not (stub_root / ".venv/lmplz").exists()
    out = _install(stub_root, "--k2", "false", "--kaldifeat", "false")
    assert out.returncode == 0 and "KenLM failed to build earlier" in out.stderr, out.stderr
    assert "building KenLM" not in out.stderr


def test_kenlm_false_skips_it(stub_root):
    out = _install(stub_root, "--k2", "false", "--kaldifeat", "false", "--kenlm", "false")
    assert out.returncode == 0, out.stderr
    assert "KenLM" not in out.stderr and not (stub_root / ".venv/.kenlm-failed").exists()
