"""IPA normalisation and the espeak-phoneme -> unit rule."""
from __future__ import annotations

from phonasr.phonemes.ipa import normalise_ipa, phoneme_to_units, split_segments


def test_ties_stress_syllables_and_language_markers_are_removed():
    assert normalise_ipa("t͡ɕˈa.ba (en)hˈɛloʊ(pl)  dʑ\nɛ") == "tɕaba hɛloʊ dʑ ɛ"
    assert normalise_ipa("t͜s") == normalise_ipa("ts") == "ts"


def test_length_is_stripped_by_default_as_whistle_and_can_be_kept():
    assert normalise_ipa("ˈaːbəˑ") == "abə"
    assert normalise_ipa("ˈaːbəˑ", strip_length=False) == "aːbəˑ"


def test_marks_kept_when_asked():
    assert normalise_ipa("ˈa.b", strip_marks=False) == "ˈa.b"


def test_unicode_is_composed():
    assert normalise_ipa("c\u0327") == "ç"


def test_segments_keep_diacritics_and_modifiers_with_their_letter():
    assert split_segments("ɲʲr̝̊ɛ̃aː") == ["ɲʲ", "r̝̊", "ɛ̃", "aː"]


def test_affricates_are_one_unit_diphthongs_and_glide_vowels_are_split():
    assert phoneme_to_units("tɕ") == ["tɕ"]
    assert phoneme_to_units("dʒː") == ["dʒː"]
    assert phoneme_to_units("tʃʲ") == ["tʃʲ"]
    assert phoneme_to_units("aɪ") == ["a", "ɪ"]
    assert phoneme_to_units("ja") == ["j", "a"]
    assert phoneme_to_units("sx") == ["s", "x"]
