#!/usr/bin/env python3
"""Print the ``key.sub=value`` overrides that a config overlay gives one config, one per line.

    utils/overlay_sets.py conf/quick.yaml s2p_ft_phone

An overlay is a YAML mapping from config names (conf/NAME.yaml) to the keys of that config that differ, e.g.

    s2p_ft_phone:
      train: {max_steps: 40, valid_every_steps: 20}

so a variant of a recipe (``--quick true``) is the few keys it changes, not a second copy of every config. Nested
mappings are merged key by key, down to single values (lists included); ``!replace`` before a mapping sets it as
one value instead, for a section the variant replaces whole (the quick corpus's ``languages``). A config the
overlay does not name gets no overrides. Workers take the lines as ``--set key.sub=value``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml


class Replace(dict):
    """A mapping written ``!replace {...}``: one value, not merged key by key."""


class OverlayLoader(yaml.SafeLoader):
    pass


OverlayLoader.add_constructor("!replace", lambda loader, node: Replace(loader.construct_mapping(node, deep=True)))


def overrides(section: dict, prefix: str = "") -> list[str]:
    lines = []
    for key, value in section.items():
        if isinstance(value, dict) and not isinstance(value, Replace):
            lines += overrides(value, f"{prefix}{key}.")
        else:
            flow = yaml.safe_dump(dict(value) if isinstance(value, Replace) else value, default_flow_style=True,
                                  sort_keys=False, width=float("inf"), allow_unicode=True)
            lines.append(f"{prefix}{key}={flow.strip().removesuffix('...').strip()}")
    return lines


def read_overlay(path: str | Path) -> dict:
    """The overlay's sections by config name."""
    with open(path, encoding="utf-8") as f:
        overlay = yaml.load(f, Loader=OverlayLoader) or {}
    if not isinstance(overlay, dict) or not all(isinstance(v, dict) for v in overlay.values()):
        raise ValueError(f"{path}: an overlay maps config names to mappings of the keys that differ")
    return overlay


def overlay_overrides(path: str | Path, name: str) -> list[str]:
    """The ``key.sub=value`` overrides that the overlay at ``path`` gives config ``name`` (none if it has none)."""
    return overrides(read_overlay(path).get(name, {}))


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} <overlay.yaml> <config name>")
    try:
        lines = overlay_overrides(*argv)
    except ValueError as e:
        sys.exit(str(e))
    for line in lines:
        print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
