"""Phoneme inventories: one data file per espeak-ng voice plus their union, ``multilingual``.

Files live in ``phonasr/phonemes/inventories/<lang>.txt``, written by ``python -m
phonasr.phonemes.build_inventory``: ``#`` comment lines saying how they were made, then ``unit<TAB>count[<TAB>
languages]`` rows, where count is how often espeak-ng emitted the unit in the sample (rare units stay visible).
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional

from phonasr.utils.io import atomic_write_text

INVENTORY_DIR = Path(__file__).resolve().parent / "inventories"
MULTILINGUAL = "multilingual"
# Target languages of the paper and the pretraining languages that espeak-ng has a voice for.
TARGET_LANGUAGES = ("pl", "id")
PRETRAINING_LANGUAGES = ("es", "it", "nl", "ru", "sv", "tr", "de", "cs")


def inventory_path(lang: str, inventory_dir: Path = INVENTORY_DIR) -> Path:
    return inventory_dir / f"{lang}.txt"


def available_inventories(inventory_dir: Path = INVENTORY_DIR) -> List[str]:
    return sorted(p.stem for p in inventory_dir.glob("*.txt"))


def read_inventory_counts(lang: str, inventory_dir: Path = INVENTORY_DIR) -> Dict[str, int]:
    """Unit -> count from the inventory file of ``lang`` (or ``multilingual``), in file order."""
    path = inventory_path(lang, inventory_dir)
    if not path.is_file():
        raise FileNotFoundError(f"no phoneme inventory for '{lang}' ({path}); available: "
                                f"{', '.join(available_inventories(inventory_dir))}. Build one with "
                                f"python -m phonasr.phonemes.build_inventory --lang {lang} ...")
    counts: Dict[str, int] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) < 2 or not fields[1].isdigit() or not fields[0] or fields[0] in counts:
            raise ValueError(f"{path}:{lineno}: expected a new 'unit<TAB>count' row, got {line!r}")
        counts[fields[0]] = int(fields[1])
    if not counts:
        raise ValueError(f"{path} holds no units")
    return counts


def load_inventory(lang: str, inventory_dir: Path = INVENTORY_DIR) -> List[str]:
    """The units of ``lang``'s inventory (``"multilingual"`` for the union), in file order (sorted by code point)."""
    return list(read_inventory_counts(lang, inventory_dir))


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
