"""One live training per experiment directory: a second one stops with the holder's PID; a dead one holds nothing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from train_worker import error_lines, run_train, worker_env

from phonasr.train.exp_lock import ExperimentBusy, exclusive_training

# a training stand-in: takes the experiment dir's lock like the worker and holds it until killed
HOLD_LOCK = ("import sys, time\nfrom phonasr.train.exp_lock import exclusive_training\n"
             "with exclusive_training(sys.argv[1]):\n    print('locked', flush=True)\n    time.sleep(120)\n")
NO_MODEL = {"task": "ctc", "tokenizer_dir": "data/lang_phone", "train": {"device": "cpu"}}


def test_a_second_training_stops_while_the_first_lives_and_starts_once_it_is_killed(tmp_path):
    exp = tmp_path / "exp"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(exp)], env=worker_env(), stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        second = run_train(NO_MODEL, tmp_path / "c.yaml", exp)
        assert second.returncode == 3 and "Traceback" not in second.stderr
        assert error_lines(second.stderr) == [
            f"error: {exp} is in use by a training that is still running (PID {holder.pid}): wait for it to "
            f"finish, or stop it (kill {holder.pid}) and rerun to resume"]
        assert not (exp / "train.log").exists(), "the refused run wrote into the live run's directory"
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    # SIGKILL released the lock: the next run gets past it (as far as this config's missing model)
    third = run_train(NO_MODEL, tmp_path / "c.yaml", exp)
    assert third.returncode == 2 and "needs model" in error_lines(third.stderr)[0]


def test_the_lock_is_released_when_the_block_ends(tmp_path):
    with exclusive_training(tmp_path):  # a second open of the file is another lock holder, even in this process
        busy = exclusive_training(tmp_path)
        with pytest.raises(ExperimentBusy, match=f"PID {os.getpid()}"):
            busy.__enter__()
    with exclusive_training(tmp_path):
        pass
