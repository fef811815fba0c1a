"""IPA string normalisation and the rule that turns espeak-ng phonemes into phonasr units.

Conventions (shared by the inventories, the segmenter and every manifest):

* Unicode NFC, so a precomposed letter and its decomposed spelling are the same unit.
* Tie bars (U+0361, U+035C) are removed: ``t͡ɕ`` and ``tɕ`` are one unit spelled ``tɕ``. espeak-ng prints ties
  only when asked to (``--tie``), lexicons often have them; removing them makes both agree.
* Stress (ˈ ˌ) and syllable (.) marks are prosody, not phonemes: stripped, as the Whistle lexicons did.
* Length (ː, ˑ) is STRIPPED by default (:data:`STRIP_LENGTH`), as the Whistle lexicons did: the paper's
  multilingual S2P and its crosslingual fine-tuning map phonemes between languages by IPA symbol, and a unit
  ``aː`` that only some languages have would keep the long vowels of cs, de, en, nl, sv, tr ... apart from the
  short ones every language shares (CTC also models duration poorly: a long vowel is a run of frames either
  way). The price is that length contrasts (Czech, Swedish, Italian geminates) are merged; the inventories and
  every worker that segments IPA take ``--strip-length false`` for experiments that want them, with
  inventories rebuilt the same way (``python -m phonasr.phonemes.build_inventory --strip-length false``).
  The targets are barely affected: espeak-ng gives Indonesian no length mark, and Polish one only rarely (in
  the inventory's 21,000-item sample only where it reads the digit 0: ``zˈɛrɔː``; the word *zero* is ``zˈɛrɔ``).
* espeak-ng language-switch markers such as ``(en)`` ... ``(pl)`` are removed; the phonemes between them stay,
  because the synthetic speech pronounces them that way.

A *segment* is one base letter with the diacritics and modifier letters that follow it (``ɲʲ``, ``r̝̊``, ``aː``).
A *unit* is a segment, or an affricate: two segments, a stop then a fricative, that espeak-ng emits as one
phoneme (``ts``, ``tɕ``, ``dʒː``, ``pf``). Diphthongs and other multi-letter espeak phonemes (``aɪ``, ``ja``,
Italian ``ss``) are split into their segments, so vowels and glides are shared across languages and longest
match never has to guess where a vowel sequence splits.
"""
from __future__ import annotations

import re
import unicodedata
from typing import List

TIE_BARS = "\u0361\u035c"
STRESS_MARKS = "ˈˌ"
SYLLABLE_MARKS = "."
LENGTH_MARKS = "ːˑ"
# Whether length marks are stripped unless asked otherwise (see the module docstring for why).
STRIP_LENGTH = True
# Modifier letters that belong to the preceding letter (not combining characters, so listed explicitly).
MODIFIER_LETTERS = "ʲʰʷˠˤ˞ⁿˡʼ" + LENGTH_MARKS
# Stops and fricatives for the affricate rule: a stop followed by a fricative within one espeak phoneme.
AFFRICATE_STOPS = "pbtdkɡcɟ"
AFFRICATE_FRICATIVES = "szʃʒɕʑʂʐfvθðxç"

# espeak-ng marks words it reads in another language: "(en)wˈiːkɛnd(pl)".
LANGUAGE_SWITCH = re.compile(r"\([a-z]{2,3}(?:-[a-z0-9]+)?\)")


def normalise_ipa(ipa: str, strip_marks: bool = True, strip_length: bool = STRIP_LENGTH) -> str:
    """Apply the conventions above to an IPA string; whitespace (word boundaries) is kept as single spaces."""
    text = unicodedata.normalize("NFC", LANGUAGE_SWITCH.sub("", ipa))
    removed = TIE_BARS
    if strip_marks:
        removed += STRESS_MARKS + SYLLABLE_MARKS
    if strip_length:
        removed += LENGTH_MARKS
    text = text.translate({ord(c): None for c in removed})
    return " ".join(text.split())


def is_modifier(char: str) -> bool:
    """True for characters that attach to the letter before them: combining marks and modifier letters."""
    return char in MODIFIER_LETTERS or unicodedata.category(char).startswith("M")


def split_segments(ipa: str) -> List[str]:
    """Split a normalised IPA string without spaces into segments (base letter + its modifiers)."""
    segments: List[str] = []
    for char in ipa:
        if is_modifier(char) and segments:
            segments[-1] += char
        else:
            segments.append(char)
    return segments


def is_affricate(first: str, second: str) -> bool:
    return first[0] in AFFRICATE_STOPS and second[0] in AFFRICATE_FRICATIVES


def phoneme_to_units(phoneme: str) -> List[str]:
    """Units for one espeak-ng phoneme (already normalised): itself if a segment or an affricate, else its segments."""
    segments = split_segments(phoneme)
    if len(segments) == 2 and is_affricate(*segments):
        return [phoneme]
    return segments
