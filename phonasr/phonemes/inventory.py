"""Phoneme inventories: one data file per language plus their union, ``multilingual``.

Files live in ``phonasr/phonemes/inventories/<lang>.txt``, written by ``python -m
phonasr.phonemes.build_inventory``: ``#`` comment lines saying how they were made, then ``unit<TAB>count[<TAB>
languages]`` rows, where count is how often espeak-ng emitted the unit in the sample (rare units stay visible).
One comment line records whether the units keep length marks (:data:`LENGTH_KEPT` / :data:`LENGTH_STRIPPED`,
see :mod:`phonasr.phonemes.ipa`): an inventory built without them cannot segment IPA that keeps them, and
:func:`load_inventory` says so at once instead of every utterance failing later.

``PHONASR_INVENTORY_DIR`` points phonasr (readers and ``build_inventory``) at another folder of inventories, e.g.
ones rebuilt with ``--strip-length false``, without touching the committed files.

Languages are looked up by CommonVoice code; a code with a region (``sv-SE``) uses its base language's file
(``sv.txt``) unless a file for the full code exists, so one espeak-ng-based inventory serves every variant.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

from phonasr.phonemes.ipa import STRIP_LENGTH, normalise_ipa
from phonasr.text.normalise import base_language
from phonasr.utils.io import atomic_write_text

INVENTORY_DIR = Path(os.environ.get("PHONASR_INVENTORY_DIR") or Path(__file__).resolve().parent / "inventories")
MULTILINGUAL = "multilingual"
# Target languages of the paper, and the pretraining languages that espeak-ng has a voice for: CommonVoice's
# ten-language set of Whistle (en es fr it ky nl ru sv tr tt; egs/cv_lang10) plus de and cs.
TARGET_LANGUAGES = ("pl", "id")
PRETRAINING_LANGUAGES = ("es", "it", "nl", "ru", "sv", "tr", "de", "cs", "en", "fr", "ky", "tt")
LENGTH_KEPT = "length marks: kept"
LENGTH_STRIPPED = "length marks: stripped"


def length_header(strip_length: bool) -> str:
    """The header line that records an inventory's length convention."""
    return LENGTH_STRIPPED if strip_length else LENGTH_KEPT


def inventory_file(lang: str, inventory_dir: Path = INVENTORY_DIR) -> Path:
    """The file named after ``lang`` itself: where an inventory built for ``lang`` is written."""
    return inventory_dir / f"{lang}.txt"


def inventory_path(lang: str, inventory_dir: Path = INVENTORY_DIR) -> Path:
    """The file that serves ``lang``: its own, else its base language's (CommonVoice ``sv-SE`` -> ``sv.txt``)."""
    own = inventory_file(lang, inventory_dir)
    return own if own.is_file() else inventory_file(base_language(lang), inventory_dir)


def available_inventories(inventory_dir: Path = INVENTORY_DIR) -> List[str]:
    return sorted(p.stem for p in inventory_dir.glob("*.txt"))


def _read_inventory(lang: str, inventory_dir: Path) -> Tuple[Path, List[str], Dict[str, int]]:
    """(file, comment lines without their ``# ``, unit -> count in file order) of ``lang``'s inventory."""
    path = inventory_path(lang, inventory_dir)
    if not path.is_file():
        tried = dict.fromkeys((inventory_file(lang, inventory_dir).name, path.name))  # own file first, once
        raise FileNotFoundError(f"no phoneme inventory for '{lang}' (tried {', '.join(tried)} in {inventory_dir}); "
                                f"available: {', '.join(available_inventories(inventory_dir))}. Build one with "
                                f"python -m phonasr.phonemes.build_inventory --langs {base_language(lang)} ...")
    header: List[str] = []
    counts: Dict[str, int] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("#"):
            header.append(line[1:].strip())
            continue
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2 or not fields[1].isdigit() or not fields[0] or fields[0] in counts:
            raise ValueError(f"{path}:{lineno}: expected a new 'unit<TAB>count' row, got {line!r}")
        counts[fields[0]] = int(fields[1])
    if not counts:
        raise ValueError(f"{path} holds no units")
    return path, header, counts


def read_inventory_counts(lang: str, inventory_dir: Path = INVENTORY_DIR) -> Dict[str, int]:
    """Unit -> count from the inventory file of ``lang`` (or ``multilingual``), in file order."""
    return _read_inventory(lang, inventory_dir)[2]


def inventory_keeps_length(lang: str, inventory_dir: Path = INVENTORY_DIR) -> bool:
    """Whether ``lang``'s inventory was built with length marks kept (its header says :data:`LENGTH_KEPT`)."""
    return LENGTH_KEPT in _read_inventory(lang, inventory_dir)[1]


def load_inventory(lang: str, inventory_dir: Path = INVENTORY_DIR, strip_length: bool = STRIP_LENGTH) -> List[str]:
    """The units of ``lang``'s inventory (``"multilingual"`` for the union), sorted by code point.

    With ``strip_length`` the units are normalised the way :class:`~phonasr.phonemes.IpaSegmenter` normalises
    IPA, so an inventory that kept length marks serves a length-stripping run (long and short units merge);
    keeping length needs an inventory built that way, else this raises naming the file."""
    path, header, counts = _read_inventory(lang, inventory_dir)
    if strip_length:
        return sorted({normalise_ipa(u, strip_length=True) for u in counts})
    if LENGTH_KEPT not in header:
        raise ValueError(f"{path} was not built with length marks kept (its header lacks '# {LENGTH_KEPT}'), so "
                         "it cannot segment IPA that keeps them; rebuild the inventories with python -m "
                         "phonasr.phonemes.build_inventory --strip-length false, or strip length (the default)")
    return list(counts)


def write_inventory(path: Path, counts: Mapping[str, int], header: Iterable[str],
                    languages: Optional[Mapping[str, Iterable[str]]] = None) -> None:
    """Write an inventory file atomically; ``languages`` (unit -> language codes) adds a third column."""
    lines = [f"# {h}" for h in header]
    for unit in sorted(counts):
        row = f"{unit}\t{counts[unit]}"
        if languages is not None:
            row += "\t" + ",".join(sorted(languages[unit]))
        lines.append(row)
    atomic_write_text(path, "\n".join(lines) + "\n")
