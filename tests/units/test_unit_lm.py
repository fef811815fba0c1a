"""The unit LM: its sequence scores against a hand sum, centroid initialisation, and training in the real trainer."""
from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Dict, List

import pytest
import torch

from phonasr.train.distributed import DistContext
from phonasr.train.trainer import Trainer
from phonasr.units.lm_task import UnitLmTask
from phonasr.units.store import merge_runs, save_arrays
from phonasr.units.unit_lm import (
    UnitLmConfig,
    UnitLstmLm,
    init_from_centroids,
    load_unit_lm,
    score,
)
from phonasr.utils.config import ConfigError
from phonasr.utils.io import atomic_torch_save

K = 6


def tiny_lm(**sizes) -> UnitLstmLm:
    torch.manual_seed(0)
    return UnitLstmLm(UnitLmConfig(num_units=K, **{"embed_dim": 8, "hidden_dim": 8, "num_layers": 1,
                                                   "dropout": 0.3, **sizes}))


def test_score_is_the_sum_of_step_log_softmaxes():
    model = tiny_lm()
    sequences = [[1, 4, 4, 2], [3], []]
    totals, lengths = score(model, sequences, batch_size=2)
    assert lengths.tolist() == [5, 2, 1]
    model.eval()  # the hand computation: one step at a time, carrying the LSTM state
    with torch.no_grad():
        for seq, total in zip(sequences, totals.tolist()):
            state = None
            expected = 0.0
            for prev, nxt in zip([K, *seq], [*seq, K + 1]):
                out, state = model.lstm(model.embed(torch.tensor([[prev]])), state)
                expected += float(torch.log_softmax(model.output(out[0, -1]), dim=-1)[nxt])
            assert total == pytest.approx(expected, abs=1e-5)
    model.train()  # dropout 0.3 is off while scoring, and the training mode comes back
    assert score(model, [sequences[0]])[0].item() == pytest.approx(totals[0].item())
    assert model.training


def test_centroids_initialise_the_unit_embeddings_only():
    model = tiny_lm()
    specials = model.embed.weight[K:].detach().clone()
    centroids = torch.arange(K * 8, dtype=torch.float32).reshape(K, 8)
    init_from_centroids(model, centroids)
    assert torch.equal(model.embed.weight[:K].detach(), centroids)
    assert torch.equal(model.embed.weight[K:].detach(), specials)
    with pytest.raises(ValueError, match=r"centroids of shape \(6, 5\)"):
        init_from_centroids(model, torch.zeros(K, 5))


def test_tied_output_shares_the_embedding_and_runs_merge():
    model = tiny_lm(tie_weights=True)
    assert model.output.weight is model.embed.weight
    with pytest.raises(ValueError, match="tie_weights needs hidden_dim == embed_dim"):
        UnitLmConfig(num_units=K, embed_dim=8, hidden_dim=16, tie_weights=True)
    assert merge_runs(torch.tensor([5, 5, 5, 2, 2, 5])).tolist() == [5, 2, 5]


def counting_sequences(num: int, seed: int) -> Dict[str, torch.Tensor]:
    """Runs of units counting up modulo K from a random start: the next unit is predictable from the last."""
    rng = random.Random(seed)
    out = {}
    for i in range(num):
        start = rng.randrange(K)
        units: List[int] = []
        for j in range(rng.randint(4, 12)):
            units += [(start + j) % K] * rng.randint(1, 3)
        out[f"utt{i:03d}"] = torch.tensor(units, dtype=torch.long)
    return out


@pytest.fixture(scope="module")
def unit_files(tmp_path_factory) -> Dict[str, str]:
    root = tmp_path_factory.mktemp("units")
    for split, num, seed in (("train", 64, 1), ("dev", 16, 2)):
        save_arrays(root / f"{split}.pt", "units", counting_sequences(num, seed), {"k": K, "layer": 2})
    atomic_torch_save({"centroids": torch.randn(K, 12, generator=torch.Generator().manual_seed(0)),
                       "meta": {"k": K}}, root / "kmeans.pt")
    return {"train": str(root / "train.pt"), "dev": str(root / "dev.pt"), "centroids": str(root / "kmeans.pt")}


def lm_config(files: Dict[str, str], **top) -> dict:
    return copy.deepcopy({
        "task": "unit_lm", "seed": 5, "centroids": files["centroids"],
        "model": {"embed_dim": None, "hidden_dim": 16, "num_layers": 1, "dropout": 0.0},
        "data": {"train": files["train"], "dev": files["dev"], "deduplicate": True, "max_tokens": 120,
                 "num_buckets": 2},
        "optim": {"name": "adam", "lr": 1e-2},
        "schedule": {"name": "noam", "warmup_steps": 5},
        "train": {"max_epochs": 3, "log_every_steps": 5, "device": "cpu", "metric": "ppl", "keep_best": 1,
                  "average_best": 1},
        **top,
    })


def test_training_lowers_dev_perplexity_and_the_checkpoint_scores(unit_files, tmp_path):
    final = Trainer(lm_config(unit_files, embeddings="centroids"), tmp_path, DistContext.from_env("cpu")).run()
    history = torch.load(tmp_path / "last.pt", weights_only=True)["history"]
    dev = [h["ppl"] for h in history if h["split"] == "dev"]
    assert len(dev) == 3 and dev == sorted(dev, reverse=True) and dev[-1] < 0.75 * dev[0], dev
    assert (tmp_path / "curves.png").is_file() and (tmp_path / "tensorboard").is_dir()
    stored = load_unit_lm(final)
    assert stored.deduplicate and stored.model.config.embed_dim == 12 and stored.units_meta["layer"] == 2
    assert stored.prepare(torch.tensor([1, 1, 2])) == [1, 2]
    counting, shuffled = score(stored.model, [[1, 2, 3, 4, 5, 0], [1, 4, 0, 3, 5, 2]])[0].tolist()
    assert counting > shuffled


def test_config_mistakes_are_config_errors(unit_files):
    device = torch.device("cpu")
    with pytest.raises(ConfigError, match="differs from the centroids' dimension 12"):
        UnitLmTask(lm_config(unit_files, embeddings="centroids", model={"embed_dim": 8}), device)
    with pytest.raises(ConfigError, match="no centroids file"):
        UnitLmTask(lm_config(unit_files, centroids=None), device)
    with pytest.raises(ConfigError, match="unknown model setting"):
        UnitLmTask(lm_config(unit_files, model={"embed_dim": 8, "hidden": 3}), device)


def test_units_outside_k_name_the_cut(unit_files, tmp_path):
    save_arrays(tmp_path / "bad.pt", "units", {"c1": torch.tensor([0, K])}, {"k": K})
    with pytest.raises(ValueError, match=r"cut 'c1' has unit ids \d+\.\.\d+ outside 0..5"):
        UnitLmTask(lm_config(unit_files, data={"train": str(tmp_path / "bad.pt"), "dev": unit_files["dev"]}),
                   torch.device("cpu"))


def test_a_file_that_is_no_unit_lm_is_refused(tmp_path: Path):
    atomic_torch_save({"kind": "model", "models": {"s2p": {}}}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="is not a unit LM checkpoint"):
        load_unit_lm(tmp_path / "x.pt")
