"""DDP: two CPU processes (gloo) launched by torchrun through the real entry point."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch
import yaml
from toy_task import ToyCtcTask

from phonasr.train.data import feature_data
from phonasr.utils.io import load_checkpoint

HERE = Path(__file__).resolve().parent


def train_two_ranks(config: dict, exp_dir: Path) -> dict:
    """Run ``config`` on two gloo processes; return the finished run's last.pt."""
    config_path = exp_dir.parent / "toy.yaml"
    config_path.write_text(yaml.safe_dump(config))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    result = subprocess.run(torchrun + ["-m", "phonasr.bin.train", "--config", str(config_path),
                                        "--exp-dir", str(exp_dir)],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    last = load_checkpoint(exp_dir / "last.pt")
    assert last["world_size"] == 2 and last["finished"]
    return last


def test_two_process_gloo_training_keeps_ranks_identical(toy_config, tmp_path):
    config = dict(toy_config, toy_nan_cuts=["xx-000"])  # seen by one rank only: the skip must be collective
    last = train_two_ranks(config, tmp_path / "exp")
    rank0, rank1 = (r["task"]["param_sums"] for r in last["per_rank"])
    assert len(rank0) == len(rank1) > 2
    assert rank0 == rank1  # same parameters on both ranks before every batch
    assert (tmp_path / "exp" / "final.pt").is_file()
    assert "non-finite loss, skipping batch" in (tmp_path / "exp" / "train.log").read_text() + \
        (tmp_path / "exp" / "log" / "train.rank1.log").read_text()
    assert not torch_rng_equal(last["per_rank"])


def test_odd_number_of_batches_keeps_ranks_in_step(toy_config, tmp_path):
    """An epoch whose batch count is odd: both ranks must still run the same number of steps (the second rank
    trains on a repeat of the epoch's first batch in the last round), or one rank would leave the epoch while
    the other waits in a gradient all-reduce. A short collective timeout turns such a hang into a failure."""
    config = dict(toy_config, distributed={"timeout_min": 2.0})
    config["data"]["max_duration"] = 4.0
    config["train"].update(accum_grad=1, save_every_steps=0, valid_every_steps=0)
    sampler = feature_data(ToyCtcTask(config, torch.device("cpu")), config["seed"], 1, 0).sampler
    counts = []
    for epoch in range(1, config["train"]["max_epochs"] + 1):
        sampler.start_epoch(epoch)
        counts.append(sum(1 for _ in sampler))
    assert any(n % 2 for n in counts), f"the data must give an odd number of batches in some epoch: {counts}"

    last = train_two_ranks(config, tmp_path / "exp")
    rank0, rank1 = (r["task"]["param_sums"] for r in last["per_rank"])
    assert len(rank0) == len(rank1) == sum((n + 1) // 2 for n in counts)
    assert rank0 == rank1
    assert last["step"] == len(rank0)


def torch_rng_equal(per_rank) -> bool:
    """Ranks draw dropout masks from different seeds."""
    return bool((per_rank[0]["rng"]["torch"] == per_rank[1]["rng"]["torch"]).all())
