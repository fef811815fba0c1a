"""Typed config sections: a ``train:``/``data:``/``jsa:`` mapping becomes a dataclass, and unknown keys are errors.

A typo such as ``max_epoch`` must stop the run at once instead of silently training with the default; every
mistake found here is a :class:`~phonasr.utils.config.ConfigError`, which the training worker reports as one line.
"""
from __future__ import annotations

import contextlib
import dataclasses
import difflib
from typing import Any, Iterator, Mapping, Optional, Sequence, Type, TypeVar

from phonasr.utils.config import ConfigError

S = TypeVar("S")


def parse_section(cls: Type[S], section: Optional[Mapping[str, Any]], name: str) -> S:
    """Build the settings dataclass ``cls`` from the config section ``name`` (missing keys keep their defaults).

    The dataclass's own checks (``__post_init__`` raising ValueError) become config errors too: the value they
    reject came from the section.
    """
    section = dict(section or {})
    known = sorted(f.name for f in dataclasses.fields(cls))
    unknown = sorted(set(section) - set(known))
    if unknown:
        raise ConfigError(f"unknown {name} settings: {', '.join(unknown)}", spelling_fix(unknown, known, name))
    with section_errors(name):
        return cls(**section)


@contextlib.contextmanager
def section_errors(name: str) -> Iterator[None]:
    """A ValueError raised inside the block, while reading config section ``name``, is a config error: the value
    it rejects came from that section (e.g. an unknown key of ``model:``, checked by the model factory)."""
    try:
        yield
    except ConfigError:
        raise
    except ValueError as e:
        raise ConfigError(str(e), f"change it in the {name}: section") from e


def spelling_fix(unknown: Sequence[str], known: Sequence[str], section: str) -> str:
    """``did you mean max_epochs? known: ...``: the closest known names first, as a typo is the usual cause."""
    guesses = [m for u in unknown for m in difflib.get_close_matches(u, known, n=1)]
    hint = f"did you mean {', '.join(guesses)}? " if guesses else ""
    return f"{hint}known {section} settings: {', '.join(known)}"


def require_keys(config: Mapping[str, Any], examples: Mapping[str, str], what: str) -> None:
    """Fail unless ``config`` sets every key of ``examples`` (key -> an example value, shown in the fix)."""
    missing = [k for k in examples if not config.get(k)]
    if missing:
        raise ConfigError(f"{what} needs {' and '.join(missing)}",
                          "add " + "; ".join(f"{k}: {examples[k]}" for k in missing))
