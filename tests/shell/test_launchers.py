"""utils/run.pl, utils/slurm.pl and utils/queue.pl: one interface, tested the same way against each.

run.pl runs everywhere; slurm.pl runs against a real one-node Slurm cluster and queue.pl against a real
one-host Grid Engine cell, both started on localhost by the session fixtures in conftest.py.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

UTILS = Path(__file__).resolve().parents[2] / "utils"
LAUNCHERS = ["run.pl", "slurm.pl", "queue.pl"]
CLUSTER_FIXTURE = {"slurm.pl": "slurm_cluster", "queue.pl": "sge_cluster"}

LOG_RE = re.compile(
    r"\A# (?P<cmd>.*)\n# Started at .+\n(?P<output>(?:.*\n)*?)"
    r"# Accounting: time=\d+ threads=(?P<threads>\d+)\n# Ended \(code (?P<code>\d+)\) at .+\n\Z"
)


@pytest.fixture(params=[
    "run.pl", pytest.param("slurm.pl", marks=pytest.mark.slurm), pytest.param("queue.pl", marks=pytest.mark.sge)
])
def launch(request, tmp_path: Path, run_cmd):
    """Calls the launcher under test from tmp_path: launch(*args) -> CompletedProcess."""
    name = request.param
    if name in CLUSTER_FIXTURE:
        request.getfixturevalue(CLUSTER_FIXTURE[name])

    def call(*args: str):
        return run_cmd([str(UTILS / name), *args], cwd=tmp_path, timeout=120)

    call.name = name
    return call


def parse_log(path: Path) -> dict:
    text = path.read_text()
    match = LOG_RE.match(text)
    assert match, f"{path} is not a complete task log:\n{text}"
    return match.groupdict()


def max_overlap(times_file: Path) -> int:
    """Most tasks running at the same moment, from the 'start <t>' / 'end <t>' lines the tasks wrote."""
    events = []
    for line in times_file.read_text().split("\n"):
        if line:
            kind, stamp = line.split()
            # At equal times count ends first, so back-to-back tasks do not count as overlapping.
            events.append((float(stamp), 0 if kind == "end" else 1))
    running = best = 0
    for _, is_start in sorted(events):
        running += 1 if is_start else -1
        best = max(best, running)
    return best


def timed_task(times_file: Path, seconds: float) -> str:
    """A bash command that records when it starts and ends (appends are atomic for such short lines)."""
    return (
        f"echo start $(date +%s.%N) >> {times_file}; sleep {seconds}; echo end $(date +%s.%N) >> {times_file}"
    )


@pytest.mark.parametrize("name", LAUNCHERS)
def test_usage_without_arguments(name, tmp_path, run_cmd):
    proc = run_cmd([str(UTILS / name)], cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"Usage: {name} [options] [JOB=1:N] LOG command")
    assert run_cmd([str(UTILS / name), "--help"], cwd=tmp_path).stdout.startswith(f"Usage: {name}")


def test_array_job_logs(launch, tmp_path):
    proc = launch("--num-threads", "1", "JOB=1:3", "log/x.JOB.log", "echo", "task JOB of 3", r"|", "tr", "a-z", "A-Z")
    assert proc.returncode == 0, proc.stderr
    for job in (1, 2, 3):
        log = parse_log(tmp_path / f"log/x.{job}.log")
        assert log["cmd"] == f"echo 'task {job} of 3' | tr a-z A-Z"
        assert log["output"] == f"TASK {job} OF 3\n"
        assert (log["code"], log["threads"]) == ("0", "1")


def test_single_job_and_custom_range_name(launch, tmp_path):
    proc = launch("log/one.log", "echo one | wc -c; exit 4")
    assert proc.returncode != 0
    assert f"{launch.name}: job failed, log is in log/one.log" in proc.stderr
    log = parse_log(tmp_path / "log/one.log")
    assert (log["output"], log["code"]) == ("4\n", "4")
    proc = launch("N=5:6", "log/n.N.log", "echo", "N")
    assert proc.returncode == 0, proc.stderr
    assert parse_log(tmp_path / "log/n.6.log")["output"] == "6\n"


def test_failures_are_counted_and_named(launch, tmp_path):
    proc = launch("JOB=1:3", "log/f.JOB.log", "exit $(( JOB == 2 ? 3 : 0 ))")
    assert proc.returncode != 0
    assert f"{launch.name}: 1 / 3 failed, log is in log/f.2.log" in proc.stderr
    assert [parse_log(tmp_path / f"log/f.{j}.log")["code"] for j in (1, 2, 3)] == ["0", "3", "0"]


def test_task_killed_by_a_signal_fails(launch, tmp_path):
    # The task's own shell dies of SIGKILL: its exit code is 128 + 9, as bash reports it, never 0.
    proc = launch("JOB=1:2", "log/k.JOB.log", "[ JOB -eq 1 ] || kill -9 $$")
    assert proc.returncode != 0
    assert f"{launch.name}: 1 / 2 failed, log is in log/k.2.log" in proc.stderr
    assert [parse_log(tmp_path / f"log/k.{j}.log")["code"] for j in (1, 2)] == ["0", "137"]


def test_pick_failed_reruns_only_failed_tasks(launch, tmp_path):
    assert launch("JOB=1:4", "log/p.JOB.log", "echo first JOB; [ JOB -ne 2 ] && [ JOB -ne 3 ]").returncode != 0
    kept = {j: (tmp_path / f"log/p.{j}.log").read_text() for j in (1, 4)}
    proc = launch("--pick", "failed", "JOB=1:4", "log/p.JOB.log", "echo second JOB")
    assert proc.returncode == 0, proc.stderr
    assert {j: (tmp_path / f"log/p.{j}.log").read_text() for j in (1, 4)} == kept
    assert [parse_log(tmp_path / f"log/p.{j}.log")["output"] for j in (2, 3)] == ["second 2\n", "second 3\n"]
    proc = launch("--pick", "failed", "JOB=1:4", "log/p.JOB.log", "echo third JOB")
    assert proc.returncode == 0
    assert "no task to rerun" in proc.stderr


def test_pick_incomplete_reruns_killed_and_missing_tasks(launch, tmp_path):
    assert launch("JOB=1:4", "log/i.JOB.log", "echo first JOB; [ JOB -ne 1 ]").returncode != 0
    killed = tmp_path / "log/i.2.log"
    killed.write_text("\n".join(killed.read_text().split("\n")[:3]) + "\n")  # no trailer: killed mid-way
    (tmp_path / "log/i.3.log").unlink()
    kept = {j: (tmp_path / f"log/i.{j}.log").read_text() for j in (1, 4)}
    proc = launch("--pick", "incomplete", "JOB=1:4", "log/i.JOB.log", "echo second JOB")
    assert proc.returncode == 0, proc.stderr
    assert {j: (tmp_path / f"log/i.{j}.log").read_text() for j in (1, 4)} == kept  # the failed one stays
    assert [parse_log(tmp_path / f"log/i.{j}.log")["output"] for j in (2, 3)] == ["second 2\n", "second 3\n"]


def test_max_jobs_run_one_serialises(launch, tmp_path):
    times = tmp_path / "times"
    proc = launch("--max-jobs-run", "1", "JOB=1:3", "log/m.JOB.log", timed_task(times, 0.3))
    assert proc.returncode == 0, proc.stderr
    assert max_overlap(times) == 1


@pytest.mark.parametrize("bad_args, message", [
    (["--pick", "all", "log/x.log", "true"], "--pick takes 'failed' or 'incomplete'"),
    (["--max-jobs-run", "two", "log/x.log", "true"], "--max-jobs-run takes a whole number"),
    (["--mem=4G", "log/x.log", "true"], "options take the form --name value"),
    (["JOB=1:3", "log/x.log", "true"], "log name 'log/x.log' must contain JOB"),
    (["JOB=3:1", "log/x.JOB.log", "true"], "empty task range"),
    (["JOB=1:3", "log/x.JOB.log"], "Usage:"),
])
def test_bad_command_lines(bad_args, message, tmp_path, run_cmd):
    proc = run_cmd([str(UTILS / "run.pl"), *bad_args], cwd=tmp_path)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert not (tmp_path / "log").exists()


# ----------------------------------------------------------------------------------------------- run.pl only

def test_run_pl_max_jobs_run_limits_concurrency(tmp_path, run_cmd):
    times = tmp_path / "times"
    cmd = [str(UTILS / "run.pl"), "--max-jobs-run", "2", "JOB=1:5", "log/c.JOB.log", timed_task(times, 0.5)]
    assert run_cmd(cmd, cwd=tmp_path).returncode == 0
    assert max_overlap(times) == 2
    # Without the limit all five start together, so the measurement above can tell the difference.
    unlimited = tmp_path / "times_unlimited"
    cmd = [str(UTILS / "run.pl"), "JOB=1:5", "log/u.JOB.log", timed_task(unlimited, 0.5)]
    assert run_cmd(cmd, cwd=tmp_path).returncode == 0
    assert max_overlap(unlimited) > 2


def test_run_pl_task_wrapper_killed_by_a_signal_fails(tmp_path, run_cmd):
    # $PPID of the task's shell is run.pl's wrapper shell, the one that writes the trailer: once it is killed
    # only run.pl can tell (from the wait status) that the task failed, and it ends the log for --pick.
    run_pl = str(UTILS / "run.pl")
    proc = run_cmd([run_pl, "JOB=1:2", "log/w.JOB.log", "[ JOB -eq 1 ] || kill -9 $PPID"], cwd=tmp_path)
    assert proc.returncode == 1
    assert "run.pl: 1 / 2 failed, log is in log/w.2.log" in proc.stderr
    assert (tmp_path / "log/w.2.log").read_text().split("\n")[-2].startswith("# Ended (code 137) at ")
    proc = run_cmd([run_pl, "--pick", "failed", "JOB=1:2", "log/w.JOB.log", "echo rerun JOB"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert parse_log(tmp_path / "log/w.2.log")["output"] == "rerun 2\n"
    assert parse_log(tmp_path / "log/w.1.log")["output"] == ""


def test_run_pl_ignores_cluster_options(tmp_path, run_cmd):
    cmd = [str(UTILS / "run.pl"), "--mem", "4G", "--gpu", "1", "--config", "conf/queue.conf", "--num-threads", "3",
           "log/o.log", "true"]
    assert run_cmd(cmd, cwd=tmp_path).returncode == 0
    assert parse_log(tmp_path / "log/o.log")["threads"] == "3"


# ----------------------------------------------------------------------------------- option mapping (clusters)

def submitted_with(script: Path) -> str:
    """The scheduler command line the launcher recorded at the top of its job script."""
    line = script.read_text().split("\n")[1]
    assert line.startswith("# Submitted with: "), line
    return line[len("# Submitted with: "):]


@pytest.mark.slurm
def test_slurm_mem_and_threads_reach_the_job(slurm_cluster, tmp_path, run_cmd):
    cmd = [str(UTILS / "slurm.pl"), "--mem", "100M", "--num-threads", "2", "JOB=1:2", "log/s.JOB.log",
           "echo mem=$SLURM_MEM_PER_NODE cpus=$SLURM_CPUS_PER_TASK task=$SLURM_ARRAY_TASK_ID"]
    proc = run_cmd(cmd, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert parse_log(tmp_path / "log/s.2.log")["output"] == "mem=100 cpus=2 task=2\n"
    sbatch = submitted_with(tmp_path / "log/q/s.all.sh")
    assert sbatch.startswith("sbatch --export=ALL ")
    assert " --array=1-2 " in sbatch and " --mem 100M --cpus-per-task 2 " in sbatch


@pytest.mark.slurm
def test_slurm_gpu_mapping_and_max_jobs_run(slurm_cluster, tmp_path, run_cmd):
    # The test cluster has no GPUs, so sbatch refuses the request; what matters is the option it was given.
    cmd = [str(UTILS / "slurm.pl"), "--gpu", "1", "--max-jobs-run", "3", "JOB=1:4", "log/g.JOB.log", "nvidia-smi"]
    proc = run_cmd(cmd, cwd=tmp_path, timeout=120)
    assert proc.returncode == 1
    assert "slurm.pl: submission failed" in proc.stderr
    sbatch = submitted_with(tmp_path / "log/q/g.all.sh")
    assert " --array=1-4%3 " in sbatch and " --gres=gpu:1 " in sbatch


@pytest.mark.slurm
def test_slurm_reads_conf_slurm_conf(slurm_cluster, tmp_path, run_cmd):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf/slurm.conf").write_text(
        "command sbatch --export=ALL  # per-CPU memory on this cluster\noption mem=* --mem-per-cpu $0\n"
    )
    proc = run_cmd([str(UTILS / "slurm.pl"), "--mem", "60M", "log/c.log", "echo $SLURM_MEM_PER_CPU"],
                   cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert parse_log(tmp_path / "log/c.log")["output"] == "60\n"
    proc = run_cmd([str(UTILS / "slurm.pl"), "--gpu", "1", "log/c.log", "true"], cwd=tmp_path)
    assert proc.returncode == 1
    assert "option --gpu 1 is not in the queue config" in proc.stderr


@pytest.mark.sge
def test_queue_threads_and_mem_reach_the_job(sge_cluster, tmp_path, run_cmd):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf/queue.conf").write_text(
        "command qsub -V -cwd -S /bin/bash -j y\noption mem=* -l h_vmem=$0\n"
        "option num_threads=* -pe smp $0\noption num_threads=1\n"
    )
    cmd = [str(UTILS / "queue.pl"), "--mem", "1G", "--num-threads", "2", "JOB=1:2", "log/q.JOB.log",
           "echo slots=$NSLOTS vmem_kb=$(ulimit -v) task=$SGE_TASK_ID"]
    proc = run_cmd(cmd, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # h_vmem is per slot, so two slots of 1G give the job a 2G address-space limit.
    assert parse_log(tmp_path / "log/q.2.log")["output"] == "slots=2 vmem_kb=2097152 task=2\n"
    qsub = submitted_with(tmp_path / "log/q/q.all.sh")
    assert " -t 1:2 " in qsub and " -l h_vmem=1G -pe smp 2 " in qsub


@pytest.mark.sge
def test_queue_builtin_gpu_mapping_and_max_jobs_run(sge_cluster, tmp_path, run_cmd):
    # No GPU queue here, so qsub refuses; what matters is the options it was given.
    cmd = [str(UTILS / "queue.pl"), "--gpu", "2", "--max-jobs-run", "3", "JOB=1:4", "log/g.JOB.log", "true"]
    proc = run_cmd(cmd, cwd=tmp_path, timeout=120)
    assert proc.returncode == 1
    assert "queue.pl: submission failed" in proc.stderr
    qsub = submitted_with(tmp_path / "log/q/g.all.sh")
    assert qsub.startswith("qsub -V -cwd -S /bin/bash -j y ")
    assert " -t 1:4 -tc 3 " in qsub and " -l gpu=2 -q g.q " in qsub
