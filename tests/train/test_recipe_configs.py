"""Every egs/*/conf/*.yaml parses with the classes its worker uses, and the configs of a recipe fit together.

A key the worker does not know (in any section, or at the top level where nothing else would notice it) fails
here instead of minutes into a recipe run; so does a fine-tuning config whose model section no longer matches the
pretrained model it loads. Each config is checked as the recipe runs it: alone, and with the recipe's overlays
(conf/quick.yaml for --quick true), with the facts that the pipeline passes (lang dirs, manifests) left null in
the YAML and stood in for here.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import re
from pathlib import Path
from typing import Any, Dict, List, Sequence

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
from phonasr.units.frame_task import FrameCeSettings
from phonasr.units.lm_task import EMBEDDINGS, UnitDataSettings
from phonasr.utils.config import load_config

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ("mini_pl", "mini_units", "commonvoice_pl", "commonvoice_id", "cv_lang10")


def _overlay_lists() -> Dict[Path, List[Path]]:
    """Per recipe conf dir, the overlays its *.conf names (overlay="conf/A.yaml conf/B.yaml"), applied in order."""
    lists: Dict[Path, List[Path]] = {}
    for c in ROOT.glob("egs/*/conf/*.conf"):
        for quoted, bare in re.findall(r'^overlay=(?:"([^"]*)"|(\S*))', c.read_text(), re.M):
            lists[c.parent] = [c.parent / n.split("/", 1)[1] for n in (quoted or bare).split()]
    return lists


RECIPE_OVERLAYS = _overlay_lists()
# Overlays are what a recipe's *.conf names; every other YAML is a config. An overlay linked from another recipe
# (egs/mini_units shares egs/mini_pl's quick.yaml) is checked in its own recipe.
OVERLAYS = sorted({o for overlays in RECIPE_OVERLAYS.values() for o in overlays})
OWN_OVERLAYS = [o for o in OVERLAYS if not o.is_symlink()]
CONFIGS = sorted(set(ROOT.glob("egs/*/conf/*.yaml")) - set(OVERLAYS))
TOKEN_CONFIGS = ["p2g", "g2p", "p2g_aug", "p2g_lda"]
# The facts of a run, which the pipeline passes by --set and no YAML holds: placeholders stand in for them.
FACTS = ("tokenizer_dir", "input_tokenizer", "output_tokenizer", "tokenizers.phone", "tokenizers.text",
         "tokenizers.char", "jsa.labelled", "data.train", "data.dev", "data.frame_labels", "centroids")
# What the repository's hook greps for in egs/*/conf/*.yaml: a language code, a lang dir, a manifest path.
LANGUAGE_FACT = re.compile(r"lang_[a-z]+_[a-z]{2}\b|/(pl|id)/|_(pl|id)\b")

_spec = importlib.util.spec_from_file_location("overlay_sets", ROOT / "utils" / "overlay_sets.py")
overlay_sets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(overlay_sets)

# top-level keys the trainer reads, and those of each task (ctc: CtcSettings; token_ctc and jsa: their docstrings)
TRAINER_KEYS = {"task", "seed", "data", "optim", "schedule", "train", "distributed"}
TASK_KEYS = {
    "ctc": {f.name for f in dataclasses.fields(CtcSettings)},
    "token_ctc": {"input_tokenizer", "output_tokenizer", "model_name", "model", "length_margin", "ctc_backend",
                  "dev_metric", "init"},
    "jsa": {"tokenizers", "init", "jsa"},
    "frame_ce": {f.name for f in dataclasses.fields(CtcSettings)} | {"mask"},
    "unit_lm": {"model", "embeddings", "centroids"},
}


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT / "egs"))


def load(path: Path, overlays: Sequence[Path] = (), facts: bool = True) -> dict:
    """conf/NAME.yaml as a recipe run reads it: with the overlays' keys for NAME, and placeholders for the facts."""
    lines = [line for overlay in overlays for line in overlay_sets.overlay_overrides(overlay, path.stem)]
    cfg = load_config(path, lines)
    for fact in FACTS if facts else ():
        *sections, key = fact.split(".")
        node = cfg
        for section in sections:
            node = node.get(section) if isinstance(node, dict) else None
        if isinstance(node, dict) and key in node and node[key] is None:
            node[key] = f"data/placeholder_{key}"
    return cfg


