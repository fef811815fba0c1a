"""utils/stages.sh: jobs run side by side with in_background / wait_background."""
from __future__ import annotations

import re
import time
from pathlib import Path

UTILS = Path(__file__).resolve().parents[2] / "utils"


def run_script(tmp_path: Path, run_cmd, body: str):
    script = tmp_path / "recipe.sh"
    script.write_text(f"""#!/usr/bin/env bash
set -euo pipefail
stage=0
stop_stage=100
. {UTILS}/log.sh
. {UTILS}/stages.sh
{body}
""")
    return run_cmd(["bash", str(script)], cwd=tmp_path)


def test_background_jobs_run_side_by_side(tmp_path: Path, run_cmd):
    start = time.monotonic()
    out = run_script(tmp_path, run_cmd, """
in_background bash -c 'sleep 1; echo a >a.txt'
in_background bash -c 'sleep 1; echo b >b.txt'
wait_background
echo both: $(cat a.txt b.txt)
""")
    assert out.returncode == 0, out.stderr
    assert "both: a b" in out.stdout
    assert time.monotonic() - start < 1.9  # together, not one after the other


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
