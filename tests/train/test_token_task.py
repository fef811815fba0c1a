"""The token CTC task (P2G/G2P) in the real trainer: learning a copy task, pair filtering, exact resume, init."""
from __future__ import annotations

import copy
import logging
import random
from pathlib import Path
from typing import Dict

import pytest
import torch
from synthetic import UNITS

from phonasr.models import build_model
from phonasr.models.stored import ModelSpec, model_checkpoint, specs_metadata
from phonasr.tokenizers import PhonemeTokenizer, save_tokenizer
from phonasr.train.distributed import DistContext
from phonasr.train.token_task import TokenCtcTask
from phonasr.train.trainer import Trainer
from phonasr.utils.io import atomic_torch_save, load_checkpoint

MODEL = {"type": "transformer", "preset": "tiny", "num_layers": 1, "d_model": 32, "num_heads": 2, "ffn_dim": 64,
         "dropout": 0.1, "upsample": 2}


def write_copy_pairs(path: Path, num: int, seed: int) -> None:
    """Random phoneme strings paired with themselves: learnable in a few dozen steps by a one-layer model."""
    rng = random.Random(seed)
    lines = []
    for i in range(num):
        units = " ".join(rng.choice(UNITS) for _ in range(rng.randint(3, 8)))
        lines.append(f"copy-{i:03d}\t{units}\t{units}\n")
    path.write_text("".join(lines), encoding="utf-8")


@pytest.fixture(scope="module")
def copy_data(tmp_path_factory) -> Dict[str, str]:
    root = tmp_path_factory.mktemp("pairs")
    save_tokenizer(PhonemeTokenizer.from_units(UNITS), root / "lang_phone")
    write_copy_pairs(root / "train.tsv", 96, seed=1)
    write_copy_pairs(root / "dev.tsv", 16, seed=2)
    return {"lang": str(root / "lang_phone"), "train": str(root / "train.tsv"), "dev": str(root / "dev.tsv")}


def copy_config(data: Dict[str, str], **train) -> dict:
    return copy.deepcopy({
        "task": "token_ctc", "seed": 3, "model_name": "p2g", "input_tokenizer": data["lang"],
        "output_tokenizer": data["lang"], "model": MODEL,
        "data": {"train": data["train"], "dev": data["dev"], "max_tokens": 60, "num_buckets": 2},
        "optim": {"name": "adam", "lr": 5e-3},
        "schedule": {"name": "noam", "warmup_steps": 6},
        "train": {"max_epochs": 3, "log_every_steps": 2, "device": "cpu", "keep_best": 2, "average_best": 2,
                  **train},
    })


def run(config: dict, exp_dir: Path) -> Path:
    return Trainer(config, exp_dir, DistContext.from_env("cpu")).run()


def test_copy_task_learns_and_final_checkpoint_describes_the_model(copy_data, tmp_path):
    final = load_checkpoint(run(copy_config(copy_data), tmp_path))
    history = load_checkpoint(tmp_path / "last.pt")["history"]
    train_loss = [h["loss"] for h in history if h["split"] == "train"]
    dev = [h for h in history if h["split"] == "dev"]
    assert train_loss[-1] < 0.5 * train_loss[0], train_loss
    assert dev[-1]["loss"] < dev[0]["loss"] and dev[-1]["error_rate"] < dev[0]["error_rate"], dev
    assert dev[-1]["utts"] == 16 and dev[-1]["infeasible"] == 0
    spec = final["model_specs"]["p2g"]
    assert spec["config"] == MODEL and spec["input_dir"] == spec["output_dir"] == copy_data["lang"]
    assert spec["output_symbols"] == ["<blk>", *UNITS] and final["tokenizer_dir"] == copy_data["lang"]


def test_training_pairs_are_filtered_with_counts(copy_data, tmp_path, caplog):
    (tmp_path / "train.tsv").write_text("long\ta b c d e f\ta\n"       # kept
                                        "short\ta\ta b c\n"             # 2 x 1 input tokens < 3 outputs
                                        "margin\ta b c\ta b\n",         # feasible, fails len(in) > len(out) + 2
                                        encoding="utf-8")
    data = dict(copy_data, train=str(tmp_path / "train.tsv"))
    caplog.set_level(logging.INFO)
    task = TokenCtcTask(dict(copy_config(data), length_margin=2), torch.device("cpu"))
    task.build_data(seed=0, world_size=1, rank=0)
    assert "kept 1 pairs, rejected 1 infeasible for CTC and 1 by length_margin 2 (e.g. short, margin)" in caplog.text
    caplog.clear()
    loader = TokenCtcTask(copy_config(data), torch.device("cpu")).build_data(0, 1, 0).train_loader
    assert sorted(u for b in loader for u in b["utt_ids"]) == ["long", "margin"]


