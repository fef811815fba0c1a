"""One live training per experiment directory: a second one stops with the holder's PID; a dead one holds nothing,
even while a process it forked (a DataLoader worker) lives on."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

from train_worker import error_lines, run_train, worker_env

# a training stand-in: takes the experiment dir's lock like the worker, forks a child as a DataLoader with
# workers does, prints the child's PID and holds the lock until killed
HOLD_LOCK = ("import os, sys, time\nfrom phonasr.train.exp_lock import exclusive_training\n"
             "with exclusive_training(sys.argv[1]):\n    child = os.fork()\n    if child == 0:\n"
             "        time.sleep(120)\n        os._exit(0)\n    print(child, flush=True)\n    time.sleep(120)\n")
NO_MODEL = {"task": "ctc", "tokenizer_dir": "data/lang_phone", "train": {"device": "cpu"}}


def test_a_second_training_stops_while_the_first_lives_and_starts_once_it_is_killed(tmp_path):
    exp = tmp_path / "exp"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(exp)], env=worker_env(), stdout=subprocess.PIPE,
                              text=True)
    child = int(holder.stdout.readline())
    try:
        second = run_train(NO_MODEL, tmp_path / "c.yaml", exp)
        assert second.returncode == 3 and "Traceback" not in second.stderr
        assert error_lines(second.stderr) == [
            f"error: {exp} is in use by a training that is still running (PID {holder.pid}): wait for it to "
            f"finish, or stop it (kill {holder.pid}) and rerun to resume"]
        assert not (exp / "train.log").exists(), "the refused run wrote into the live run's directory"
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        # SIGKILL released the lock, though the forked child lives: the next run gets past it (as far as this
        # config's missing model)
        third = run_train(NO_MODEL, tmp_path / "c.yaml", exp)
        assert third.returncode == 2 and "needs model" in error_lines(third.stderr)[0], third.stderr
    finally:
        for pid in (holder.pid, child):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        holder.wait()
