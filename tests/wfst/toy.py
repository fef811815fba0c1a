"""A toy decoding setup: four phonemes, six words (a homophone pair, prefixes), an interpolated trigram ARPA."""
from __future__ import annotations

from pathlib import Path
from typing import List, Sequence

import kaldifst

from phonasr.lm.arpa import read_arpa
from phonasr.tokenizers import PhonemeTokenizer
from phonasr.wfst.fsts import WordTable, grammar_fst
from phonasr.wfst.graph import make_graph_dir
from phonasr.wfst.lexicon import Pronunciation

UNITS = ["a", "b", "c", "d"]
# "ab" and "abx" are homophones; "a" is a prefix of "ab", "abb" and "ac"; "ab" is a prefix of "abb"
LEXICON = [Pronunciation("a", ("a",)), Pronunciation("ab", ("a", "b")), Pronunciation("abx", ("a", "b")),
           Pronunciation("abb", ("a", "b", "b")), Pronunciation("ac", ("a", "c")), Pronunciation("d", ("d",))]

# Interpolated (every listed n-gram beats its backoff route, as lmplz's models do; test_arpa checks it).
ARPA = """\\data\\
ngram 1=9
ngram 2=6
ngram 3=2

\\1-grams:
-1.2\t<unk>\t0
-99\t<s>\t-0.4
-0.9\t</s>\t0
-0.8\ta\t-0.3
-1.0\tab\t-0.2
-1.1\tabx\t-0.2
-1.0\tabb\t-0.25
-1.1\tac\t-0.3
-0.9\td\t-0.35

\\2-grams:
-0.3\t<s> a\t-0.1
-0.25\ta d\t-0.2
-0.3\tab d\t0
-0.2\td </s>\t0
-0.5\tabx a\t-0.15
-0.6\t<s> abb\t0

\\3-grams:
-0.1\t<s> a d
-0.05\tabx a d

\\end\\
"""

# A flat LM: every word costs nothing (G's weights all zero).
FLAT_ARPA = "\\data\\\nngram 1=9\n\n\\1-grams:\n" + "".join(
    f"0\t{w}\n" for w in ["<unk>", "<s>", "</s>", "a", "ab", "abx", "abb", "ac", "d"]) + "\n\\end\\\n"


def tokenizer() -> PhonemeTokenizer:
    return PhonemeTokenizer.from_units(UNITS)


def write_graph(tmp: Path, arpa_text: str = ARPA, lexicon: Sequence[Pronunciation] = LEXICON) -> Path:
    """Graph dir of the toy under ``tmp``; the ARPA is ``tmp/lm.arpa``."""
    arpa = tmp / "lm.arpa"
    arpa.write_text(arpa_text, encoding="utf-8")
    make_graph_dir(tmp / "graph", lexicon, tokenizer(), "toy", arpa, WordTable(read_arpa(arpa).vocabulary))
    return tmp / "graph"


def g_cost(tmp: Path, words: Sequence[str]) -> float:
    """Cost of the best path through G (of ``tmp/lm.arpa``) that outputs ``words``."""
    table = WordTable.read(tmp / "graph" / "words.txt")
    grammar = grammar_fst(tmp / "lm.arpa", tmp / "graph" / "words.txt")
    kaldifst.arcsort(grammar, sort_type="olabel")
    linear = kaldifst.make_linear_acceptor([table.ids[w] for w in words])
    ok, _, _, weight = kaldifst.get_linear_symbol_sequence(kaldifst.shortest_path(kaldifst.compose(grammar, linear)))
    assert ok
    return weight.value


def spell(words: Sequence[str]) -> List[str]:
    pron = {p.word: p.tokens for p in LEXICON}
    return [t for w in words for t in pron[w]]
