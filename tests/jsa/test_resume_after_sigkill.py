"""A JSA run SIGKILLed mid-epoch and rerun ends exactly where an uninterrupted run does: the same parameters of
all three models, the same sample cache, the same history. A real ``phonasr.bin.train`` process is killed, as a
closed terminal or a scheduler would kill it, not an exception raised inside one process."""
from __future__ import annotations

import copy
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Dict

import pytest
import torch

from phonasr.utils.io import load_checkpoint
from tests.train.train_worker import run_train, train_command, worker_env

# of 6 steps, two epochs of 3 batches: right after the validation and save of the first step of epoch 2, as the
# reported run was killed after the validation of step 40
KILL_AFTER_STEP = 4


def resume_config(jsa_corpus: Dict[str, Any]) -> Dict[str, Any]:
    config = copy.deepcopy(jsa_corpus["config"])
    config["data"]["num_workers"] = 1  # as the recipes load batches, in a worker process: where the replay hid
    config["jsa"]["proposal_s2p_weight"] = 0.5  # its component draws come from the RNG that the checkpoint saves
    config["train"].update(max_epochs=2, max_steps=0, save_every_steps=1, valid_every_steps=2, keep_best=2,
                           average_best=2)
    return config


def kill_after_saved_step(command: list, exp: Path, step: int, timeout: float = 240.0) -> None:
    """Run ``command`` and SIGKILL it as soon as its ``last.pt`` holds step ``step`` or later."""
    stderr = exp.with_suffix(".stderr")  # a file, not a pipe that a chatty child could fill and block on
    with open(stderr, "w") as err:
        proc = subprocess.Popen(command, env=worker_env(), stdout=subprocess.DEVNULL, stderr=err)
    last, seen, deadline = exp / "last.pt", None, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            mtime = last.stat().st_mtime_ns if last.is_file() else None
            if mtime is not None and mtime != seen:
                seen = mtime
                if load_checkpoint(last)["step"] >= step:
                    os.kill(proc.pid, signal.SIGKILL)
                    break
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, \
        f"the run ended before the kill ({proc.returncode}): {stderr.read_text()[-3000:]}"


@pytest.mark.slow
def test_sigkilled_jsa_run_resumes_on_the_same_trajectory(jsa_corpus, tmp_path):
    config = resume_config(jsa_corpus)
    full = run_train(config, tmp_path / "full.yaml", tmp_path / "full")
    assert full.returncode == 0, full.stderr[-3000:]

    killed_exp = tmp_path / "killed"
    kill_after_saved_step(train_command(config, tmp_path / "killed.yaml", killed_exp), killed_exp, KILL_AFTER_STEP)
    interrupted = load_checkpoint(killed_exp / "last.pt")
    assert not interrupted["finished"] and KILL_AFTER_STEP <= interrupted["step"] < 6
    assert interrupted["batches_done"] > 0, "killed inside an epoch"
    resumed_run = run_train(config, tmp_path / "killed.yaml", killed_exp)
    assert resumed_run.returncode == 0, resumed_run.stderr[-3000:]

    expected, resumed = load_checkpoint(tmp_path / "full" / "last.pt"), load_checkpoint(killed_exp / "last.pt")
    assert resumed["step"] == expected["step"] == 6
    assert resumed["task_shared"]["cache"]["utt_ids"] == expected["task_shared"]["cache"]["utt_ids"]
    for key in ("lengths", "phones"):
        assert torch.equal(resumed["task_shared"]["cache"][key], expected["task_shared"]["cache"][key]), key
    diffs = {f"{name}.{key}": float((value.double() - resumed["models"][name][key].double()).abs().max())
             for name, params in expected["models"].items() for key, value in params.items()}
    assert max(diffs.values()) == 0.0, sorted(diffs.items(), key=lambda kv: -kv[1])[:5]
    assert [(h["split"], h["step"]) for h in resumed["history"]] == [(h["split"], h["step"]) for h in
                                                                      expected["history"]]
