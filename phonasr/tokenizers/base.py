"""What every tokenizer offers the models and data loaders (the contract of ``load_tokenizer``)."""
from __future__ import annotations

import abc
from pathlib import Path
from typing import Any, Dict, List, Sequence

from phonasr.tokenizers.symbol_table import SymbolTable

BLANK_ID = 0


class UnknownSymbolError(ValueError):
    """Text holds a symbol the tokenizer cannot encode (phoneme tokenizers have no <unk>)."""

    def __init__(self, symbol: str, text: str, lang_dir: str = "") -> None:
        self.symbol = symbol
        where = f" of {lang_dir}" if lang_dir else ""
        super().__init__(f"symbol {symbol!r} is not in the token table{where} (text {text!r})")


class Tokenizer(abc.ABC):
    """Base class: a symbol table with the CTC blank at id 0; subclasses define encode/decode and the yaml."""

    type_name = ""

    def __init__(self, table: SymbolTable) -> None:
        if len(table) == 0 or table.symbol(BLANK_ID) != "<blk>":
            raise ValueError(f"token 0 must be <blk>, got {table.symbols[:1]}")
        self.table = table
        self.blank_id = BLANK_ID

    @property
    def vocab_size(self) -> int:
        return len(self.table)

    @property
    def symbols(self) -> List[str]:
        return self.table.symbols

    @classmethod
    @abc.abstractmethod
    def load(cls, lang_dir: Path, config: Dict[str, Any]) -> Tokenizer:
        """Read the tokenizer from ``lang_dir``; ``config`` is its parsed ``tokenizer.yaml``."""

    @abc.abstractmethod
    def encode(self, text: str) -> List[int]:
        """Token ids of ``text`` (never the blank)."""

    @abc.abstractmethod
    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids``; blanks are skipped."""

    def config(self) -> Dict[str, Any]:
        """What ``tokenizer.yaml`` records besides the type."""
        return {}

    def save(self, lang_dir: Path) -> None:
        """Write ``tokens.txt`` (and subclass files); ``tokenizer.yaml`` is written by the lang-dir code."""
        self.table.to_file(Path(lang_dir) / "tokens.txt")

    def _non_blank(self, ids: Sequence[int]) -> List[int]:
        return [int(i) for i in ids if int(i) != self.blank_id]
