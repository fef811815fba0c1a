"""Kaldi symbol tables (``tokens.txt``): one ``<symbol> <id>`` per line, ids 0..N-1, id 0 the CTC blank."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Dict, Iterator, List, Sequence

from phonasr.utils.io import atomic_write_text

BLANK = "<blk>"
UNK = "<unk>"


class SymbolTable:
    """A bijection between symbols and the dense ids 0..N-1."""

    def __init__(self, symbols: Sequence[str]) -> None:
        for s in symbols:
            if not s or any(c.isspace() for c in s):
                raise ValueError(f"symbol {s!r} is empty or contains whitespace; Kaldi tables cannot hold it")
        duplicates = sorted(s for s, n in Counter(symbols).items() if n > 1)
        if duplicates:
            raise ValueError(f"duplicate symbols: {duplicates}")
        self.symbols: List[str] = list(symbols)
        self._ids: Dict[str, int] = {s: i for i, s in enumerate(self.symbols)}

    def __len__(self) -> int:
        return len(self.symbols)

    def __iter__(self) -> Iterator[str]:
        return iter(self.symbols)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._ids

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SymbolTable) and self.symbols == other.symbols

    def id(self, symbol: str) -> int:
        return self._ids[symbol]

    def symbol(self, idx: int) -> str:
        if not 0 <= idx < len(self.symbols):
            raise IndexError(f"token id {idx} outside the table (0..{len(self.symbols) - 1})")
        return self.symbols[idx]

    @classmethod
    def from_file(cls, path: str | Path) -> SymbolTable:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"symbol table {path} does not exist; build the lang dir (steps/make_lang.sh)")
        by_id: Dict[int, str] = {}
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2 or not fields[1].isdigit():
                raise ValueError(f"{path}:{lineno}: expected '<symbol> <id>', got {line!r}")
            idx = int(fields[1])
            if idx in by_id:
                raise ValueError(f"{path}:{lineno}: id {idx} used twice ({by_id[idx]!r} and {fields[0]!r})")
            by_id[idx] = fields[0]
        if sorted(by_id) != list(range(len(by_id))):
            raise ValueError(f"{path}: ids must be exactly 0..{len(by_id) - 1}")
        try:
            return cls([by_id[i] for i in range(len(by_id))])
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from e

    def to_file(self, path: str | Path) -> None:
        atomic_write_text(path, "".join(f"{s} {i}\n" for i, s in enumerate(self.symbols)))
