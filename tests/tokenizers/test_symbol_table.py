"""Kaldi symbol tables: round trip and the errors a broken tokens.txt must raise."""
from __future__ import annotations

import pytest

from phonasr.tokenizers import SymbolTable


def test_round_trip_keeps_multi_codepoint_symbols(tmp_path):
    table = SymbolTable(["<blk>", "a", "tɕ", "ɲʲ", "ɔ̃"])
    table.to_file(tmp_path / "tokens.txt")
    assert (tmp_path / "tokens.txt").read_text(encoding="utf-8").splitlines()[:2] == ["<blk> 0", "a 1"]
    loaded = SymbolTable.from_file(tmp_path / "tokens.txt")
    assert loaded == table and loaded.id("ɲʲ") == 3 and loaded.symbol(4) == "ɔ̃"


def test_ids_may_come_in_any_order(tmp_path):
    (tmp_path / "tokens.txt").write_text("b 2\n<blk> 0\na 1\n", encoding="utf-8")
    assert SymbolTable.from_file(tmp_path / "tokens.txt").symbols == ["<blk>", "a", "b"]


@pytest.mark.parametrize("content, message", [
    ("<blk> 0\na 1\nb 1\n", "id 1 used twice"),
    ("<blk> 0\na 2\n", r"ids must be exactly 0..1"),
    ("<blk> 0\na b 1\n", r"tokens.txt:2: expected"),
    ("<blk> 0\na 1\na 2\n", "duplicate symbols"),
])
def test_broken_tables_are_rejected(tmp_path, content, message):
    (tmp_path / "tokens.txt").write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        SymbolTable.from_file(tmp_path / "tokens.txt")


def test_symbols_with_whitespace_are_rejected():
    with pytest.raises(ValueError, match="whitespace"):
        SymbolTable(["<blk>", "a b"])


def test_out_of_range_id():
    with pytest.raises(IndexError, match="token id 5"):
        SymbolTable(["<blk>", "a"]).symbol(5)
