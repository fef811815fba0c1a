"""Pronunciation lexicons: ``word<TAB>p1 p2 ...`` files (Phonetisaurus / Kaldi ``lexicon.txt`` style).

A lexicon is the alternative to espeak-ng as the pronunciation source of the labelled subset (e.g. the Whistle
lexicons of the paper). Only the first pronunciation of a word is used, so a sentence has one phoneme sequence;
the number of words with variants is kept in ``num_variants_ignored`` for the log. With a segmenter, every
pronunciation is re-segmented into inventory units, which normalises ties (``t͡ɕ`` -> ``tɕ``) and stress and
rejects symbols outside the inventory at load time, naming the line.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence

from phonasr.phonemes.segmenter import IpaSegmenter, UnknownPhonemeError


class MissingPronunciationError(KeyError):
    """Words of a sentence that the lexicon does not have."""

    def __init__(self, words: Sequence[str], sentence: str) -> None:
        self.words = list(words)
        self.sentence = sentence
        super().__init__(f"no pronunciation for {' '.join(self.words)!r} in sentence {sentence!r}")

    def __str__(self) -> str:
        return str(self.args[0])


class Lexicon:
    """Word -> phoneme units. Lookup tries the word as written, then lower-cased."""

    def __init__(self, entries: Dict[str, List[str]], num_variants_ignored: int = 0) -> None:
        self.entries = entries
        self.num_variants_ignored = num_variants_ignored

    @classmethod
    def from_file(cls, path: str | Path, segmenter: Optional[IpaSegmenter] = None) -> Lexicon:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"lexicon {path} does not exist")
        entries: Dict[str, List[str]] = {}
        variants = 0
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            word, _, pron = line.partition("\t") if "\t" in line else line.strip().partition(" ")
            word, units = word.strip(), pron.split()
            if not word or not units:
                raise ValueError(f"{path}:{lineno}: expected 'word<TAB>p1 p2 ...', got {line!r}")
            if segmenter is not None:
                try:
                    units = segmenter.segment(" ".join(units))
                except UnknownPhonemeError as e:
                    raise ValueError(f"{path}:{lineno}: word {word!r}: {e}") from e
            if word in entries:
                variants += 1
            else:
                entries[word] = units
        if not entries:
            raise ValueError(f"lexicon {path} holds no entries")
        return cls(entries, variants)

    def lookup(self, word: str) -> Optional[List[str]]:
        return self.entries.get(word) or self.entries.get(word.lower())

    def pronounce(self, sentence: str) -> List[str]:
        """Units of all words of ``sentence``; raises :class:`MissingPronunciationError` listing every unknown word."""
        units: List[str] = []
        missing: List[str] = []
        for word in sentence.split():
            pron = self.lookup(word)
            if pron is None:
                missing.append(word)
            else:
                units.extend(pron)
        if missing:
            raise MissingPronunciationError(missing, sentence)
        return units
