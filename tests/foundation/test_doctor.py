"""doctor reports every backend and fails, with a fix line, when a required part is missing."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from phonasr.bin import doctor

ROOT = Path(__file__).resolve().parents[2]


def run_doctor(*args: str, path: str = os.environ["PATH"]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "phonasr.bin.doctor", *args], capture_output=True, text=True,
                          env=dict(os.environ, PATH=path), timeout=300)


def test_console_script_passes_on_a_set_up_machine():
    # The README's other spelling of the same command: the entry point pip wrote into .venv/bin.
    script = ROOT / ".venv/bin/phonasr-doctor"
    assert script.is_file(), "phonasr-doctor is missing: pip install -e . did not install the console script"
    out = subprocess.run([str(script)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    for name in ("torch", "k2", "kaldifeat", "fbank backend", "lhotse", "kaldifst", "kaldi-decoder", "espeak-ng",
                 "sox", "ffmpeg", "ffmpeg mp3 encoder"):
        assert f" {name} " in out.stdout, f"doctor does not report {name}:\n{out.stdout}"
    # k2 cannot load in the Python 3.11 environment: it is reported as absent, with the line that fixes it.
    assert "--k2 true" in out.stdout


def test_missing_system_tools_fail_with_their_apt_line():
    # PATH holds only the venv's scripts: espeak-ng, sox and ffmpeg all disappear.
    out = run_doctor(path=str(ROOT / ".venv/bin"))
    assert out.returncode == 1, out.stdout + out.stderr
    lines = out.stdout.split("\n")
    for name in ("espeak-ng", "sox", "ffmpeg", "ffmpeg mp3 encoder"):
        assert any(line.split() == ["[MISSING]", *name.split()] for line in lines), f"{name}:\n{out.stdout}"
    espeak = next(i for i, line in enumerate(lines) if line.split() == ["[MISSING]", "espeak-ng"])
    assert lines[espeak + 1].strip() == "fix: apt-get install espeak-ng"


def test_ffmpeg_without_libmp3lame_is_missing(tmp_path, monkeypatch):
    # A minimal ffmpeg build: it runs, but cannot write the synthetic corpus's mp3.
    stub = tmp_path / "ffmpeg"
    stub.write_text("#!/bin/sh\necho 'Encoders:'\necho ' A....D aac                  AAC (Advanced Audio Coding)'\n")
    stub.chmod(0o755)
    assert doctor._ffmpeg_mp3() == "libmp3lame"  # this machine's ffmpeg (Debian's) has the encoder
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    assert doctor._ffmpeg_mp3() is None


def test_require_rejects_unknown_names(capsys):
    with pytest.raises(SystemExit) as exit_info:
        doctor.main(["--require", "gpu,kaldfeat"])
    assert exit_info.value.code == 2
    assert "--require: unknown part(s) kaldfeat; choose from gpu, k2, k2-gpu, kaldifeat" in capsys.readouterr().err


def test_doctor_fails_with_fix_line_for_a_required_missing_part():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU, so requiring one cannot fail")
    out = run_doctor("--require", "gpu")
    assert out.returncode == 1
    lines = out.stdout.split("\n")
    gpu = next(i for i, line in enumerate(lines) if line.split()[:2] == ["[MISSING]", "GPU"])
    # An instruction, naming what to install or check, not a description of the situation.
    assert lines[gpu + 1].strip().startswith("fix: torch ") and ("CUDA" in lines[gpu + 1]), lines[gpu + 1]


def test_a_probe_that_raises_counts_as_missing(capsys):
    def broken() -> str:
        raise OSError("libfoo.so: cannot open shared object file")

    failures = doctor.run_checks([doctor.Check("foo", broken, "apt-get install foo", True)])
    assert failures == 1
    assert "libfoo.so" in capsys.readouterr().out


@pytest.mark.parametrize("kaldifeat, build_failed, cuda, want", [
    (True, False, True, "kaldifeat (installed; computes on the GPU)"),
    (True, False, False, "kaldifeat (installed; computes on the CPU)"),
    (False, False, False, "kaldi-native-fbank (kaldifeat not installed: `bash utils/install.sh --kaldifeat true` "
                          "builds it; on a CPU its ~3x faster fbank repays the build only on corpora of tens of "
                          "hours)"),
    (False, True, False, "kaldi-native-fbank (kaldifeat's build failed: `bash utils/install.sh --retry-kaldifeat "
                         "true` retries it)"),
])
def test_fbank_backend_says_which_is_active_and_why(monkeypatch, kaldifeat, build_failed, cuda, want):
    import torch

    from phonasr.features import backends

    monkeypatch.setattr(backends, "is_available", lambda name: kaldifeat or name != "kaldifeat")
    monkeypatch.setattr(doctor, "_kaldifeat_build_failed", lambda: build_failed)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert doctor._fbank_backend() == want


def test_kaldifeat_fix_line_builds_it_or_retries_a_failed_build(monkeypatch, tmp_path):
    # The installer's marker of a failed build lies in the venv (sys.prefix).
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    assert doctor._kaldifeat_fix().startswith("bash utils/install.sh --kaldifeat true  (builds it from its sdist")
    (tmp_path / ".kaldifeat-failed").write_text("0123456789abcdef\n")
    assert doctor._kaldifeat_fix().startswith("bash utils/install.sh --retry-kaldifeat true  (the last build failed")
