"""DDP: two CPU processes (gloo) launched by torchrun through the real entry point, one with a NaN batch."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from phonasr.utils.io import load_checkpoint

HERE = Path(__file__).resolve().parent


def test_two_process_gloo_training_keeps_ranks_identical(toy_config, tmp_path):
    config = dict(toy_config, toy_nan_cuts=["xx-000"])  # seen by one rank only: the skip must be collective
    config_path = tmp_path / "toy.yaml"
    config_path.write_text(yaml.safe_dump(config))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    result = subprocess.run(torchrun + ["-m", "phonasr.bin.train", "--config", str(config_path),
                                        "--exp-dir", str(tmp_path / "exp")],
                            env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-4000:]
    last = load_checkpoint(tmp_path / "exp" / "last.pt")
    assert last["world_size"] == 2 and last["finished"]
    rank0, rank1 = (r["task"]["param_sums"] for r in last["per_rank"])
    assert len(rank0) == len(rank1) > 2
    assert rank0 == rank1  # same parameters on both ranks before every batch
    assert (tmp_path / "exp" / "final.pt").is_file()
    assert "non-finite loss, skipping batch" in (tmp_path / "exp" / "train.log").read_text() + \
        (tmp_path / "exp" / "log" / "train.rank1.log").read_text()
    assert not torch_rng_equal(last["per_rank"])


def torch_rng_equal(per_rank) -> bool:
    """Ranks draw dropout masks from different seeds."""
    return bool((per_rank[0]["rng"]["torch"] == per_rank[1]["rng"]["torch"]).all())
