"""Exact scores of a backoff n-gram LM in ARPA format, in natural log.

Rescoring (MLS, LM-weight sweeps) needs the LM's own log-probability of a word sequence. The cost of a path
through G is not that: G's backoff arcs let a path skip an explicit n-gram whenever backing off is cheaper, so
for a backoff (non-interpolated) model a path can beat the true probability by several nats. This module walks
the ARPA backoff rule instead:

    log p(w | h) = log p(h w)                             when the n-gram "h w" is listed
                 = backoff(h) + log p(w | h minus its first word)   otherwise

ARPA stores log10; every value returned here is a natural log. Words outside the vocabulary are read as ``<unk>``
(the model must list it, as lmplz's do); the context keeps them as ``<unk>``, as KenLM does.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
LN10 = math.log(10.0)
_COUNT = re.compile(r"^ngram\s+(\d+)\s*=\s*(\d+)$")
_SECTION = re.compile(r"^\\(\d+)-grams:$")

NGram = Tuple[str, ...]


@dataclass
class ArpaLm:
    """A backoff n-gram LM: every listed n-gram's (log10 prob, log10 backoff)."""

    order: int
    ngrams: Dict[NGram, Tuple[float, float]] = field(default_factory=dict)
    path: str = ""

    @property
    def vocabulary(self) -> List[str]:
        """The words of the unigrams, in file order (``<s>``, ``</s>`` and ``<unk>`` included)."""
        return [ngram[0] for ngram in self.ngrams if len(ngram) == 1]

    def word_log_prob(self, context: Sequence[str], word: str) -> float:
        """Natural-log p(word | context); only the last ``order - 1`` words of the context matter."""
        context = tuple(context[max(len(context) - self.order + 1, 0):]) if self.order > 1 else ()
        backoff = 0.0
        while True:
            entry = self.ngrams.get(context + (word,))
            if entry is not None:
                return (backoff + entry[0]) * LN10
            if not context:
                raise KeyError(f"{self.path}: the word {word!r} has no unigram")
            parent = self.ngrams.get(context)
            backoff += parent[1] if parent is not None else 0.0
            context = context[1:]

    def known(self, word: str) -> bool:
        return (word,) in self.ngrams

    def sentence_log_prob(self, words: Sequence[str], eos: bool = True) -> float:
        """Natural-log probability of ``words`` after ``<s>``, including ``</s>`` unless ``eos`` is False."""
        if not self.known(UNK) and not all(self.known(w) for w in words):
            unknown = next(w for w in words if not self.known(w))
            raise ValueError(f"{self.path} has no {UNK} and the word {unknown!r} is not in its vocabulary; "
                             "train the LM with lmplz (which adds <unk>) or drop the word")
        history: List[str] = [BOS]
        total = 0.0
        for word in [*words, EOS] if eos else words:
            word = word if self.known(word) else UNK
            total += self.word_log_prob(history, word)
            history.append(word)
        return total


def read_arpa(path: str | Path) -> ArpaLm:
    """Parse an ARPA file; a malformed one is an error naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ARPA LM {path} does not exist; build it with steps/make_lm.sh")
    expected: Dict[int, int] = {}
    lm = ArpaLm(order=0, path=str(path))
    section = 0
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.strip()
            if not line or line in ("\\data\\", "\\end\\"):
                continue
            count, header = _COUNT.match(line), _SECTION.match(line)
            if count:
                expected[int(count.group(1))] = int(count.group(2))
            elif header:
                section = int(header.group(1))
                if section not in expected:
                    raise ValueError(f"{path}:{lineno}: section {section}-grams is not announced in \\data\\")
            elif section:
                ngram, values = _parse_entry(line, section, path, lineno)
                lm.ngrams[ngram] = values
            else:
                raise ValueError(f"{path}:{lineno}: unexpected text before the n-gram sections: {line[:80]!r}")
    if not expected:
        raise ValueError(f"{path} has no \\data\\ header: not an ARPA file")
    found = _counts(lm.ngrams)
    if found != expected:
        raise ValueError(f"{path}: the header announces n-gram counts {expected} but the file lists {found}; "
                         "the file is truncated or corrupt, rebuild it")
    lm.order = max(expected)
    return lm


def _parse_entry(line: str, order: int, path: Path, lineno: int) -> Tuple[NGram, Tuple[float, float]]:
    fields = line.split()
    if len(fields) not in (order + 1, order + 2):
        raise ValueError(f"{path}:{lineno}: a {order}-gram line holds log10-prob, {order} words and an optional "
                         f"backoff, got {line[:80]!r}")
    try:
        prob = float(fields[0])
        backoff = float(fields[order + 1]) if len(fields) == order + 2 else 0.0
    except ValueError:
        raise ValueError(f"{path}:{lineno}: not a number in {line[:80]!r}") from None
    return tuple(fields[1:order + 1]), (prob, backoff)


def _counts(ngrams: Iterable[NGram]) -> Dict[int, int]:
    counts: Dict[int, int] = {}
    for ngram in ngrams:
        counts[len(ngram)] = counts.get(len(ngram), 0) + 1
    return counts
