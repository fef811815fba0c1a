"""One live training per experiment directory.

Killing ``run.pl`` (a closed terminal, a scheduler's kill) does not kill the training it started: the orphan keeps
writing ``last.pt`` and the best checkpoints, and a rerun of the same command would start a second training beside
it in the same directory, the two overwriting each other's files. The training process therefore holds an
exclusive lock on ``<exp-dir>/.train.lock`` while it runs. The kernel releases the lock when the process dies,
however it dies (SIGKILL included), so a lock is never stale and nobody has to delete it; the file stays, holding
the PID of the last process that took it, for the message a second run prints.

It is a POSIX record lock (``lockf``), not an ``flock``: an ``flock`` belongs to the open file, which the
DataLoader's forked workers share, so a killed trainer's lock would outlive it until its workers noticed and
exited; a record lock belongs to the process alone. (The price: a second lock taken by the same process does
not conflict, and closing any descriptor of the file releases it; nothing but this module opens the file.)
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path
from typing import Iterator

LOCK_FILE = ".train.lock"


class ExperimentBusy(RuntimeError):
    """Another live process is training in the experiment directory."""


@contextlib.contextmanager
def exclusive_training(exp_dir: str | Path) -> Iterator[None]:
    """Hold ``exp_dir``'s training lock inside the block; raise :class:`ExperimentBusy` if a live process has it."""
    exp_dir = Path(exp_dir)
    exp_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(exp_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EACCES, errno.EAGAIN):
                raise
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            kill = f"kill {holder}" if holder.isdigit() else "kill it"
            raise ExperimentBusy(f"{exp_dir} is in use by a training that is still running (PID {holder}): wait for "
                                 f"it to finish, or stop it ({kill}) and rerun to resume") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
