"""The committed inventories: loadable, consistent with each other, and covering real espeak-ng output."""
from __future__ import annotations

import pytest

from phonasr.phonemes import IpaSegmenter, available_inventories, espeak_ipa, load_inventory, read_inventory_counts
from phonasr.phonemes.inventory import PRETRAINING_LANGUAGES, TARGET_LANGUAGES

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
}


def test_every_language_has_an_inventory():
    assert set(TARGET_LANGUAGES + PRETRAINING_LANGUAGES) | {"multilingual"} <= set(available_inventories())


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_inventory_covers_espeak_output(lang):
    segmenter = IpaSegmenter(load_inventory(lang))
    for ipa in espeak_ipa(SENTENCES[lang], lang):
        assert segmenter.segment(ipa)


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