def conf(repo_root, name: str, overlay: str = "") -> dict:
    conf_dir = repo_root / "egs" / "mini_pl" / "conf"
    return load(conf_dir / f"{name}.yaml", [conf_dir / overlay] if overlay else [])


# (config, overlays) pairs: each config alone, and with its recipe's overlays
VARIANTS = [(c, []) for c in CONFIGS] + [(c, RECIPE_OVERLAYS[c.parent]) for c in CONFIGS if c.parent in RECIPE_OVERLAYS]


def _variant_name(variant) -> str:
    path, overlays = variant
    return _name(path) + "".join(f"+{overlay.name}" for overlay in overlays)


def test_every_recipe_is_covered():
    assert {p.parent.parent.name for p in CONFIGS} == set(RECIPES)
    assert RECIPE_OVERLAYS == {
        ROOT / "egs/mini_pl/conf": [ROOT / "egs/mini_pl/conf/quick.yaml"],
        ROOT / "egs/mini_units/conf": [ROOT / "egs/mini_units/conf/quick_shared.yaml",
                                       ROOT / "egs/mini_units/conf/quick_units.yaml"]}


@pytest.mark.parametrize("path", sorted(ROOT.glob("egs/*/conf/*.yaml")), ids=_name)
def test_no_yaml_names_a_language_a_lang_dir_or_a_manifest(path):
    # recipe.conf and the pipeline hold these facts; a copy in a YAML would silently disagree when they change
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        assert not LANGUAGE_FACT.search(line), f"{_name(path)}:{number}: {line}"
    if path in CONFIGS and not path.stem.startswith("synth"):
        cfg = load(path, facts=False)
        for fact in FACTS:
            *sections, key = fact.split(".")
            node = cfg
            for section in sections:
                node = node.get(section, {})
            assert node.get(key) is None, f"{_name(path)}: {fact} is the pipeline's to pass, not the config's"


@pytest.mark.parametrize("overlay", OWN_OVERLAYS, ids=_name)
def test_overlays_hold_only_keys_that_differ_and_no_facts(overlay):
    import yaml

    for name in overlay_sets.read_overlay(overlay):
        base = load_config(overlay.parent / f"{name}.yaml")  # a section names a config of the recipe
        for line in overlay_sets.overlay_overrides(overlay, name):
            key, value = line.split("=", 1)
            assert not any(key == fact or key.startswith(fact + ".") for fact in FACTS), f"{name}: {key}"
            node = base
            for part in key.split(".")[:-1]:
                node = node[part]
            assert node.get(key.split(".")[-1], object()) != yaml.safe_load(value), f"{name}: {key} is no change"


def test_overlay_merges_sections_and_replaces_only_when_told(tmp_path):
    overlay = tmp_path / "o.yaml"
    overlay.write_text("a:\n  optim: {lr: 2.0e-3, betas: [0.9, 0.98]}\n  languages: !replace {pl: {minutes: 3}}\n")
    assert overlay_sets.overlay_overrides(overlay, "a") == ["optim.lr=0.002", "optim.betas=[0.9, 0.98]",
                                            "languages={pl: {minutes: 3}}"]
    assert overlay_sets.overlay_overrides(overlay, "b") == []


def _model_names(cfg: Dict[str, Any]) -> List[str]:
    return list(JSA_MODELS) if cfg["task"] == "jsa" else [cfg.get("model_name", "s2p")]


