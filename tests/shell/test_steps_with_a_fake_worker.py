"""What steps/train.sh and steps/decode_ctc.sh hand their launcher and worker, and what they show when it fails.

--num-threads means the same in the scripts and the workers (utils/num_threads.sh, phonasr.utils.cli.thread_count):
N >= 1 threads, reserved from the launcher; 0 = torch's choice, nothing reserved. A training that fails on a
mistake in its config shows the worker's one-line "error: ..." on the terminal, not only in the job log.

The scripts run with a recording launcher around utils/run.pl and a fake ``python`` (the worker), so what each of
them was given can be read back without training or decoding anything.
"""
from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

import pytest

from phonasr.utils.cli import thread_count

ROOT = Path(__file__).resolve().parents[2]

FAKE_PYTHON = """#!/usr/bin/env bash
# The worker: records its arguments and writes what the script checks for afterwards; with $WORKER_STDERR set it
# fails instead, as the real worker does on a bad config: that text on stderr, exit status 2.
echo "worker $*" >>"$CALLS"
if [ -n "${WORKER_STDERR:-}" ]; then
  printf '%s\n' "$WORKER_STDERR" >&2
  exit 2
fi
args=("$@")
for ((i = 0; i < $#; i++)); do
  [ "${args[i]}" = --exp-dir ] && touch "${args[i+1]}/final.pt"
done
[ "$2" = phonasr.bin.decode_ctc ] && printf 'u1\\ta b\\n' >"${args[-1]}/hyp.txt"
exit 0
"""

RECORDING_LAUNCHER = f"""#!/usr/bin/env bash
echo "launcher $*" >>"$CALLS"
exec {ROOT}/utils/run.pl "$@"
"""


