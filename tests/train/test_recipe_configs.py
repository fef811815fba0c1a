"""Every egs/*/conf/*.yaml parses with the classes its worker uses, and the configs of a recipe fit together.

A key the worker does not know (in any section, or at the top level where nothing else would notice it) fails
here instead of minutes into a recipe run; so does a fine-tuning config whose model section no longer matches the
pretrained model it loads.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any, Dict, List

import pytest
import torch

from phonasr.data.synth.config import parse_config as parse_synth_config
from phonasr.jsa.task import MODEL_NAMES as JSA_MODELS
from phonasr.jsa.task import JsaSettings
from phonasr.models import ConformerConfig, TransformerConfig, architecture, model_config
from phonasr.train.ctc_task import CtcSettings
from phonasr.train.data import feature_data_settings
from phonasr.train.distributed import DistSettings
from phonasr.train.optim import build_optimizer
from phonasr.train.schedule import build_schedule
from phonasr.train.settings import parse_section
from phonasr.train.token_task import PairDataSettings
from phonasr.train.trainer import TrainSettings
from phonasr.utils.config import load_config

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ("mini_pl", "commonvoice_pl", "commonvoice_id", "cv_lang10")
CONFIGS = sorted(ROOT.glob("egs/*/conf/*.yaml"))
TOKEN_CONFIGS = ["p2g", "g2p", "p2g_aug", "p2g_lda"]

# top-level keys the trainer reads, and those of each task (ctc: CtcSettings; token_ctc and jsa: their docstrings)
TRAINER_KEYS = {"task", "seed", "data", "optim", "schedule", "train", "distributed"}
TASK_KEYS = {
    "ctc": {f.name for f in dataclasses.fields(CtcSettings)},
    "token_ctc": {"input_tokenizer", "output_tokenizer", "model_name", "model", "length_margin", "ctc_backend",
                  "dev_metric", "init"},
    "jsa": {"tokenizers", "init", "jsa"},
}


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT / "egs"))


def conf(repo_root, name: str) -> dict:
    return load_config(repo_root / "egs" / "mini_pl" / "conf" / f"{name}.yaml")


def test_every_recipe_is_covered():
    assert {p.parent.parent.name for p in CONFIGS} == set(RECIPES)


def _model_names(cfg: Dict[str, Any]) -> List[str]:
    return list(JSA_MODELS) if cfg["task"] == "jsa" else [cfg.get("model_name", "s2p")]


@pytest.mark.parametrize("path", CONFIGS, ids=_name)
def test_config_parses_with_the_workers_classes(path):
    cfg = load_config(path)
    if path.stem.startswith("synth"):  # the corpus synthesiser's config, not a training one
        parse_synth_config(cfg)
        return
    task = cfg.get("task")
    assert task in TASK_KEYS, f"{_name(path)}: unknown task {task!r}"
    unknown = set(cfg) - TRAINER_KEYS - TASK_KEYS[task]
    assert not unknown, f"{_name(path)}: top-level keys no worker reads: {sorted(unknown)}"
    parse_section(TrainSettings, cfg.get("train"), "train")
    DistSettings.from_config(cfg)
    build_schedule(cfg.get("schedule"))
    build_optimizer({name: torch.nn.Linear(2, 2) for name in _model_names(cfg)}, cfg.get("optim", {}))
    if task == "ctc":
        CtcSettings.from_config(cfg)
        feature_data_settings(cfg.get("data"))
    elif task == "token_ctc":
        assert isinstance(model_config(cfg["model"]), TransformerConfig)
        parse_section(PairDataSettings, cfg.get("data"), "data")
    else:
        parse_section(JsaSettings, cfg.get("jsa"), "jsa")
        feature_data_settings(cfg.get("data"))
        assert set(cfg["tokenizers"]) == {"phone", "bpe", "char"} and set(cfg["init"]) == set(JSA_MODELS)


def _pretraining_config(path: Path) -> Path:
    """The config of the model a fine-tuning config starts from: its recipe's own pretraining (same --quick
    variant), else CV-Lang10's Whistle-S, which the CommonVoice recipes fine-tune (recipe.conf pretrained_s2p)."""
    quick = "_quick" if path.stem.endswith("_quick") else ""
    own = path.parent / f"s2p_pretrain{quick}.yaml"
    return own if own.is_file() else ROOT / "egs" / "cv_lang10" / "conf" / "s2p_pretrain.yaml"


FINE_TUNING = [p for p in CONFIGS if re.match(r"s2p_ft_", p.stem)]


@pytest.mark.parametrize("path", FINE_TUNING, ids=_name)
def test_fine_tuning_configs_match_the_architecture_they_load(path):
    cfg = load_config(path)
    assert CtcSettings.from_config(cfg).init.remap_output
    pretrain = load_config(_pretraining_config(path))
    assert isinstance(model_config(cfg["model"]), ConformerConfig)
    assert architecture(cfg["model"]) == architecture(pretrain["model"]), \
        f"{_name(path)} would not load {_name(_pretraining_config(path))}'s weights"


@pytest.mark.parametrize("recipe", ["mini_pl", "commonvoice_pl", "commonvoice_id"])
def test_p2g_fine_tuning_configs_keep_the_spg_init_architecture(repo_root, recipe):
    configs = {p.stem: load_config(p) for p in (repo_root / "egs" / recipe / "conf").glob("*.yaml")}
    for quick in ("", "_quick"):
        if f"p2g{quick}" not in configs:
            continue
        for name in ("p2g_aug", "p2g_lda"):
            cfg = configs.get(name + quick, configs[name])
            assert architecture(cfg["model"]) == architecture(configs[f"p2g{quick}"]["model"])


@pytest.mark.parametrize("quick", ["", "_quick"])
def test_token_configs_parse_and_fine_tuning_matches_the_spg_architecture(repo_root, quick):
    configs = {name: conf(repo_root, name + quick) for name in TOKEN_CONFIGS}
    for name, cfg in configs.items():
        assert cfg["task"] == "token_ctc" and cfg["model_name"] == name[:3]
    p2g, g2p = configs["p2g"], configs["g2p"]
    assert (g2p["data"]["train"], g2p["data"]["dev"]) == (p2g["data"]["train"], p2g["data"]["dev"])
    assert g2p["data"]["reverse"] and not p2g["data"]["reverse"]
    assert (g2p["input_tokenizer"], g2p["output_tokenizer"]) == ("data/lang_char_pl", p2g["input_tokenizer"])
    for name in ("p2g_aug", "p2g_lda"):
        assert configs[name]["init"] == {"checkpoint": "exp/jsa/final.pt", "model_name": "p2g"}


@pytest.mark.parametrize("name", [*(n + "_quick" for n in TOKEN_CONFIGS), "jsa_quick"])
def test_quick_configs_are_a_handful_of_steps(repo_root, name):
    cfg = conf(repo_root, name)
    train = parse_section(TrainSettings, cfg["train"], "train")
    assert 0 < train.max_steps <= 6 and cfg["data"]["num_workers"] == 0
    if name == "jsa_quick":
        assert 2 <= parse_section(JsaSettings, cfg["jsa"], "jsa").num_samples <= 4
        assert feature_data_settings(cfg["data"]).max_duration <= 40
    else:
        assert model_config(cfg["model"]).num_layers == 1
