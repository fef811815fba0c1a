"""Per-language alphabets and transcript normalisation.

One module decides what counts as a letter of a language, so the synthetic corpus (which keeps only sentences
spelled in the alphabet) and CommonVoice preparation (which rejects transcripts with foreign characters) agree.

Normalisation is deliberately small: Unicode NFC, case folding (with Turkish dotted/dotless i), apostrophe
variants unified, punctuation removed, whitespace collapsed. Digits are kept as they are, because turning
``1999`` into words needs a per-language verbaliser the pipeline does not have; preparation reports them.
"""
from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass
from typing import Optional

_LATIN = string.ascii_lowercase
_CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"  # the Russian alphabet, which Kyrgyz and Tatar extend
# Lower-case letters of each language. Loan-word letters that real transcripts contain (q, v, x in Polish) are
# included; letters of other scripts are not.
ALPHABETS: dict[str, str] = {
    "pl": _LATIN + "ąćęłńóśźż",
    "id": _LATIN + "éè",
    "en": _LATIN,
    "es": _LATIN + "áéíóúüñ",
    "it": _LATIN + "àèéìíîòóùú",
    "fr": _LATIN + "àâæçéèêëîïôœùûüÿ",
    "nl": _LATIN + "áäéèëíïóöúüĳ",
    "de": _LATIN + "äöüß",
    "sv": _LATIN + "åäöé",
    "cs": _LATIN + "áčďéěíňóřšťúůýž",
    "tr": "abcçdefgğhıijklmnoöprsştuüvyzâîû" + "qwx",
    "ru": _CYRILLIC,
    "ky": _CYRILLIC + "ңөү",
    "tt": _CYRILLIC + "әөүҗңһ",
}
APOSTROPHES = "'’ʼ`´"
# An apostrophe is part of a word only between two letters (l'uomo, don't); elsewhere it is a quote mark.
APOSTROPHE = "'"


def base_language(lang: str) -> str:
    """CommonVoice codes carry regions (``sv-SE``, ``es-419``); alphabets are per base language."""
    return lang.split("-")[0].split("_")[0].lower()


def alphabet(lang: str) -> Optional[str]:
    """The letters of ``lang``, or None when phonasr has no alphabet for it (then every letter is accepted)."""
    return ALPHABETS.get(base_language(lang))


def casefold(text: str, lang: str) -> str:
    """Lower-case ``text``; Turkish and Azeri map I to dotless ı and İ to i, unlike str.lower()."""
    if base_language(lang) in ("tr", "az"):
        text = text.replace("I", "ı").replace("İ", "i")
    return text.lower()


def is_letter(char: str) -> bool:
    return unicodedata.category(char).startswith("L")


@dataclass(frozen=True)
class NormalisedText:
    """A normalised transcript and what normalisation noticed about it."""

    text: str
    foreign_chars: str  # sorted distinct letters outside the language's alphabet ("" when clean)
    has_digits: bool


def normalise_text(text: str, lang: str) -> NormalisedText:
    """Case-fold, drop punctuation, keep letters, digits and in-word apostrophes, collapse whitespace."""
    text = casefold(unicodedata.normalize("NFC", text), lang)
    text = text.translate({ord(c): APOSTROPHE for c in APOSTROPHES})
    letters = alphabet(lang)
    kept: list[str] = []
    foreign: set[str] = set()
    for i, char in enumerate(text):
        if is_letter(char):
            kept.append(char)
            if letters is not None and char not in letters:
                foreign.add(char)
        elif char.isdigit() or (char == APOSTROPHE and _between_letters(text, i)):
            kept.append(char)
        else:
            kept.append(" ")
    normalised = " ".join("".join(kept).split())
    return NormalisedText(normalised, "".join(sorted(foreign)), any(c.isdigit() for c in normalised))


def _between_letters(text: str, i: int) -> bool:
    return 0 < i < len(text) - 1 and is_letter(text[i - 1]) and is_letter(text[i + 1])
