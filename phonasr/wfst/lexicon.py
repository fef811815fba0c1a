"""Pronunciation lexicons for the L of a decoding graph: each LM word spelled in the acoustic model's tokens.

A word may have several pronunciations, each with a cost (negative natural log of its probability given the word;
0 for a single, certain spelling). Kaldi's disambiguation rule makes L∘G determinizable: a pronunciation that is a
proper prefix of another, or that several words share (homophones), gets a distinct ``#k`` appended, so no token
string leads to two words. Without it determinization never finishes on homophones.
"""
from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from phonasr.phonemes import IpaSegmenter, UnknownPhonemeError
from phonasr.phonemes.espeak import default_voice, espeak_ipa
from phonasr.tokenizers import BpeTokenizer, CharTokenizer, Tokenizer
from phonasr.tokenizers.char import WORD_BOUNDARY

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pronunciation:
    word: str
    tokens: Tuple[str, ...]
    cost: float = 0.0       # -log P(tokens | word)
    disambig: int = 0       # k of the #k appended, 0 for none


def spelling_lexicon(words: Sequence[str], tokenizer: Tokenizer) -> List[Pronunciation]:
    """Every word in the tokens of a text tokenizer: its SentencePiece pieces (a word encodes to the same pieces
    alone as inside a sentence), or its characters. A character model writes ``▁`` between words; L takes it as
    an optional token between words (:func:`phonasr.wfst.fsts.lexicon_fst`), so it is no part of a spelling."""
    if isinstance(tokenizer, BpeTokenizer):
        return [Pronunciation(w, tuple(tokenizer.sp.encode(w, out_type=str))) for w in words]
    if isinstance(tokenizer, CharTokenizer):
        return [Pronunciation(w, tuple(w)) for w in words if WORD_BOUNDARY not in w]
    raise ValueError(f"a spelling lexicon needs a BPE or character lang dir, not {tokenizer.type_name}")


def read_lexicon(path: str | Path, words: Sequence[str]) -> List[Pronunciation]:
    """The pronunciations of ``words`` in a ``word<TAB>token token ...`` file (several lines per word allowed, all
    equally likely); words of the LM that the file lacks are left out of L (they cannot be decoded)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"lexicon {path} does not exist")
    wanted = set(words)
    found: Dict[str, List[Tuple[str, ...]]] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0].strip() or not fields[1].split():
            raise ValueError(f"{path}:{lineno}: expected word<TAB>space-separated tokens, got {line[:80]!r}")
        word = fields[0].strip()
        if word in wanted:
            found.setdefault(word, []).append(tuple(fields[1].split()))
    return [Pronunciation(w, p, math.log(len(prons))) for w, prons in found.items() for p in dict.fromkeys(prons)]


def espeak_lexicon(words: Sequence[str], inventory: str) -> List[Pronunciation]:
    """Every word as espeak-ng pronounces it alone, in the units of ``inventory`` (a phoneme lang dir's): the human
    lexicon that the lexicon-free graph is compared with. Words espeak-ng says with units outside the inventory
    are left out of L with a warning (they cannot be decoded)."""
    if not inventory:
        raise ValueError("the phoneme lang dir names no inventory (tokenizer.yaml 'inventory'); pass a lexicon file")
    segmenter = IpaSegmenter.for_language(inventory)
    lexicon, unsaid = [], []
    for word, ipa in zip(words, espeak_ipa(list(words), default_voice(inventory))):
        try:
            units = tuple(segmenter.segment(ipa))
        except UnknownPhonemeError:
            units = ()
        if units:
            lexicon.append(Pronunciation(word, units))
        else:
            unsaid.append(word)
    if unsaid:
        logger.warning("espeak-ng gave no %s units for %d of %d words (left out of L, e.g. %s)", inventory,
                       len(unsaid), len(words), unsaid[:5])
    return lexicon


def check_tokens(lexicon: Sequence[Pronunciation], tokenizer: Tokenizer, source: str) -> None:
    """Every pronunciation is a non-empty string of the tokenizer's symbols (blank excluded)."""
    for pron in lexicon:
        unknown = [t for t in pron.tokens if t not in tokenizer.table or tokenizer.table.id(t) == tokenizer.blank_id]
        if not pron.tokens or unknown:
            raise ValueError(f"{source}: the pronunciation {' '.join(pron.tokens)!r} of {pron.word!r} is empty or "
                             f"holds tokens {unknown} that the acoustic model's token table lacks; use the lexicon "
                             "made for that lang dir")


def add_disambiguation(lexicon: Sequence[Pronunciation]) -> Tuple[List[Pronunciation], int]:
    """The lexicon with ``#k`` on prefixes and shared pronunciations, and the largest k used (0 when none).

    The n-th word (in lexicon order) of a pronunciation that needs one gets ``#n``: homophones get distinct
    symbols and a prefix gets one that no longer pronunciation continues with."""
    counts = Counter(p.tokens for p in lexicon)
    prefixes = {p.tokens[:n] for p in lexicon for n in range(1, len(p.tokens))}
    seen: Counter = Counter()
    out: List[Pronunciation] = []
    for p in lexicon:
        if counts[p.tokens] > 1 or p.tokens in prefixes:
            seen[p.tokens] += 1
            p = Pronunciation(p.word, p.tokens, p.cost, seen[p.tokens])
        out.append(p)
    return out, max((p.disambig for p in out), default=0)
