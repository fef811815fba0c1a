"""IPA phoneme inventories, the longest-match segmenter, espeak-ng G2P and pronunciation lexicons."""
from __future__ import annotations

from phonasr.phonemes.espeak import EspeakError, EspeakG2P, espeak_ipa, espeak_phonemes
from phonasr.phonemes.inventory import MULTILINGUAL, available_inventories, load_inventory, read_inventory_counts
from phonasr.phonemes.ipa import normalise_ipa
from phonasr.phonemes.lexicon import Lexicon, MissingPronunciationError
from phonasr.phonemes.segmenter import IpaSegmenter, UnknownPhonemeError

__all__ = [
    "MULTILINGUAL", "EspeakError", "EspeakG2P", "IpaSegmenter", "Lexicon", "MissingPronunciationError",
    "UnknownPhonemeError", "available_inventories", "espeak_ipa", "espeak_phonemes", "load_inventory",
    "normalise_ipa", "read_inventory_counts",
]
