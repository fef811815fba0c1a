"""The three factors of a decoding graph, as kaldifst FSTs: H (CTC topology), L (lexicon), G (n-gram).

Label conventions (shared by :mod:`phonasr.wfst.graph` and :mod:`phonasr.decode.wfst`):

* token side: label = token id + 1, so 0 stays epsilon and the CTC blank is 1 (kaldi-decoder's ``DecodableCtc``
  reads posterior column ``label - 1``); the disambiguation symbols ``#0, #1, ...`` follow the tokens, at
  ``vocab_size + 1 + k``.
* word side: the ids of :class:`WordTable` (``<eps>`` 0, the words, ``#0``, ``<s>``, ``</s>``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, List, Sequence

import kaldifst
import kaldilm

from phonasr.lm.arpa import BOS, EOS, UNK
from phonasr.tokenizers import CharTokenizer, Tokenizer
from phonasr.tokenizers.char import WORD_BOUNDARY
from phonasr.utils.io import atomic_write_text
from phonasr.wfst.lexicon import Pronunciation

EPS = "<eps>"
WORD_DISAMBIG = "#0"


class WordTable:
    """words.txt: ``<eps>`` 0, the LM's words, then ``#0``, ``<s>``, ``</s>`` (G's labels)."""

    def __init__(self, words: Iterable[str]) -> None:
        words = [w for w in dict.fromkeys(words) if w not in (EPS, WORD_DISAMBIG, BOS, EOS, UNK)]
        self.symbols: List[str] = [EPS, *words, WORD_DISAMBIG, BOS, EOS]
        self.ids: Dict[str, int] = {s: i for i, s in enumerate(self.symbols)}

    @property
    def words(self) -> List[str]:
        return self.symbols[1:-3]

    @property
    def disambig_id(self) -> int:
        return self.ids[WORD_DISAMBIG]

    def write(self, path: str | Path) -> None:
        atomic_write_text(path, "".join(f"{s} {i}\n" for i, s in enumerate(self.symbols)))

    @classmethod
    def read(cls, path: str | Path) -> WordTable:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"word table {path} does not exist; build the graph with steps/make_graph.sh")
        return cls(line.split()[0] for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def token_label(token_id: int) -> int:
    return token_id + 1


def token_disambig_label(vocab_size: int, k: int) -> int:
    return vocab_size + 1 + k


def compile_text(lines: Iterable[str]) -> kaldifst.StdVectorFst:
    return kaldifst.compile("\n".join(lines) + "\n")


def ctc_topology(vocab_size: int, num_disambig: int) -> kaldifst.StdVectorFst:
    """H: frame labels (blank and tokens) in, tokens out; a token's repeats are one token unless a blank separates
    them. State 0 is "after a blank", state t "after token t"; all are final. Token-side disambiguation symbols
    pass through as self-loops."""
    lines: List[str] = []
    for state in range(vocab_size):
        lines.append(f"{state} 0 {token_label(0)} 0")
        for token in range(1, vocab_size):
            label = token_label(token)
            lines.append(f"{state} {token} {label} {0 if token == state else label}")
        lines.extend(f"{state} {state} {token_disambig_label(vocab_size, k)} {token_disambig_label(vocab_size, k)}"
                     for k in range(num_disambig + 1))
        lines.append(f"{state}")
    return compile_text(lines)


def lexicon_fst(lexicon: Sequence[Pronunciation], tokenizer: Tokenizer, words: WordTable) -> kaldifst.StdVectorFst:
    """L: token strings (with their #k) in, words out, each pronunciation a loop on state 0 weighted by its cost,
    plus G's backoff symbol #0 mapped to the token-side #0. A character tokenizer's word boundary ``▁`` is an
    optional token between words (a loop on state 0 with no word, like Kaldi's optional silence): the model may
    write it or not, and the words of G, not the ``▁``, decide where words end."""
    lines: List[str] = []
    next_state = 1
    vocab_size = tokenizer.vocab_size
    for pron in lexicon:
        labels = [token_label(tokenizer.table.id(t)) for t in pron.tokens]
        if pron.disambig:
            labels.append(token_disambig_label(vocab_size, pron.disambig))
        src = 0
        for n, label in enumerate(labels):
            dst = 0 if n == len(labels) - 1 else next_state
            if dst:
                next_state += 1
            word = words.ids[pron.word] if n == 0 else 0
            lines.append(f"{src} {dst} {label} {word} {pron.cost if n == 0 else 0.0}")
            src = dst
    lines.append(f"0 0 {token_disambig_label(vocab_size, 0)} {words.disambig_id}")
    if isinstance(tokenizer, CharTokenizer):
        lines.append(f"0 0 {token_label(tokenizer.table.id(WORD_BOUNDARY))} 0")
    lines.append("0")
    return compile_text(lines)


def grammar_fst(arpa: str | Path, words_txt: str | Path) -> kaldifst.StdVectorFst:
    """G of an ARPA LM over the words of ``words_txt``: backoff arcs read #0, ``<s>``/``</s>`` become epsilon.
    Words of the LM missing from the table (lmplz's ``<unk>``) are skipped by arpa2fst."""
    text = kaldilm.arpa2fst(input_arpa=str(arpa), disambig_symbol=WORD_DISAMBIG, read_symbol_table=str(words_txt),
                            max_arpa_warnings=0)
    return kaldifst.compile(text)
