"""A stand-in for a job launcher (utils/run.pl's interface) that records what a training would read, and trains
nothing: for `python -m phonasr.bin.train` it writes <exp-dir>/train.config.yaml, the config with the command's
--set overrides as the worker loads it, and an empty final.pt so that steps/train.sh counts the run as done.

    record_training.py [launcher options] JOB=1:1 LOG python -m phonasr.bin.train --config C --exp-dir D ...
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from phonasr.utils.config import dump_config, load_config


def main(argv: list[str]) -> None:
    if "phonasr.bin.train" not in argv:
        sys.exit(f"record_training.py only stands in for trainings, got: {' '.join(argv)}")
    worker = argparse.ArgumentParser()
    worker.add_argument("--config", required=True)
    worker.add_argument("--exp-dir", required=True, type=Path)
    worker.add_argument("--set", action="append", default=[], dest="overrides")
    worker.add_argument("--num-threads")
    args = worker.parse_args(argv[argv.index("phonasr.bin.train") + 1:])
    args.exp_dir.mkdir(parents=True, exist_ok=True)
    (args.exp_dir / "train.config.yaml").write_text(dump_config(load_config(args.config, args.overrides)))
    (args.exp_dir / "final.pt").touch()


if __name__ == "__main__":
    main(sys.argv[1:])
