"""utils/log.sh: the log line format (time, file:line:function), die, and the .done markers stages rely on."""
from __future__ import annotations

import re
from pathlib import Path

UTILS = Path(__file__).resolve().parents[2] / "utils"
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"


def write_script(tmp_path: Path, *body: str) -> Path:
    """A bash script that sources log.sh on line 3 and then runs ``body``, its line i being line 3 + i."""
    script = tmp_path / "stage.sh"
    script.write_text("\n".join(["#!/usr/bin/env bash", "set -euo pipefail", f". {UTILS}/log.sh", *body]) + "\n")
    return script


def test_log_line_names_time_file_line_function_and_keeps_backslashes(tmp_path, run_cmd):
    script = write_script(
        tmp_path,
        "prepare() {",
        r"  log 'C:\temp\new' two  words",  # line 5: echo -e would turn \t and \n into a tab and a newline
        "}",
        "prepare",
        "log done",                         # line 8
    )
    proc = run_cmd(["bash", str(script)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.split("\n")
    assert re.fullmatch(STAMP + r" \(stage\.sh:5:prepare\) C:\\temp\\new two words", lines[0]), lines
    assert re.fullmatch(STAMP + r" \(stage\.sh:8:main\) done", lines[1]), lines
    assert lines[2:] == [""]
    assert proc.stdout == ""  # logs go to stderr, leaving stdout to the stage's data


def test_die_logs_an_error_and_exits_1(tmp_path, run_cmd):
    script = write_script(tmp_path, 'die "no such dir: data/train"', "echo still running")
    proc = run_cmd(["bash", str(script)], cwd=tmp_path)
    assert proc.returncode == 1
    assert re.fullmatch(STAMP + r" \(stage\.sh:4:main\) ERROR: no such dir: data/train\n", proc.stderr), proc.stderr
    assert "still running" not in proc.stdout


def test_stage_done_is_false_until_mark_done(tmp_path, run_cmd):
    script = write_script(
        tmp_path,
        'if stage_done "$1" fbank; then echo before: done; else echo before: todo; fi',
        'mark_done "$1" fbank',
        'if stage_done "$1" fbank; then echo after: done; else echo after: todo; fi',
        'if stage_done "$1" lang; then echo other: done; else echo other: todo; fi',
    )
    exp = tmp_path / "exp/fbank"  # mark_done creates the directory
    proc = run_cmd(["bash", str(script), str(exp)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n") == ["before: todo", "after: done", "other: todo", ""]
    assert re.fullmatch(STAMP + r"\n", (exp / ".fbank.done").read_text())
