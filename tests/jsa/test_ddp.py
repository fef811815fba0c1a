"""JSA under DDP: two CPU processes (gloo) launched by torchrun share one global sample cache, saved once and
resumed with another number of processes."""
from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from phonasr.train.distributed import DistContext
from phonasr.train.trainer import Trainer
from phonasr.utils.io import load_checkpoint

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_ranks_hold_one_global_cache(jsa_corpus, tmp_path):
    config = copy.deepcopy(jsa_corpus["config"])
    config["task"] = "tests.jsa.cache_spy:CacheSpyJsaTask"
    # The code's proposal (the mixture of G2P and S2P) and scoring mode. The fixture's random S2P emits sequences
    # too long for its G2P to produce, so its proposals are infeasible; with K=12 a chain meets a feasible G2P
    # proposal in its one visit unless all 12 come from the S2P (2^-12 per chain, and the run is seeded).
    config["jsa"]["num_samples"] = 12
    config["distributed"] = {"timeout_min": 3.0}  # a rank left waiting in a collective fails instead of hanging
    config["train"].update(max_epochs=1, max_steps=0)  # one whole epoch: every utterance visits some rank
    config_path = tmp_path / "jsa.yaml"
    config_path.write_text(yaml.safe_dump(config))
    exp = tmp_path / "exp"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    result = subprocess.run(torchrun + ["-m", "phonasr.bin.train", "--config", str(config_path),
                                        "--exp-dir", str(exp)], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]

    last = load_checkpoint(exp / "last.pt")
    assert last["world_size"] == 2 and last["finished"]
    rank0, rank1 = (r["task"]["rank_cache"] for r in last["per_rank"])
    all_utts = {u for u, _, _ in jsa_corpus["items"]}
    # each rank saw about half the utterances; without the exchange it would know only its own chains
    assert rank0 == rank1 and set(rank0) == all_utts

    resumed = Trainer(config, exp, DistContext.from_env("cpu"))  # one process now
    assert dict(resumed.task.cache.items()) == rank0
