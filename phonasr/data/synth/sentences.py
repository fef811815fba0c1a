"""Turn raw paragraphs into speakable sentences.

Man pages and fortune files are full of things a reader would not say or espeak-ng would spell out: option
names, paths, URLs, code, acronyms, numbers, untranslated English. A sentence is kept only if it looks like
prose: starts with a capital letter, ends with . ! ? or …, has a sensible number of words, only letters of the
language's alphabet, and no markup. Being strict costs little: the sources hold far more text than needed.
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator, Optional

from phonasr.text.normalise import base_language, normalise_text

_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+")
# Characters of code, markup, paths and URLs; a sentence with any of them is not prose.
_CODE_CHARS = set("/\\_=<>{}[]|#$%^&*~+@`§")
_LEADING_DASHES = "-–— "
_TERMINAL = (".", "!", "?", "…")
# Translated man pages keep some paragraphs in English. These English function words are not words of the other
# corpus languages, so one of them marks a sentence as (partly) untranslated.
_ENGLISH_WORDS = {"the", "of", "and", "this", "that", "with", "which", "from", "are", "you", "your", "not", "or", "by"}


def split_sentences(paragraph: str) -> list[str]:
    """Split after . ! ? … when the next piece starts with a capital letter (so "np. coś" stays together)."""
    sentences: list[str] = []
    for piece in _SENTENCE_BREAK.split(" ".join(paragraph.split())):
        first_letter = next((c for c in piece if c.isalpha()), "")
        if sentences and not first_letter.isupper():
            sentences[-1] += " " + piece
        else:
            sentences.append(piece)
    return sentences


def clean_sentence(sentence: str, lang: str, min_words: int, max_words: int) -> Optional[str]:
    """The sentence ready to speak, or None when it is not speakable prose of ``lang``."""
    sentence = sentence.strip().lstrip(_LEADING_DASHES).strip()
    if not sentence or not sentence[0].isupper() or not sentence.endswith(_TERMINAL):
        return None
    if any(c in _CODE_CHARS for c in sentence) or "www." in sentence.lower():
        return None
    if any(sum(c.isupper() for c in word) > 1 for word in sentence.split()):  # acronyms, CamelCase identifiers
        return None
    if "()" in sentence or any(_looks_like_code(word) for word in sentence.split()):
        return None
    norm = normalise_text(sentence, lang)
    if base_language(lang) != "en" and _ENGLISH_WORDS.intersection(norm.text.split()):
        return None
    if norm.foreign_chars or norm.has_digits:
        return None
    if not min_words <= len(norm.text.split()) <= max_words:
        return None
    return sentence


def speakable_sentences(paragraphs: Iterable[str], lang: str, min_words: int, max_words: int) -> Iterator[str]:
    for paragraph in paragraphs:
        for sentence in split_sentences(paragraph):
            cleaned = clean_sentence(sentence, lang, min_words, max_words)
            if cleaned is not None:
                yield cleaned


def _looks_like_code(word: str) -> bool:
    """Command-line options (-v, --all) and dotted names (file.txt, os.path) inside a sentence."""
    return word.startswith("-") or "." in word.rstrip(".!?…\"'”»)")


class SentencePool:
    """Sentences in first-seen order, without two that normalise to the same text (or to an excluded one)."""

    def __init__(self, lang: str, exclude: Iterable[str] = ()) -> None:
        self.lang = lang
        self.sentences: list[str] = []
        self._seen = {normalise_text(s, lang).text for s in exclude}

    def add(self, sentences: Iterable[str]) -> None:
        for sentence in sentences:
            key = normalise_text(sentence, self.lang).text
            if key not in self._seen:
                self._seen.add(key)
                self.sentences.append(sentence)
