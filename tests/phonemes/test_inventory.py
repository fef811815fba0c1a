"""The committed inventories: loadable, consistent with each other, and covering real espeak-ng output."""
from __future__ import annotations

import pytest

from phonasr.phonemes import IpaSegmenter, available_inventories, espeak_ipa, load_inventory, read_inventory_counts
from phonasr.phonemes.espeak import default_voice
from phonasr.phonemes.inventory import (
    LENGTH_KEPT,
    LENGTH_STRIPPED,
    PRETRAINING_LANGUAGES,
    TARGET_LANGUAGES,
    inventory_keeps_length,
    inventory_path,
    write_inventory,
)
from phonasr.phonemes.ipa import LENGTH_MARKS

# CommonVoice codes of Whistle's ten pretraining languages, as egs/cv_lang10 passes them.
CV_LANG10 = ("en", "es", "fr", "it", "ky", "nl", "ru", "sv-SE", "tr", "tt")

# Everyday sentences per voice (not from the word lists the inventories were built from).
SENTENCES = {
    "pl": ["Dzień dobry, jak się masz?", "W czwartek pójdziemy do kina, a potem na pizzę.",
           "Chrząszcz brzmi w trzcinie; źdźbło trawy drży.", "Mam 25 lat i mieszkam w Łodzi od 2019 roku."],
    "id": ["Selamat pagi, apa kabar?", "Saya suka makan nasi goreng dan sate ayam.",
           "Mereka pergi ke pasar pada hari Minggu.", "Khusus untuk syarat itu, hubungi kantor kami."],
    "es": ["¿Dónde está la biblioteca?", "El perro de San Roque no tiene rabo."],
    "it": ["Buongiorno, come stai?", "Gli gnomi mangiano la pizza."],
    "nl": ["Goedemorgen, hoe gaat het?", "Het regent vandaag in Utrecht."],
    "ru": ["Доброе утро, как дела?", "Съешь же ещё этих мягких французских булок."],
    "sv": ["God morgon, hur mår du?", "Sju sjösjuka sjömän sköttes av sju sköna sjuksköterskor."],
    "tr": ["Günaydın, nasılsın?", "Çekoslovakyalılaştıramadıklarımızdan mısınız?"],
    "de": ["Guten Morgen, wie geht es dir?", "Der Urgroßvater fährt mit dem Zug nach Zürich."],
    "cs": ["Dobré ráno, jak se máš?", "Strč prst skrz krk a řekni čtyři."],
    "en": ["Good morning, how are you?", "The quick brown fox jumps over the lazy dog in 1999."],
    "fr": ["Bonjour, comment allez-vous ?", "Le vieux château se trouve au bord de la rivière."],
    "ky": ["Кайырлуу таң, кандайсыз?", "Бишкек Кыргызстандын борбору жана эң чоң шаары.",
           "Өлкөнүн тоолору абдан бийик."],
    "tt": ["Хәерле иртә, ничек хәлләрегез?", "Казан Татарстанның башкаласы.", "Җәйге көннәр озын һәм җылы."],
}


def test_every_language_has_an_inventory():
    assert set(TARGET_LANGUAGES + PRETRAINING_LANGUAGES) | {"multilingual"} <= set(available_inventories())


def test_every_commonvoice_lang10_code_has_an_inventory_and_a_voice():
    for code in CV_LANG10:
        assert load_inventory(code), code
        assert espeak_ipa(["1"], default_voice(code))[0], code  # the voice exists in libespeak-ng


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_inventory_covers_espeak_output(lang):
    segmenter = IpaSegmenter(load_inventory(lang))
    for ipa in espeak_ipa(SENTENCES[lang], default_voice(lang)):
        assert segmenter.segment(ipa)


def test_committed_inventories_strip_length_and_say_so():
    for lang in available_inventories():
        assert not any(mark in unit for unit in load_inventory(lang) for mark in LENGTH_MARKS), lang
        assert f"# {LENGTH_STRIPPED}\n" in inventory_path(lang).read_text(encoding="utf-8"), lang
        assert not inventory_keeps_length(lang)
    with pytest.raises(ValueError, match=r"pl\.txt was not built with length marks kept"):
        load_inventory("pl", strip_length=False)


def test_an_inventory_that_kept_length_serves_both_conventions(tmp_path):
    write_inventory(tmp_path / "xx.txt", {"a": 3, "aː": 2, "b": 1}, [LENGTH_KEPT])
    assert load_inventory("xx", tmp_path, strip_length=False) == ["a", "aː", "b"]
    assert load_inventory("xx", tmp_path) == ["a", "b"]  # long and short merge when length is stripped


def test_regional_code_falls_back_to_the_base_language_unless_it_has_its_own_file(tmp_path):
    assert inventory_path("sv-SE") == inventory_path("sv")
    assert load_inventory("sv-SE") == load_inventory("sv")
    write_inventory(tmp_path / "pt.txt", {"a": 1}, [LENGTH_STRIPPED])
    write_inventory(tmp_path / "pt-BR.txt", {"ɐ": 1}, [LENGTH_STRIPPED])
    assert load_inventory("pt-PT", tmp_path) == ["a"]
    assert load_inventory("pt-BR", tmp_path) == ["ɐ"]
    with pytest.raises(FileNotFoundError, match=r"'xx-YY' \(tried xx-YY\.txt, xx\.txt in"):
        load_inventory("xx-YY", tmp_path)


def test_default_voice_of_a_language():
    assert [default_voice(c) for c in ("sv-SE", "en", "pl", "es-419")] == ["sv", "en-us", "pl", "es"]


def test_multilingual_is_the_union_with_summed_counts():
    union: dict = {}
    for lang in TARGET_LANGUAGES + PRETRAINING_LANGUAGES:
        for unit, n in read_inventory_counts(lang).items():
            union[unit] = union.get(unit, 0) + n
    assert read_inventory_counts("multilingual") == union


def test_units_are_normalised_and_multi_codepoint_where_expected():
    pl = load_inventory("pl")
    assert {"tɕ", "dʑ", "ɲʲ", "ɔ̃"} <= set(pl)
    assert not any("\u0361" in u or "ˈ" in u for u in load_inventory("multilingual"))
    assert pl == sorted(pl)
    assert IpaSegmenter(pl).units == pl  # already in segmenter form


def test_unknown_language_names_the_available_ones():
    with pytest.raises(FileNotFoundError, match="available: .*pl"):
        load_inventory("xx")
