"""The inventory builder: a small build from a given word list, and the committed Indonesian file reproduced."""
from __future__ import annotations

from pathlib import Path

import pytest

from phonasr.phonemes import build_inventory, inventory
from phonasr.phonemes.inventory import INVENTORY_DIR, load_inventory, read_inventory_counts


def test_build_from_a_word_list(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("3\nczasem/AB\ndzień\nźdźbło\nkot-pies\nnp.\n", encoding="iso8859-2")
    out = tmp_path / "inv"
    build_inventory.main(["--langs", "pl", "--words", "10", "--source", "pl", str(words), "iso8859-2",
                          "--out-dir", str(out)])
    units = load_inventory("pl", out)
    assert {"tʃ", "dʑ", "ɕ", "ʑ", "a"} <= set(units)
    assert load_inventory("multilingual", out) == units
    header = (out / "pl.txt").read_text(encoding="utf-8")
    assert "4 of 4 words" in header  # the count line and "np." are not words


def test_committed_indonesian_inventory_is_reproducible(tmp_path):
    source, _ = build_inventory.DEFAULT_SOURCES["id"]
    if not Path(source).is_file():
        pytest.fail(f"{source} is missing: apt-get install hunspell-id (needed to rebuild the inventories)")
    build_inventory.main(["--langs", "id", "--out-dir", str(tmp_path)])
    assert read_inventory_counts("id", tmp_path) == read_inventory_counts("id", INVENTORY_DIR)
    assert (tmp_path / "id.txt").read_text(encoding="utf-8") == inventory.inventory_path("id").read_text("utf-8")
