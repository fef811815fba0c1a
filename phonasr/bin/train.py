"""Train a model with the phonasr training loop (any task: phoneme/subword CTC, JSA, ...).

    python -m phonasr.bin.train --config conf/s2p_pretrain.yaml --exp-dir exp/s2p_pretrain [--set key=value ...]
    torchrun --nproc_per_node 4 -m phonasr.bin.train --config ... --exp-dir ...      # DDP on 4 GPUs

Rerunning with the same --exp-dir resumes from exp-dir/last.pt. Outputs: final.pt (average of the best
checkpoints), best-step*.pt, last.pt, train.log, curves.png, tensorboard/, train.config.yaml, train.versions.json.
Under torchrun the config's ``distributed: {timeout_min: 120}`` bounds how long a rank waits in a collective
(e.g. for rank 0's validation) before the job fails.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import List, Optional

import torch

from phonasr.train.distributed import DistContext, DistSettings
from phonasr.train.trainer import Trainer
from phonasr.utils.cli import thread_count
from phonasr.utils.config import load_config
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
    args = get_parser().parse_args(argv)
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    config = load_config(args.config, args.overrides)
    dist = DistContext.from_env((config.get("train") or {}).get("device", "auto"), DistSettings.from_config(config))
    log_name = "train.log" if dist.is_main else f"log/train.rank{dist.rank}.log"
    setup_logging(args.exp_dir / log_name)
    try:
        if dist.is_main:
            write_run_info(args.exp_dir, "train", config, config.get("seed", 0))
        log.info("training %s into %s on %s (rank %d of %d, %d CPU threads)", args.config, args.exp_dir, dist.device,
                 dist.rank, dist.world_size, torch.get_num_threads())
        final = Trainer(config, args.exp_dir, dist).run()
        log.info("done: %s", final)
    finally:
        dist.shutdown()


if __name__ == "__main__":
    main()
