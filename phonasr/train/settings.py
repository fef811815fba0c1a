"""Typed config sections: a ``train:``/``data:``/``jsa:`` mapping becomes a dataclass, and unknown keys are errors.

A typo such as ``max_epoch`` must stop the run at once instead of silently training with the default.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional, Type, TypeVar

S = TypeVar("S")


def parse_section(cls: Type[S], section: Optional[Mapping[str, Any]], name: str) -> S:
    """Build the settings dataclass ``cls`` from the config section ``name`` (missing keys keep their defaults)."""
    section = dict(section or {})
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ValueError(f"unknown {name} settings: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return cls(**section)
