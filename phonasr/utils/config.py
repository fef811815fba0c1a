"""YAML configs with command-line overrides, and the error a mistake in one raises.

Workers take ``--config conf/x.yaml`` plus ``--set key.sub=value`` overrides so a recipe can change one
setting (e.g. a shorter schedule for ``--quick true``) without a second config file.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Dict, Iterable

import yaml

Config = Dict[str, Any]


class ConfigError(ValueError):
    """A mistake in the user's config (an unknown or missing key, a value out of range), with its fix.

    Its own type so that a worker can tell it from a bug: the fix is in the YAML file, so the worker prints one
    line naming the file, the mistake and the fix instead of a traceback through code the user did not write.
    """

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem} ({fix})")
        self.problem = problem
        self.fix = fix


def load_config(path: str | Path, overrides: Iterable[str] = ()) -> Config:
    """Read a YAML config with ``yaml.safe_load`` and apply ``key.sub=value`` overrides (values parsed as YAML)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist")
    with open(path, encoding="utf-8") as f:
        try:
            cfg = yaml.safe_load(f) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"not valid YAML: {' '.join(str(e).split())}", "fix the syntax there") from e
    if not isinstance(cfg, dict):
        raise ConfigError(f"config file {path} holds a {type(cfg).__name__}, not a mapping",
                          "write its settings as key: value lines at the top level")
    return apply_overrides(cfg, overrides)


def apply_overrides(cfg: Config, overrides: Iterable[str]) -> Config:
    """Return a copy of ``cfg`` with each ``a.b.c=value`` applied.

    The sections on the way must exist (a typo there fails here); a new leaf key may be added, since sections
    leave optional settings out: the worker that reads the section rejects names it does not know.
    """
    cfg = copy.deepcopy(cfg)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override '{item}' has no value", "write it as key.sub=value")
        key, raw = item.split("=", 1)
        parts = key.split(".")
        node = cfg
        for p in parts[:-1]:
            if not isinstance(node.get(p), dict):
                raise ConfigError(f"override '{item}': '{p}' is not a section of the config",
                                  "override a key of a section the config has")
            node = node[p]
        node[parts[-1]] = yaml.safe_load(raw)
    return cfg


def dump_config(cfg: Config) -> str:
    return yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True)
