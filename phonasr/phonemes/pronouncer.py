"""Choose where pronunciations come from: espeak-ng as the built-in G2P, or a lexicon file.

Real corpora (CommonVoice) carry no phonemes; the labelled subset and the phoneme baselines get them from one of
these sources. Both return phoneme units of the language's inventory for a normalised sentence.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import List, Optional, Protocol

from phonasr.phonemes.espeak import EspeakG2P, default_voice
from phonasr.phonemes.lexicon import Lexicon
from phonasr.phonemes.segmenter import IpaSegmenter

logger = logging.getLogger(__name__)

SOURCES = ("espeak", "lexicon")


class Pronouncer(Protocol):
    """Anything that turns a sentence into phoneme units (raising for words it cannot pronounce)."""

    def pronounce(self, sentence: str) -> List[str]: ...


def make_pronouncer(source: str, lang: str, segmenter: IpaSegmenter, lexicon: Optional[Path] = None,
                    voice: Optional[str] = None) -> Pronouncer:
    """The pronunciation source ``source`` (espeak|lexicon) for ``lang``; ``voice`` defaults to the language's
    (:func:`~phonasr.phonemes.espeak.default_voice`: the base language of ``sv-SE``, ``en-us`` for ``en``)."""
    if source == "lexicon":
        if lexicon is None:
            raise SystemExit("the lexicon pronunciation source needs a lexicon file (--lexicon FILE)")
        table = Lexicon.from_file(lexicon, segmenter)
        logger.info("lexicon %s: %d words (%d extra pronunciations ignored)", lexicon, len(table.entries),
                    table.num_variants_ignored)
        return table
    if source == "espeak":
        return EspeakG2P(voice or default_voice(lang), segmenter)
    raise SystemExit(f"unknown pronunciation source '{source}'; choose from {', '.join(SOURCES)}")
