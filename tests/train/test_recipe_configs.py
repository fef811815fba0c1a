"""The token-task and JSA configs of egs/mini_pl parse, agree with each other, and keep quick runs tiny."""
from __future__ import annotations

import pytest

from phonasr.jsa.task import JsaSettings
from phonasr.models import model_config
from phonasr.train.data import FeatureDataSettings
from phonasr.train.settings import parse_section
from phonasr.train.token_task import PairDataSettings
from phonasr.train.trainer import TrainSettings
from phonasr.utils.config import load_config

TOKEN_CONFIGS = ["p2g", "g2p", "p2g_aug", "p2g_lda"]


def conf(repo_root, name: str) -> dict:
    return load_config(repo_root / "egs" / "mini_pl" / "conf" / f"{name}.yaml")


@pytest.mark.parametrize("quick", ["", "_quick"])
def test_token_configs_parse_and_fine_tuning_matches_the_spg_architecture(repo_root, quick):
    configs = {name: conf(repo_root, name + quick) for name in TOKEN_CONFIGS}
    for name, cfg in configs.items():
        assert cfg["task"] == "token_ctc" and cfg["model_name"] == name[:3]
        model_config(cfg["model"])
        parse_section(PairDataSettings, cfg["data"], "data")
        parse_section(TrainSettings, cfg["train"], "train")
    p2g, g2p = configs["p2g"], configs["g2p"]
    assert (g2p["data"]["train"], g2p["data"]["dev"]) == (p2g["data"]["train"], p2g["data"]["dev"])
    assert g2p["data"]["reverse"] and not p2g["data"]["reverse"]
    assert (g2p["input_tokenizer"], g2p["output_tokenizer"]) == ("data/lang_char_pl", p2g["input_tokenizer"])
    for name in ("p2g_aug", "p2g_lda"):
        assert configs[name]["model"] == p2g["model"]
        assert configs[name]["init"] == {"checkpoint": "exp/jsa/final.pt", "model_name": "p2g"}


@pytest.mark.parametrize("name", [*(n + "_quick" for n in TOKEN_CONFIGS), "jsa_quick"])
def test_quick_configs_are_a_handful_of_steps(repo_root, name):
    cfg = conf(repo_root, name)
    train = parse_section(TrainSettings, cfg["train"], "train")
    assert 0 < train.max_steps <= 6 and cfg["data"]["num_workers"] == 0
    if name == "jsa_quick":
        assert 2 <= parse_section(JsaSettings, cfg["jsa"], "jsa").num_samples <= 4
        assert parse_section(FeatureDataSettings, cfg["data"], "data").max_duration <= 40
    else:
        assert model_config(cfg["model"]).num_layers == 1
