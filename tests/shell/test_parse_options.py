"""utils/parse_options.sh: every rule recipes rely on, including the errors, and where it matches Kaldi's own
script (egs/wsj/s5/utils/parse_options.sh) in what a Kaldi user can see."""
from __future__ import annotations

from pathlib import Path

import pytest

UTILS = Path(__file__).resolve().parents[2] / "utils"

# A script in the style of a recipe: defaults, help message, parse_options, then print what it got.
SCRIPT = f"""#!/usr/bin/env bash
set -euo pipefail
stage=0
stop_stage=100
use_gpu=false
lang=pl
cmd=utils/run.pl
help_message="Usage: demo.sh [--stage N] [--use-gpu true|false] <in> <out>"
. {UTILS}/parse_options.sh
echo "stage=$stage stop_stage=$stop_stage use_gpu=$use_gpu lang=$lang"
echo "args=$#:$*"
"""


@pytest.fixture
def demo(tmp_path: Path, run_cmd):
    script = tmp_path / "demo.sh"
    script.write_text(SCRIPT)

    def call(*args: str):
        return run_cmd(["bash", str(script), *args], cwd=tmp_path)

    return call


def test_dashes_become_underscores_and_positionals_stay(demo):
    proc = demo("--stop-stage", "3", "--stage", "2", "in dir", "out")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["stage=2 stop_stage=3 use_gpu=false lang=pl", "args=2:in dir out"]


def test_options_stop_at_first_positional_and_after_double_dash(demo):
    proc = demo("a", "--stage", "5")
    assert proc.stdout.splitlines() == ["stage=0 stop_stage=100 use_gpu=false lang=pl", "args=3:a --stage 5"]
    proc = demo("--stage", "1", "--", "--not-an-option")
    assert proc.stdout.splitlines()[1] == "args=1:--not-an-option"


def test_boolean_accepts_true_false_only(demo):
    assert demo("--use-gpu", "true").stdout.startswith("stage=0 stop_stage=100 use_gpu=true")
    proc = demo("--use-gpu", "yes")
    assert proc.returncode != 0
    assert "--use-gpu takes true or false, not 'yes'" in proc.stderr


@pytest.mark.parametrize("option", ["--no-such-thing", "--1st", "--a.b"])
def test_unknown_option_is_invalid(demo, option):
    proc = demo(option, "1")
    assert proc.returncode != 0
    assert f"invalid option {option}" in proc.stderr
    assert proc.stdout == ""


def test_equals_form_rejected(demo):
    proc = demo("--stage=3")
    assert proc.returncode != 0
    assert "not '--stage=3'" in proc.stderr


def test_missing_value(demo):
    proc = demo("--stage")
    assert proc.returncode != 0
    assert "needs a value" in proc.stderr


def test_config_sourced_first_so_command_line_wins(demo, tmp_path):
    conf = tmp_path / "x.conf"
    conf.write_text("stage=7\nlang=id\n")
    # --config given after --stage still loses against it: the file is read before any other option.
    proc = demo("--stage", "4", "--config", str(conf), "in")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["stage=4 stop_stage=100 use_gpu=false lang=id", "args=1:in"]


def test_missing_config_file(demo, tmp_path):
    proc = demo("--config", str(tmp_path / "nope.conf"))
    assert proc.returncode != 0
    assert "nope.conf' does not exist" in proc.stderr


def test_config_from_a_process_substitution_is_read_as_kaldi_reads_it(tmp_path, run_cmd):
    # --config <(...) is /dev/fd/N, a pipe: readable, not a regular file. Kaldi's script sources it.
    script = tmp_path / "demo.sh"
    script.write_text(SCRIPT)
    proc = run_cmd(["bash", "-c", f'bash {script} --config <(echo stage=3) in'], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["stage=3 stop_stage=100 use_gpu=false lang=pl", "args=1:in"]


def test_config_that_is_a_directory_is_refused(demo, tmp_path):
    (tmp_path / "conf").mkdir()
    proc = demo("--config", str(tmp_path / "conf"))
    assert proc.returncode != 0
    assert "conf' does not exist or is not readable" in proc.stderr


@pytest.mark.parametrize("source", ["option", "config"])
def test_empty_cmd_is_refused_as_kaldi_refuses_it(demo, tmp_path, source):
    # The usual cause: --cmd "$train_cmd" with cmd.sh not sourced. Kaldi stops at once; so do we.
    conf = tmp_path / "x.conf"
    conf.write_text("cmd=\n")
    proc = demo("--cmd", "", "in") if source == "option" else demo("--config", str(conf), "in")
    assert proc.returncode != 0
    assert "empty argument to --cmd option" in proc.stderr
    assert proc.stdout == ""


def test_a_script_without_cmd_may_leave_it_unset(tmp_path, run_cmd):
    script = tmp_path / "nocmd.sh"
    script.write_text(f"set -euo pipefail\nstage=0\n. {UTILS}/parse_options.sh\necho stage=$stage\n")
    proc = run_cmd(["bash", str(script), "--stage", "2"], cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, "stage=2\n"), proc.stderr


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_help_message_to_stdout_unlike_kaldi(demo, flag):
    # Kaldi prints it to stderr; stdout (as GNU tools do) lets `script --help | less` work. Exit 0 as in Kaldi.
    proc = demo(flag)
    assert proc.returncode == 0
    assert proc.stdout.strip() == "Usage: demo.sh [--stage N] [--use-gpu true|false] <in> <out>"
