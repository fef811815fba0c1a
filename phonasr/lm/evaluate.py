"""Perplexity and OOV rate of a text under an ARPA LM: what the recipe records beside each LM decoding.

Perplexity counts every word and each sentence's ``</s>`` (as KenLM's ``query`` does); out-of-vocabulary words
are scored as ``<unk>``, so a text with many of them looks deceptively easy: read the OOV rate beside it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from phonasr.lm.arpa import ArpaLm


@dataclass(frozen=True)
class TextScore:
    sentences: int
    words: int
    oov_words: int
    log_prob: float  # natural log, summed over the sentences (</s> included)

    @property
    def perplexity(self) -> float:
        return math.exp(-self.log_prob / max(self.words + self.sentences, 1))

    @property
    def oov_rate(self) -> float:
        return self.oov_words / max(self.words, 1)


def score_sentences(lm: ArpaLm, sentences: Iterable[str]) -> TextScore:
    """Totals of :meth:`ArpaLm.sentence_log_prob` over the non-blank ``sentences`` (whitespace-separated words)."""
    n_sentences = words = oov = 0
    log_prob = 0.0
    for sentence in sentences:
        tokens = sentence.split()
        if not tokens:
            continue
        n_sentences += 1
        words += len(tokens)
        oov += sum(not lm.known(w) for w in tokens)
        log_prob += lm.sentence_log_prob(tokens)
    return TextScore(n_sentences, words, oov, log_prob)


def score_text_file(lm: ArpaLm, path: str | Path) -> TextScore:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"text file {path} does not exist")
    return score_sentences(lm, path.read_text(encoding="utf-8").splitlines())
