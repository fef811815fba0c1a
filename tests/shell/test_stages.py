"""utils/stages.sh: jobs run side by side with in_background / wait_background."""
from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

UTILS = Path(__file__).resolve().parents[2] / "utils"


def write_script(tmp_path: Path, body: str) -> Path:
    """A recipe-like script: strict mode, stage options, utils/log.sh and utils/stages.sh, then ``body``."""
    script = tmp_path / "recipe.sh"
    script.write_text(f"""#!/usr/bin/env bash
set -euo pipefail
stage=0
stop_stage=100
. {UTILS}/log.sh
. {UTILS}/stages.sh
{body}
""")
    return script


def run_script(tmp_path: Path, run_cmd, body: str):
    return run_cmd(["bash", str(write_script(tmp_path, body))], cwd=tmp_path)


def test_background_jobs_run_side_by_side(tmp_path: Path, run_cmd):
    # Each job finishes only once the other has started: one after the other, the first would give up.
    rendezvous = "touch {me}.started; for _ in $(seq 200); do [ -e {other}.started ] && echo {me} >{me}.txt && " \
                 "exit 0; sleep 0.05; done; exit 1"
    out = run_script(tmp_path, run_cmd, f"""
in_background bash -c '{rendezvous.format(me="a", other="b")}'
in_background bash -c '{rendezvous.format(me="b", other="a")}'
wait_background
echo both: $(cat a.txt b.txt)
""")
    assert out.returncode == 0, out.stderr
    assert "both: a b" in out.stdout


def test_a_failed_job_fails_the_stage_after_the_others_end(tmp_path: Path, run_cmd):
    out = run_script(tmp_path, run_cmd, """
in_background bash -c 'exit 3'
in_background bash -c 'sleep 1; echo late >late.txt'
wait_background
echo not reached
""")
    assert out.returncode == 1
    assert "1 of the jobs run side by side failed" in out.stderr
    assert "not reached" not in out.stdout
    assert (tmp_path / "late.txt").read_text() == "late\n"  # the other job was not abandoned half-way


def test_stage_times_count_the_selected_stages(tmp_path: Path, run_cmd):
    out = run_script(tmp_path, run_cmd, """
stage=1
stop_stage=2
if run_stage 0; then echo never; fi
if run_stage 1; then sleep 1; fi
if run_stage 2; then :; fi
if run_stage 3; then echo never; fi
stage_times times.tsv
""")
    assert out.returncode == 0, out.stderr
    assert "never" not in out.stdout
    # whole seconds: the one-second stage reads 1 or 2 depending on where the clock's second ticks
    assert re.search(r"wall time per stage: 1:[12]s 2:0s \(total [12] s\)", out.stderr), out.stderr
    rows = [line.split("\t") for line in (tmp_path / "times.tsv").read_text().splitlines()]
    assert [r[0] for r in rows] == ["1", "2"] and rows[0][1] in ("1", "2") and rows[1][1] == "0"


def test_an_interrupted_recipe_stops_the_jobs_and_their_children(tmp_path: Path):
    script = write_script(tmp_path, """
in_background bash -c 'sleep 30 & echo $! >child.pid; wait'
in_background bash -c 'sleep 30; echo finished >late.txt'
echo started >started.txt
wait_background
""")
    proc = subprocess.Popen(["bash", str(script)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 10
    while not ((tmp_path / "started.txt").exists() and (tmp_path / "child.pid").exists()):
        assert time.monotonic() < deadline, "the jobs did not start"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130 and "stopped the 2 jobs running side by side" in err
    child = int((tmp_path / "child.pid").read_text())
    time.sleep(0.2)
    assert not _running(child), "the job's own child (as a launcher's worker would be) still runs"
    assert not (tmp_path / "late.txt").exists()


def _running(pid: int) -> bool:
    """True while ``pid`` runs: not gone and not a zombie waiting for init (which in a container may never reap)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] != "Z"