def test_unencodable_pair_names_file_and_line(copy_data, tmp_path):
    (tmp_path / "train.tsv").write_text("ok\ta b\ta b\nbad\ta q\ta\n", encoding="utf-8")
    task = TokenCtcTask(copy_config(dict(copy_data, train=str(tmp_path / "train.tsv"))), torch.device("cpu"))
    with pytest.raises(ValueError, match=r"train.tsv:2: utterance 'bad': cannot encode its input .*'q'"):
        task.build_data(0, 1, 0)


def test_resume_after_kill_continues_the_same_trajectory(copy_data, tmp_path, monkeypatch):
    config = copy_config(copy_data, max_epochs=2, save_every_steps=4)
    run(config, tmp_path / "full")
    real = TokenCtcTask.compute_loss
    calls = {"n": 0}

    def killed_mid_epoch_two(self, models, batch):  # 11 batches per epoch
        calls["n"] += 1
        if calls["n"] > 15:
            raise KeyboardInterrupt("simulated kill")
        return real(self, models, batch)

    monkeypatch.setattr(TokenCtcTask, "compute_loss", killed_mid_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        run(config, tmp_path / "resumed")
    interrupted = load_checkpoint(tmp_path / "resumed" / "last.pt")
    assert (interrupted["step"], interrupted["epoch"], interrupted["batches_done"]) == (12, 2, 1)
    monkeypatch.setattr(TokenCtcTask, "compute_loss", real)
    run(config, tmp_path / "resumed")
    full, resumed = (load_checkpoint(tmp_path / d / "last.pt") for d in ("full", "resumed"))
    assert resumed["step"] == full["step"]
    for key, value in full["models"]["p2g"].items():
        assert torch.equal(value, resumed["models"]["p2g"][key]), key


def _checkpoint_with(tmp_path: Path, model_cfg: dict, symbols) -> Path:
    """A two-model file like a JSA checkpoint, whose 'p2g' reads and writes ``symbols``."""
    models = {"s2p": build_model({"type": "conformer", "preset": "tiny", "num_blocks": 1}, len(symbols)),
              "p2g": build_model(model_cfg, len(symbols), len(symbols))}
    specs = {"p2g": ModelSpec(model_cfg, "lang", list(symbols), "lang", list(symbols)),
             "s2p": ModelSpec({"type": "conformer", "preset": "tiny", "num_blocks": 1}, "lang", list(symbols))}
    path = tmp_path / f"multi{len(list(tmp_path.iterdir()))}.pt"
    atomic_torch_save(model_checkpoint(models, {"task": "jsa"}, specs_metadata(specs)), path)
    return path


def test_fine_tunes_the_named_model_of_a_multi_model_checkpoint(copy_data, tmp_path):
    symbols = ["<blk>", *UNITS]
    path = _checkpoint_with(tmp_path, MODEL, symbols)
    config = dict(copy_config(copy_data), init={"checkpoint": str(path), "model_name": "p2g"})
    task = TokenCtcTask(config, torch.device("cpu"))
    model = task.initialize(task.build_models())["p2g"]
    for key, value in load_checkpoint(path)["models"]["p2g"].items():
        assert torch.equal(model.state_dict()[key], value), key

    other_arch = _checkpoint_with(tmp_path, dict(MODEL, upsample=3), symbols)
    task = TokenCtcTask(dict(config, init={"checkpoint": str(other_arch)}), torch.device("cpu"))
    with pytest.raises(ValueError, match="needs the same model section"):
        task.initialize(task.build_models())
    reordered = _checkpoint_with(tmp_path, MODEL, ["<blk>", *reversed(UNITS)])
    task = TokenCtcTask(dict(config, init={"checkpoint": str(reordered)}), torch.device("cpu"))
    with pytest.raises(ValueError, match="trained with input symbols of lang"):
        task.initialize(task.build_models())
