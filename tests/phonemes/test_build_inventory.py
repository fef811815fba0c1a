"""The inventory builder: small builds from given word lists (length kept or stripped, gettext words), and the
committed Indonesian file reproduced."""
from __future__ import annotations

from pathlib import Path

import pytest

from phonasr.phonemes import build_inventory, inventory
from phonasr.phonemes.inventory import INVENTORY_DIR, inventory_keeps_length, load_inventory, read_inventory_counts
from phonasr.text import sources as text_sources
from tests.data.test_text import make_mo


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


def test_length_is_stripped_unless_asked_and_the_header_says_which(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("dom\nkot\n", encoding="utf-8")
    source = ["--words", "2", "--source", "pl", str(words), "utf-8", "--source", "id", str(words), "utf-8"]
    strip, keep = tmp_path / "strip", tmp_path / "keep"
    build_inventory.main(["--langs", "pl", *source, "--out-dir", str(strip)])
    build_inventory.main(["--langs", "pl", *source, "--strip-length", "false", "--out-dir", str(keep)])
    # Every build reads the numbers 0..1000, and espeak-ng's Polish reads the digit 0 as zˈɛrɔː.
    assert "ɔː" in load_inventory("pl", keep, strip_length=False) and inventory_keeps_length("pl", keep)
    assert "ɔː" not in read_inventory_counts("pl", strip) and not inventory_keeps_length("pl", strip)
    assert inventory_keeps_length("multilingual", keep)
    with pytest.raises(SystemExit, match="inventories of pl keep length marks, the others strip them"):
        build_inventory.main(["--langs", "id", *source, "--out-dir", str(keep)])


def test_gettext_words_are_those_spelled_in_the_language_alphabet(tmp_path, monkeypatch):
    catalogues = tmp_path / "tt" / "LC_MESSAGES"
    catalogues.mkdir(parents=True)
    (catalogues / "tar.mo").write_bytes(make_mo([("File not found", "Файл табылмады: GNU tar"),
                                                 ("Good morning", "Хәерле ИРТӘ, файл!")]))
    monkeypatch.setattr(text_sources, "LOCALE_DIR", tmp_path)
    assert build_inventory.read_words("gettext:tt", "utf-8") == ["иртә", "табылмады", "файл", "хәерле"]
    with pytest.raises(FileNotFoundError, match="gettext:ky"):
        build_inventory.read_words("gettext:ky", "utf-8")


def test_committed_indonesian_inventory_is_reproducible(tmp_path):
    source, _ = build_inventory.DEFAULT_SOURCES["id"]
    if not Path(source).is_file():
        pytest.fail(f"{source} is missing: apt-get install hunspell-id (needed to rebuild the inventories)")
    build_inventory.main(["--langs", "id", "--out-dir", str(tmp_path)])
    assert read_inventory_counts("id", tmp_path) == read_inventory_counts("id", INVENTORY_DIR)
    assert (tmp_path / "id.txt").read_text(encoding="utf-8") == inventory.inventory_path("id").read_text("utf-8")
