"""espeak-ng as a grapheme-to-phoneme converter, called in-process through libespeak-ng.

Why not the ``espeak-ng --ipa`` command: it starts a new output line at every clause break (commas, full stops,
question marks ...), so batching many sentences through one process loses the sentence boundaries, and one
process per sentence costs ~10 ms each. The library call ``espeak_TextToPhonemes`` converts one clause per call
and tells us where the sentence ends, so every sentence gets exactly one IPA string, clauses joined by spaces.
Measured on the 2-core development machine: ~2,800 Polish sentences/s (14 words, two commas each) against
~55 ms per sentence when starting one ``espeak-ng --ipa`` process per sentence; the IPA is the same as the
command line's (tests/phonemes/test_espeak.py checks that).

Output cleaning, all documented so nothing is silently lost:

* language-switch markers ``(en)`` ... ``(pl)`` are removed, the switched words' phonemes stay (they are what
  the synthetic speech says); the number of sentences with a switch is logged;
* espeak-ng prints a few phonemes that have no IPA spelling in 1.51 as their ASCII names; ``VOICE_FIXES`` maps
  the ones our languages emit to IPA (German ``UR`` as ``??``, Russian fronted ``u"`` and ``I^``, French
  reduced vowels ``ə-``, and most of Kyrgyz's consonants and its ө: ``t[``, ``S``, ``oe`` ...). The library is
  always asked for phonemes with a separator between them and the fixes are applied to one phoneme at a time,
  because a name such as ``oe`` (Kyrgyz ө) is also the spelling of two phonemes o + e; for :func:`espeak_ipa`
  the separators are then dropped, which gives exactly the command line's ``--ipa`` string for voices that
  need no fix.

The default voice of a language (:func:`default_voice`) is its base language code (CommonVoice's ``sv-SE``
is spoken by ``sv``, the same fallback as the inventories), except where :data:`LANGUAGE_VOICES` names another.

Stress marks are left in: :class:`phonasr.phonemes.IpaSegmenter` strips them.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from typing import Dict, List, Optional, Sequence

from phonasr.phonemes.ipa import LANGUAGE_SWITCH
from phonasr.phonemes.segmenter import IpaSegmenter
from phonasr.text.normalise import base_language

logger = logging.getLogger(__name__)

# Phonemes espeak-ng 1.51 prints without an IPA spelling, per voice: printed form -> IPA, replaced inside each
# phoneme (so a printed form never matches across a phoneme boundary).
VOICE_FIXES: Dict[str, Dict[str, str]] = {
    "de": {"??": "ʊɐ"},  # mnemonic UR: vocalised r after short u ("Urgroßmutter")
    "ru": {'u"': "ʉ", "ɪ^": "ɪ"},  # fronted u after soft consonants ("тюнер"); I^ before j ("Валерьянович")
    "fr": {"-": ""},  # reduced vowels "ə-" (the e of "gagnera", "cul-de-sac") and "a-" ("ma"): the vowel itself
    # Kyrgyz: dental t d, ш ж (also in ч дж), ң, х, ө, velarised l before consonants after back vowels, length;
    # "1" follows "ɛl" when the voice spells a lone л with English letter names: no IPA, no sound of its own.
    "ky": {"t[": "t̪", "d[": "d̪", "S": "ʃ", "Z": "ʒ", "N": "ŋ", "X": "χ", "oe": "ø", "l-": "ɫ", ":": "ː", "1": ""},
}
# Languages whose espeak-ng voice is not their base code: English as the US voice (CommonVoice's largest accent
# group; espeak-ng's plain "en" is British).
LANGUAGE_VOICES: Dict[str, str] = {"en": "en-us"}
# Separator asked of the library between phonemes (never part of its phoneme output).
_PHONEME_SEPARATOR = "_"

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_PHONEMES_IPA = 0x02


class EspeakError(RuntimeError):
    """libespeak-ng is missing, failed to start, or does not know a voice."""


class _Espeak:
    """The process-wide libespeak-ng handle; the library keeps global state, so every call holds a lock."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        try:
            lib = ctypes.cdll.LoadLibrary(name)
        except OSError as e:
            raise EspeakError(f"cannot load libespeak-ng ({name}): {e}; install espeak-ng "
                              "(apt-get install espeak-ng, see utils/install.sh)") from e
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        if lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INITIALIZE_DONT_EXIT) < 0:
            raise EspeakError("espeak_Initialize failed; is espeak-ng-data installed?")
        self.lib = lib
        self.voice: Optional[str] = None
        self.lock = threading.Lock()

    def set_voice(self, voice: str) -> None:
        if voice != self.voice:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EspeakError(f"espeak-ng has no voice '{voice}'; list them with `espeak-ng --voices`")
            self.voice = voice

    def phonemes(self, text: str, mode: int) -> str:
        """All clauses of ``text`` as phonemes, joined by spaces."""
        pointer = ctypes.pointer(ctypes.c_char_p(text.encode("utf-8")))
        clauses = []
        while pointer.contents.value:
            clause = self.lib.espeak_TextToPhonemes(pointer, _CHARS_UTF8, mode)
            if clause:
                clauses.append(clause.decode("utf-8").strip())
        return " ".join(c for c in clauses if c)


