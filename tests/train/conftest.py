"""Fixtures for trainer tests: a synthetic two-language feature corpus and a toy-task config."""
from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # toy_task / synthetic are imported by module name (also by torchrun workers)
    sys.path.insert(0, str(HERE))

from synthetic import write_cuts  # noqa: E402


@pytest.fixture(scope="session")
def feature_corpus(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("fbank")
    short = write_cuts(root / "xx_train.jsonl.gz", root / "storage", "xx", "xx", num=24, seed=1, num_short=3)
    write_cuts(root / "yy_train.jsonl.gz", root / "storage", "yy", "yy", num=16, seed=2)
    write_cuts(root / "dev.jsonl.gz", root / "storage", "dev", "xx", num=8, seed=3)
    return {"root": root, "train": [str(root / "xx_train.jsonl.gz"), str(root / "yy_train.jsonl.gz")],
            "dev": str(root / "dev.jsonl.gz"), "short_ids": short}


@pytest.fixture
def toy_config(feature_corpus) -> dict:
    """~9 batches per epoch of the toy CTC task; small enough that a run takes about a second."""
    return copy.deepcopy({
        "task": "toy_task:ToyCtcTask",
        "seed": 7,
        "data": {"train": feature_corpus["train"], "dev": feature_corpus["dev"], "max_duration": 5.0,
                 "num_buckets": 2, "num_workers": 0},
        "optim": {"name": "adamw", "lr": 0.01, "betas": [0.9, 0.98], "weight_decay": 1e-6},
        "schedule": {"name": "noam", "warmup_steps": 4},
        "train": {"max_epochs": 2, "accum_grad": 2, "grad_clip": 5.0, "log_every_steps": 2, "keep_best": 2,
                  "average_best": 2, "save_every_steps": 1, "device": "cpu"},
    })
