"""SPG init feeds JSA: P2G and G2P trained by the token task on one pair file (the G2P reading it reversed) are
what JsaTask's init loads, and the P2G of a JSA checkpoint is what P2G fine-tuning loads."""
from __future__ import annotations

from pathlib import Path
from typing import Dict

import pytest
import torch

from phonasr.jsa.task import JsaTask
from phonasr.models.stored import model_checkpoint
from phonasr.train.distributed import DistContext
from phonasr.train.token_task import TokenCtcTask
from phonasr.train.trainer import Trainer
from phonasr.utils.io import atomic_torch_save, load_checkpoint


def spg_config(corpus: Dict, name: str, pairs: Path) -> dict:
    """P2G: phonemes -> BPE; G2P: the same file reversed, characters -> phonemes."""
    root = corpus["root"]
    io = {"p2g": ("lang_phone", "lang_bpe"), "g2p": ("lang_char", "lang_phone")}[name]
    return {"task": "token_ctc", "seed": 1, "model_name": name, "input_tokenizer": str(root / io[0]),
            "output_tokenizer": str(root / io[1]), "model": corpus["token_model"],
            "data": {"train": str(pairs), "dev": str(pairs), "reverse": name == "g2p", "max_tokens": 200,
                     "num_buckets": 2},
            "optim": {"name": "adam", "lr": 1e-3},
            "train": {"max_epochs": 1, "max_steps": 2, "device": "cpu", "keep_best": 1, "average_best": 1}}


@pytest.fixture(scope="module")
def spg_init(jsa_corpus, tmp_path_factory) -> Dict[str, Path]:
    exp = tmp_path_factory.mktemp("spg")
    pairs = exp / "spg_train.tsv"
    pairs.write_text("".join(f"{u}\t{phones}\t{text}\n" for u, text, phones in jsa_corpus["items"]), encoding="utf-8")
    finals = {name: Trainer(spg_config(jsa_corpus, name, pairs), exp / name, DistContext.from_env("cpu")).run()
              for name in ("p2g", "g2p")}
    return {"pairs": pairs, **finals}


def test_g2p_reads_the_pair_file_reversed(jsa_corpus, spg_init):
    task = TokenCtcTask(spg_config(jsa_corpus, "g2p", spg_init["pairs"]), torch.device("cpu"))
    batch = next(iter(task.build_data(seed=0, world_size=1, rank=0).dev_loader))
    texts = dict((u, t) for u, t, _ in jsa_corpus["items"])
    phones = dict((u, p) for u, _, p in jsa_corpus["items"])
    for utt, ids, n, target, ref in zip(batch["utt_ids"], batch["inputs"], batch["input_lens"], batch["targets"],
                                       batch["references"]):
        assert task.inputs.decode(ids[: int(n)].tolist()) == texts[utt]
        assert task.outputs.decode(target) == ref == phones[utt]
    assert task.dev_metric == "per"


def test_jsa_starts_from_the_token_task_checkpoints(jsa_corpus, spg_init, tmp_path):
    config = dict(jsa_corpus["config"], init=dict(jsa_corpus["config"]["init"], p2g=str(spg_init["p2g"]),
                                                  g2p=str(spg_init["g2p"])))
    task = JsaTask(config, torch.device("cpu"))
    models = task.initialize(task.build_models())
    for name in ("p2g", "g2p"):
        trained = load_checkpoint(spg_init[name])["models"][name]
        for key, value in models[name].state_dict().items():
            assert torch.equal(value, trained[key]), (name, key)

    # the P2G of the resulting JSA checkpoint is what P2G augmentation / domain adaptation fine-tune
    jsa_ckpt = tmp_path / "jsa.pt"
    atomic_torch_save(model_checkpoint(models, config, task.checkpoint_metadata()), jsa_ckpt)
    p2g_config = dict(spg_config(jsa_corpus, "p2g", spg_init["pairs"]),
                      init={"checkpoint": str(jsa_ckpt), "model_name": "p2g"})
    p2g_task = TokenCtcTask(p2g_config, torch.device("cpu"))
    p2g = p2g_task.initialize(p2g_task.build_models())["p2g"]
    for key, value in models["p2g"].state_dict().items():
        assert torch.equal(p2g.state_dict()[key], value), key


def test_swapped_init_checkpoints_are_refused(jsa_corpus, spg_init):
    config = dict(jsa_corpus["config"], init=dict(jsa_corpus["config"]["init"], p2g=str(spg_init["g2p"])))
    with pytest.raises(ValueError, match="model 'g2p' of .* was trained with output symbols of .*lang_phone"):
        JsaTask(config, torch.device("cpu")).build_models()