@pytest.mark.parametrize("variant", VARIANTS, ids=_variant_name)
def test_config_parses_with_the_workers_classes(variant):
    path, overlays = variant
    cfg = load(path, overlays)
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
    elif task == "frame_ce":
        FrameCeSettings.from_config(cfg)
    elif task == "unit_lm":
        parse_section(UnitDataSettings, cfg.get("data"), "data")
        assert cfg["embeddings"] in EMBEDDINGS
    else:
        parse_section(JsaSettings, cfg.get("jsa"), "jsa")
        feature_data_settings(cfg.get("data"))
        assert set(cfg["tokenizers"]) == {"phone", "text", "char"} and set(cfg["init"]) == set(JSA_MODELS)


def _pretraining_config(path: Path) -> Path:
    """The config of the model a fine-tuning config starts from: its recipe's own pretraining (with the same
    overlay), else CV-Lang10's Whistle-S, which the CommonVoice recipes fine-tune (recipe.conf pretrained_s2p)."""
    own = path.parent / "s2p_pretrain.yaml"
    return own if own.is_file() else ROOT / "egs" / "cv_lang10" / "conf" / "s2p_pretrain.yaml"


FINE_TUNING = [v for v in VARIANTS if re.match(r"s2p_ft_|frame_ce", v[0].stem)]


@pytest.mark.parametrize("variant", FINE_TUNING, ids=_variant_name)
def test_fine_tuning_configs_match_the_architecture_they_load(variant):
    path, overlays = variant
    cfg = load(path, overlays)
    assert CtcSettings.from_config(cfg).init.remap_output
    pretraining = _pretraining_config(path)
    pretrain = load(pretraining, overlays if pretraining.parent == path.parent else [])
    assert isinstance(model_config(cfg["model"]), ConformerConfig)
    assert architecture(cfg["model"]) == architecture(pretrain["model"]), \
        f"{_variant_name(variant)} would not load {_name(pretraining)}'s weights"


@pytest.mark.parametrize("recipe", ["mini_pl", "commonvoice_pl", "commonvoice_id"])
def test_p2g_fine_tuning_configs_keep_the_spg_init_architecture(repo_root, recipe):
    conf_dir = repo_root / "egs" / recipe / "conf"
    for overlays in [[], RECIPE_OVERLAYS.get(conf_dir, [])]:
        p2g = load(conf_dir / "p2g.yaml", overlays)
        for name in ("p2g_aug", "p2g_lda"):
            assert architecture(load(conf_dir / f"{name}.yaml", overlays)["model"]) == architecture(p2g["model"])


@pytest.mark.parametrize("overlay", ["", "quick.yaml"])
def test_token_configs_parse_and_fine_tuning_matches_the_spg_architecture(repo_root, overlay):
    # which pairs and lang dirs they read is the pipeline's: tests/recipes/test_recipe_facts.py
    configs = {name: conf(repo_root, name, overlay) for name in TOKEN_CONFIGS}
    for name, cfg in configs.items():
        assert cfg["task"] == "token_ctc" and cfg["model_name"] == name[:3]
    assert configs["g2p"]["data"]["reverse"] and not configs["p2g"]["data"]["reverse"]
    for name in ("p2g_aug", "p2g_lda"):
        assert configs[name]["init"] == {"checkpoint": "exp/jsa/final.pt", "model_name": "p2g"}


@pytest.mark.parametrize("name", [*TOKEN_CONFIGS, "jsa"])
def test_quick_configs_are_a_handful_of_steps(repo_root, name):
    cfg = conf(repo_root, name, "quick.yaml")
    train = parse_section(TrainSettings, cfg["train"], "train")
    assert 0 < train.max_steps <= 6 and cfg["data"]["num_workers"] == 0
    if name == "jsa":
        assert 2 <= parse_section(JsaSettings, cfg["jsa"], "jsa").num_samples <= 4
        assert feature_data_settings(cfg["data"]).max_duration <= 40
    else:
        assert model_config(cfg["model"]).num_layers == 1
