"""Train a model with the phonasr training loop (any task: phoneme/subword CTC, JSA, ...).

    python -m phonasr.bin.train --config conf/s2p_pretrain.yaml --exp-dir exp/s2p_pretrain [--set key=value ...]
    torchrun --nproc_per_node 4 -m phonasr.bin.train --config ... --exp-dir ...      # DDP on 4 GPUs

Rerunning with the same --exp-dir resumes from exp-dir/last.pt. Outputs: final.pt (average of the best
checkpoints), best-step*.pt, last.pt, train.log, curves.png, tensorboard/, train.config.yaml, train.versions.json.
Under torchrun the config's ``distributed: {timeout_min: 120}`` bounds how long a rank waits in a collective
(e.g. for rank 0's validation) before the job fails.

A mistake in the config (an unknown or missing key, a value out of range) ends the run with exit status 2 and one
line on stderr, ``error: <config file>: <what is wrong> (<fix>)``, not a traceback. A second training in an
experiment directory where one is still running (e.g. orphaned by a killed ``run.pl``) stops at once with
``error: <exp-dir> is in use by a training that is still running (PID <pid>) ...`` and exit status 3.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from pathlib import Path
from typing import List, Optional

import torch

from phonasr.train.distributed import DistContext, DistSettings
from phonasr.train.exp_lock import ExperimentBusy, exclusive_training
from phonasr.train.trainer import Trainer
from phonasr.utils.cli import thread_count
from phonasr.utils.config import ConfigError, load_config
from phonasr.utils.device import DeviceUnavailable
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

log = logging.getLogger("phonasr.bin.train")


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, type=Path, help="training config (YAML)")
    p.add_argument("--exp-dir", required=True, type=Path, help="output directory; an existing run there is resumed")
    p.add_argument("--num-threads", type=thread_count, default=0,
                   help="CPU threads for torch (default 0: torch's own choice, one per core); give 1 to each of "
                        "two trainings that share two cores, which then run nearly twice as fast as with two each")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config setting, e.g. --set train.max_epochs=2 (repeatable)")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    parser = get_parser()
    args = parser.parse_args(argv)
    if not args.config.is_file():
        parser.error(f"config file {args.config} does not exist")
    try:
        train(args)
    except ConfigError as e:
        print(f"error: {args.config}: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except ExperimentBusy as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(3) from None


def train(args: argparse.Namespace) -> None:
    """Load the config and train (or resume) in ``args.exp_dir``."""
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    config = load_config(args.config, args.overrides)
    device = (config.get("train") or {}).get("device", "auto")
    try:
        dist = DistContext.from_env(device, DistSettings.from_config(config))
    except DeviceUnavailable as e:
        raise ConfigError(str(e), "set train.device: auto or cpu, or --set train.device=cpu") from None
    try:
        # rank 0 holds the lock for the whole job: when it refuses, torchrun stops the other ranks with it
        with exclusive_training(args.exp_dir) if dist.is_main else contextlib.nullcontext():
            log_name = "train.log" if dist.is_main else f"log/train.rank{dist.rank}.log"
            setup_logging(args.exp_dir / log_name)
            if dist.is_main:
                write_run_info(args.exp_dir, "train", config, config.get("seed", 0))
            log.info("training %s into %s on %s (rank %d of %d, %d CPU threads)", args.config, args.exp_dir,
                     dist.device, dist.rank, dist.world_size, torch.get_num_threads())
            final = Trainer(config, args.exp_dir, dist).run()
            log.info("done: %s", final)
    finally:
        dist.shutdown()


if __name__ == "__main__":
    main()
