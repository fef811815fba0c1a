"""Building a decoding graph HLG = H ∘ L ∘ G with kaldifst, and the graph directory it is saved in.

Order (as Kaldi and icefall do): L∘G, determinized (disambiguation symbols keep it determinizable), minimized;
then H∘LG determinized; only then the token-side disambiguation symbols become epsilon. The same builder serves
the BPE TLG (L = words spelled in pieces) and the phone-level HLG (L = pronunciations from a lexicon or the G2P).

A graph dir holds ``HLG.fst``, ``words.txt`` and ``graph.yaml`` (the token lang dir, sizes, build time).
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import kaldifst
import yaml

from phonasr.tokenizers import Tokenizer
from phonasr.utils.io import atomic_path, atomic_write_text
from phonasr.wfst.fsts import WordTable, compile_text, ctc_topology, grammar_fst, lexicon_fst
from phonasr.wfst.lexicon import Pronunciation, add_disambiguation, check_tokens

logger = logging.getLogger(__name__)

GRAPH_FILE, WORDS_FILE, INFO_FILE = "HLG.fst", "words.txt", "graph.yaml"
DEFAULT_MAX_STATES = 20_000_000


class DeterminizationBlowUp(RuntimeError):
    """Determinization passed its state limit: the graph would exhaust memory."""


@dataclass(frozen=True)
class GraphInfo:
    token_lang_dir: str
    vocab_size: int
    arpa: str
    words: int
    pronunciations: int
    num_disambig: int
    states: int
    arcs: int
    build_seconds: float


def count_arcs(fst: kaldifst.StdVectorFst) -> int:
    return sum(fst.num_arcs(s) for s in range(fst.num_states))


def _determinize(fst: kaldifst.StdVectorFst, what: str, max_states: int) -> None:
    try:
        stopped = kaldifst.determinize_star(fst, max_states=max_states)
    except RuntimeError as e:  # kaldifst raises rather than returning the documented flag
        stopped = "passed" in str(e)
        if not stopped:
            raise
    if stopped:
        raise DeterminizationBlowUp(
            f"determinizing {what} passed {max_states} states: the graph is too large for memory. Usual causes: "
            "a lexicon whose homophones or prefixes lack disambiguation symbols, or a very large LM; prune the LM "
            "(fewer words, lower order) or raise --max-states")


def remove_token_disambig(fst: kaldifst.StdVectorFst, vocab_size: int) -> kaldifst.StdVectorFst:
    """The graph with every input label above the tokens (the #k) replaced by epsilon."""
    lines = []
    for line in str(fst).splitlines():
        fields = line.split()
        if len(fields) >= 4 and int(fields[2]) > vocab_size:
            fields[2] = "0"
        lines.append(" ".join(fields))
    return compile_text(lines)


def build_hlg(lexicon: Sequence[Pronunciation], tokenizer: Tokenizer, arpa: str | Path, words: WordTable,
              words_txt: str | Path, max_states: int = DEFAULT_MAX_STATES) -> kaldifst.StdVectorFst:
    """HLG over ``tokenizer``'s tokens for the LM ``arpa`` and the pronunciations ``lexicon`` (without #k)."""
    check_tokens(lexicon, tokenizer, str(words_txt))
    disambiguated, num_disambig = add_disambiguation(lexicon)
    L = lexicon_fst(disambiguated, tokenizer, words)
    G = grammar_fst(arpa, words_txt)
    kaldifst.arcsort(L, sort_type="olabel")
    kaldifst.arcsort(G, sort_type="ilabel")
    LG = kaldifst.compose(L, G)
    _determinize(LG, "L∘G", max_states)
    kaldifst.minimize_encoded(LG)
    kaldifst.arcsort(LG, sort_type="ilabel")
    H = ctc_topology(tokenizer.vocab_size, num_disambig)
    kaldifst.arcsort(H, sort_type="olabel")
    HLG = kaldifst.compose(H, LG)
    _determinize(HLG, "H∘L∘G", max_states)
    HLG = remove_token_disambig(HLG, tokenizer.vocab_size)
    kaldifst.arcsort(HLG, sort_type="ilabel")
    return HLG


def make_graph_dir(out_dir: str | Path, lexicon: Sequence[Pronunciation], tokenizer: Tokenizer, token_lang_dir: str,
                   arpa: str | Path, words: WordTable, max_states: int = DEFAULT_MAX_STATES) -> GraphInfo:
    """Build HLG into ``out_dir`` with its words.txt and graph.yaml; logs the size and build time."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    words.write(out_dir / WORDS_FILE)
    start = time.time()
    hlg = build_hlg(lexicon, tokenizer, arpa, words, out_dir / WORDS_FILE, max_states)
    seconds = time.time() - start
    with atomic_path(out_dir / GRAPH_FILE) as tmp:
        hlg.write(str(tmp))
    info = GraphInfo(str(token_lang_dir), tokenizer.vocab_size, str(arpa), len(words.words), len(lexicon),
                     add_disambiguation(lexicon)[1], hlg.num_states, count_arcs(hlg), round(seconds, 2))
    atomic_write_text(out_dir / INFO_FILE, yaml.safe_dump(asdict(info), sort_keys=False, allow_unicode=True))
    logger.info("HLG of %d words (%d pronunciations) over %d tokens: %d states, %d arcs, built in %.1f s -> %s",
                info.words, info.pronunciations, info.vocab_size, info.states, info.arcs, seconds, out_dir)
    return info


def read_graph_info(graph_dir: str | Path) -> GraphInfo:
    path = Path(graph_dir) / INFO_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; build the graph with steps/make_graph.sh")
    return GraphInfo(**yaml.safe_load(path.read_text(encoding="utf-8")))


def load_graph(graph_dir: str | Path) -> kaldifst.StdVectorFst:
    path = Path(graph_dir) / GRAPH_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; build the graph with steps/make_graph.sh")
    return kaldifst.StdVectorFst.read(str(path))
