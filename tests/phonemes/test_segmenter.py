"""Longest-match segmentation: multi-codepoint units, word boundaries, and errors that say what went wrong."""
from __future__ import annotations

import pytest

from phonasr.phonemes import IpaSegmenter, UnknownPhonemeError, load_inventory

UNITS = ["a", "b", "t", "s", "sʲ", "ts", "tɕ", "ɕ", "ɔ", "ɔ̃", "ɲʲ", "ɲ"]


def test_longest_match_prefers_multi_codepoint_units():
    seg = IpaSegmenter(UNITS)
    assert seg.segment("tɕats ɲʲɔ̃") == ["tɕ", "a", "ts", "ɲʲ", "ɔ̃"]


def test_tie_bar_and_plain_spelling_give_the_same_unit():
    seg = IpaSegmenter(["t͡ɕ", "a"])  # units are normalised too
    assert seg.segment("t͡ɕa") == seg.segment("tɕa") == ["tɕ", "a"]


def test_a_match_never_leaves_a_modifier_behind():
    # "ts" is a unit, but in "tsʲ" the ʲ belongs to s: t + sʲ.
    assert IpaSegmenter(UNITS).segment("atsʲa") == ["a", "t", "sʲ", "a"]


def test_word_boundaries_and_stress_are_dropped():
    assert IpaSegmenter(UNITS).segment("  ˈba  ˌsa.ta\n") == ["b", "a", "s", "a", "t", "a"]


def test_unknown_symbol_error_names_symbol_position_and_input():
    with pytest.raises(UnknownPhonemeError) as info:
        IpaSegmenter(UNITS).segment("ˈba θa")
    err = info.value
    assert (err.symbol, err.position, err.ipa) == ("θ", 3, "ˈba θa")
    assert "'θ'" in str(err) and "ˈba θa" in str(err)


def test_unknown_diacritic_is_reported_with_its_letter():
    with pytest.raises(UnknownPhonemeError) as info:
        IpaSegmenter(UNITS).segment("bã")
    assert info.value.symbol == "ã"


def test_length_is_stripped_by_default_merging_long_and_short_units():
    seg = IpaSegmenter(["a", "aː", "b"])
    assert seg.units == ["a", "b"]
    assert seg.segment("baːb") == ["b", "a", "b"]


def test_kept_length_makes_long_units_of_their_own():
    seg = IpaSegmenter(["a", "aː", "b"], strip_length=False)
    assert seg.segment("baːba") == ["b", "aː", "b", "a"]
    with pytest.raises(UnknownPhonemeError):
        IpaSegmenter(["a", "b"], strip_length=False).segment("baːb")  # ː belongs to a: no unit "aː"


def test_segmenter_of_a_regional_code_uses_the_base_language_inventory():
    seg = IpaSegmenter.for_language("sv-SE")
    assert seg.units == load_inventory("sv")
    assert seg.segment("jˈɑːɡ") == ["j", "ɑ", "ɡ"]


def test_empty_input_gives_no_units():
    assert IpaSegmenter(UNITS).segment(" ") == []


def test_real_inventory_segments_polish_ipa():
    seg = IpaSegmenter(load_inventory("pl"))
    assert seg.segment("dʑˈɛɲ dˈɔbrɨ") == ["dʑ", "ɛ", "ɲ", "d", "ɔ", "b", "r", "ɨ"]
