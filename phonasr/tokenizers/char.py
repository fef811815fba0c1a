"""Character tokenizer for the G2P input: one token per character, ``▁`` between words, ``<unk>`` for the rest.

Unlike phonemes, an unseen character in new text (a rare letter, a foreign name) should not stop decoding, so it
maps to ``<unk>``; the tokenizer counts these in ``unknown`` (character -> count) so the caller can report them.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterable, List, Sequence

from phonasr.tokenizers.base import Tokenizer
from phonasr.tokenizers.symbol_table import BLANK, UNK, SymbolTable

WORD_BOUNDARY = "▁"


class CharTokenizer(Tokenizer):
    type_name = "char"

    def __init__(self, table: SymbolTable) -> None:
        super().__init__(table)
        if UNK not in table or WORD_BOUNDARY not in table:
            raise ValueError(f"a character table needs {UNK} and {WORD_BOUNDARY}")
        self.unk_id = table.id(UNK)
        self.unknown: Counter = Counter()

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> CharTokenizer:
        chars = {c for text in texts for c in text if not c.isspace()} - {WORD_BOUNDARY}
        return cls(SymbolTable([BLANK, UNK, WORD_BOUNDARY, *sorted(chars)]))

    @classmethod
    def load(cls, lang_dir: Path, config: Dict[str, Any]) -> CharTokenizer:
        return cls(SymbolTable.from_file(lang_dir / "tokens.txt"))

    def encode(self, text: str) -> List[int]:
        ids = []
        for char in WORD_BOUNDARY.join(text.split()):
            if char in self.table:
                ids.append(self.table.id(char))
            else:
                self.unknown[char] += 1
                ids.append(self.unk_id)
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(self.table.symbol(i) for i in self._non_blank(ids)).replace(WORD_BOUNDARY, " ")
