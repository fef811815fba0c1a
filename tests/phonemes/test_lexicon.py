"""Lexicon files: parsing, normalisation through the segmenter, and missing words reported."""
from __future__ import annotations

import pytest

from phonasr.phonemes import IpaSegmenter, Lexicon, MissingPronunciationError, load_inventory


@pytest.fixture()
def lexicon_file(tmp_path):
    path = tmp_path / "lexicon.txt"
    path.write_text("dzień\tdʑ ɛ ɲ\nDobry\td ɔ b r ɨ\nciasto\tt͡ɕ a s t ɔ\nciasto\ttɕ a s t ɔ x\n\n",
                    encoding="utf-8")
    return path


def test_pronounce_concatenates_words_lowercase_fallback(lexicon_file):
    lexicon = Lexicon.from_file(lexicon_file)
    assert lexicon.pronounce("dzień Dobry") == ["dʑ", "ɛ", "ɲ", "d", "ɔ", "b", "r", "ɨ"]
    assert lexicon.lookup("DZIEŃ") == ["dʑ", "ɛ", "ɲ"]  # falls back to lower case
    assert lexicon.lookup("dobry") is None  # but never upper-cases
    assert lexicon.num_variants_ignored == 1


def test_segmenter_normalises_ties(lexicon_file):
    lexicon = Lexicon.from_file(lexicon_file, IpaSegmenter(load_inventory("pl")))
    assert lexicon.pronounce("ciasto") == ["tɕ", "a", "s", "t", "ɔ"]


def test_missing_words_are_all_reported(lexicon_file):
    with pytest.raises(MissingPronunciationError) as info:
        Lexicon.from_file(lexicon_file).pronounce("dzień bardzo dobry kot")
    assert info.value.words == ["bardzo", "dobry", "kot"]
    assert "bardzo dobry kot" in str(info.value)


def test_bad_lines_name_file_and_line(tmp_path):
    path = tmp_path / "lex.txt"
    path.write_text("dom\td ɔ m\nkot\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"lex.txt:2"):
        Lexicon.from_file(path)
    path.write_text("dom\td ɔ θ\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"lex.txt:1: word 'dom'.*'θ'"):
        Lexicon.from_file(path, IpaSegmenter(load_inventory("pl")))
