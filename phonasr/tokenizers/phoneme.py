"""Phoneme tokenizer: text is space-separated inventory units; an unknown unit is an error, never <unk>.

A phoneme outside the inventory means the labels and the model disagree (wrong inventory, unsegmented IPA),
which must stop the stage rather than quietly train on a wrong target.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, List, Sequence

from phonasr.tokenizers.base import Tokenizer, UnknownSymbolError
from phonasr.tokenizers.symbol_table import BLANK, SymbolTable


class PhonemeTokenizer(Tokenizer):
    type_name = "phone"

    def __init__(self, table: SymbolTable, inventory: str = "", lang_dir: str = "") -> None:
        super().__init__(table)
        self.inventory = inventory
        self.lang_dir = lang_dir

    @classmethod
    def from_units(cls, units: Iterable[str], inventory: str = "") -> PhonemeTokenizer:
        return cls(SymbolTable([BLANK, *units]), inventory)

    @classmethod
    def load(cls, lang_dir: Path, config: Dict[str, Any]) -> PhonemeTokenizer:
        return cls(SymbolTable.from_file(lang_dir / "tokens.txt"), config.get("inventory", ""), str(lang_dir))

    def encode(self, text: str) -> List[int]:
        ids = []
        for unit in text.split():
            if unit not in self.table or unit == BLANK:
                raise UnknownSymbolError(unit, text, self.lang_dir)
            ids.append(self.table.id(unit))
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        return " ".join(self.table.symbol(i) for i in self._non_blank(ids))

    def config(self) -> Dict[str, Any]:
        return {"inventory": self.inventory}