_engine: Optional[_Espeak] = None
_engine_lock = threading.Lock()


def _get_engine() -> _Espeak:
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = _Espeak()
        return _engine


def espeak_version() -> str:
    """The libespeak-ng version string, recorded in the inventories it produced."""
    return _get_engine().lib.espeak_Info(None).decode()


def default_voice(lang: str) -> str:
    """The espeak-ng voice that speaks ``lang`` (a CommonVoice code such as ``pl``, ``sv-SE`` or ``en``)."""
    base = base_language(lang)
    return LANGUAGE_VOICES.get(base, base)


def clean_espeak_ipa(separated: str, voice: str, separator: str) -> str:
    """Remove language-switch markers from phonemes separated by ``_PHONEME_SEPARATOR``, apply the voice's IPA
    fixes to each phoneme, and join the phonemes with ``separator``."""
    fixes = VOICE_FIXES.get(voice, {})
    phonemes = LANGUAGE_SWITCH.sub("", separated).split(_PHONEME_SEPARATOR)
    for printed, fixed in fixes.items():
        phonemes = [p.replace(printed, fixed) for p in phonemes]
    return separator.join(phonemes)


def espeak_ipa(sentences: Sequence[str], voice: str) -> List[str]:
    """espeak-ng IPA for each sentence, one string per sentence (words separated by spaces, stress kept)."""
    return _convert(sentences, voice, "")


def espeak_phonemes(sentences: Sequence[str], voice: str, separator: str = "_") -> List[str]:
    """Like :func:`espeak_ipa` but with ``separator`` between espeak-ng's own phonemes (for building inventories)."""
    if len(separator) != 1 or separator.isspace():
        raise ValueError(f"separator must be one non-space character, got {separator!r}")
    return _convert(sentences, voice, separator)


def _convert(sentences: Sequence[str], voice: str, separator: str) -> List[str]:
    """Each sentence's phonemes through ``voice``, cleaned (see the module docstring), joined by ``separator``."""
    engine = _get_engine()
    with engine.lock:
        engine.set_voice(voice)
        raw = [engine.phonemes(s, _PHONEMES_IPA | (ord(_PHONEME_SEPARATOR) << 8)) for s in sentences]
    switched = sum(1 for r in raw if LANGUAGE_SWITCH.search(r))
    if switched:
        logger.info("espeak-ng voice %s switched language inside %d of %d sentences; markers removed, "
                    "the switched words keep their foreign phonemes", voice, switched, len(raw))
    return [clean_espeak_ipa(r, voice, separator) for r in raw]


class EspeakG2P:
    """espeak-ng as a pronunciation source: sentence -> inventory units (the counterpart of a Lexicon)."""

    def __init__(self, voice: str, segmenter: IpaSegmenter) -> None:
        self.voice = voice
        self.segmenter = segmenter

    def pronounce(self, sentence: str) -> List[str]:
        """Units of ``sentence``; raises UnknownPhonemeError if espeak-ng emits a symbol outside the inventory."""
        return self.segmenter.segment(espeak_ipa([sentence], self.voice)[0])