@pytest.fixture
def script(tmp_path: Path):
    """Runs a steps/ script from the repository root; returns (process, launcher args, worker args)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("python", FAKE_PYTHON), ("launcher", RECORDING_LAUNCHER)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    calls = tmp_path / "calls.txt"
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", CALLS=str(calls))

    def run(name: str, *args: str, worker_stderr: str = ""):
        proc = subprocess.run(["bash", f"steps/{name}", "--cmd", str(bin_dir / "launcher"), *args], cwd=ROOT,
                              env=dict(env, WORKER_STDERR=worker_stderr), capture_output=True, text=True, timeout=60)
        lines = calls.read_text().splitlines() if calls.exists() else []
        calls.unlink(missing_ok=True)
        launcher = [line.split()[1:] for line in lines if line.startswith("launcher ")]
        worker = [line.split()[1:] for line in lines if line.startswith("worker ")]
        return proc, launcher, worker

    return run


def _threads(argv: list[str]) -> str | None:
    """The value after --num-threads in an argument list, or None when it is not there."""
    return argv[argv.index("--num-threads") + 1] if "--num-threads" in argv else None


def _launcher_threads(argv: list[str]) -> str | None:
    """--num-threads among the launcher's own options (pairs before JOB=... / the log), not the worker's."""
    options = {}
    while argv and argv[0].startswith("--"):
        options[argv[0]], argv = argv[1], argv[2:]
    return options.get("--num-threads")


@pytest.fixture
def train_args(tmp_path: Path):
    config = tmp_path / "conf.yaml"
    config.write_text("model: {}\n")
    return lambda: [str(config), str(tmp_path / f"exp{len(list(tmp_path.glob('exp*')))}")]


@pytest.fixture
def decode_args(tmp_path: Path):
    (tmp_path / "final.pt").write_text("")
    (tmp_path / "cuts.jsonl.gz").write_text("")
    return lambda: [str(tmp_path / "final.pt"), str(tmp_path / "cuts.jsonl.gz"),
                    str(tmp_path / f"dec{len(list(tmp_path.glob('dec*')))}")]


@pytest.mark.parametrize("threads, launcher_gets, worker_gets", [(None, None, None), ("0", None, None),
                                                                 ("2", "2", "2")])
def test_train_sh(script, train_args, threads, launcher_gets, worker_gets):
    # Default 0: torch's choice in the worker (its own default), and the launcher reserves nothing extra.
    options = [] if threads is None else ["--num-threads", threads]
    proc, launcher, worker = script("train.sh", *options, *train_args())
    assert proc.returncode == 0, proc.stderr
    assert (_launcher_threads(launcher[0]), _threads(worker[0])) == (launcher_gets, worker_gets)


@pytest.mark.parametrize("threads, launcher_gets, worker_gets", [(None, "1", "1"), ("0", None, "0"),
                                                                 ("2", "2", "2")])
def test_decode_ctc_sh(script, decode_args, threads, launcher_gets, worker_gets):
    # Default 1: decoding runs several jobs side by side. 0 reaches the worker, whose 0 is torch's choice too.
    options = [] if threads is None else ["--num-threads", threads]
    proc, launcher, worker = script("decode_ctc.sh", *options, *decode_args())
    assert proc.returncode == 0, proc.stderr
    assert (_launcher_threads(launcher[0]), _threads(worker[0])) == (launcher_gets, worker_gets)


@pytest.mark.parametrize("name", ["train.sh", "decode_ctc.sh"])
@pytest.mark.parametrize("bad", ["-1", "two", "1.5"])
def test_scripts_refuse_the_same_bad_counts(script, train_args, decode_args, name, bad):
    args = train_args() if name == "train.sh" else decode_args()
    proc, launcher, _ = script(name, "--num-threads", bad, *args)
    assert proc.returncode == 1
    assert f"--num-threads must be 0 (torch's choice) or a positive integer, got '{bad}'" in proc.stderr
    assert launcher == []


def test_worker_argument_type_has_the_same_meaning():
    assert (thread_count("0"), thread_count("3")) == (0, 3)
    for bad in ("-1", "two", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError, match="0 \\(torch's choice\\) or a positive thread count"):
            thread_count(bad)


@pytest.mark.parametrize("name", ["train.sh", "decode_ctc.sh"])
def test_help_states_the_meaning(name):
    out = subprocess.run(["bash", f"steps/{name}", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    meaning = subprocess.run(["bash", "-c", ". utils/num_threads.sh && num_threads_help"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.strip()
    assert "0: torch's choice" in meaning and "reserves N CPUs" in meaning
    assert meaning in out.stdout, out.stdout


CONFIG_ERROR = "error: conf/s2p.yaml: unknown key 'modle' (did you mean 'model'?)"


@pytest.mark.parametrize("worker_stderr", [
    f"INFO loading conf/s2p.yaml\n{CONFIG_ERROR}",
    # torchrun's prefixes, and the same mistake from each of two ranks: shown once, as the worker wrote it.
    f"[rank0]:{CONFIG_ERROR}\n[rank1]: {CONFIG_ERROR}",
], ids=["one-process", "torchrun-ranks"])
def test_train_sh_shows_the_workers_error_line(script, train_args, worker_stderr):
    proc, _, _ = script("train.sh", *train_args(), worker_stderr=worker_stderr)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines.count(CONFIG_ERROR) == 1, proc.stderr
    failed = next(i for i, line in enumerate(lines) if "ERROR: training failed; see " in line)
    assert lines.index(CONFIG_ERROR) < failed  # the cause first, then where the whole log is
    assert not any(line.startswith("INFO") for line in lines)  # the rest of the log stays in the log


def test_train_sh_without_an_error_line_only_points_to_the_log(script, train_args):
    proc, _, _ = script("train.sh", *train_args(), worker_stderr="Segmentation fault (core dumped)")
    assert proc.returncode == 1
    assert "ERROR: training failed; see " in proc.stderr
    assert "error: " not in proc.stderr and "Segmentation" not in proc.stderr
