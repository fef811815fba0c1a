"""The toy graph: G scores are the ARPA's, no disambiguation symbol survives, homophones and prefixes decode."""
from __future__ import annotations

import itertools
import math

import kaldifst
import pytest
import torch

from phonasr.decode.wfst import WfstOptions, one_best
from phonasr.lm.arpa import read_arpa
from phonasr.tokenizers import CharTokenizer
from phonasr.wfst.fsts import WordTable
from phonasr.wfst.graph import DeterminizationBlowUp, load_graph, make_graph_dir, read_graph_info
from phonasr.wfst.lexicon import Pronunciation, add_disambiguation, spelling_lexicon
from tests.wfst import toy

SENTENCES = [["a"], ["a", "d"], ["abx", "a", "d"], ["abb", "d", "a"], ["ac", "ac", "ab"], ["d", "d", "d", "a"]]


def test_disambiguation_marks_prefixes_and_homophones():
    marked, largest = add_disambiguation(toy.LEXICON)
    by_word = {p.word: p.disambig for p in marked}
    assert by_word == {"a": 1, "ab": 1, "abx": 2, "abb": 0, "ac": 0, "d": 0}
    assert largest == 2


def test_g_scores_equal_the_arpa_scorer(tmp_path):
    toy.write_graph(tmp_path)
    lm = read_arpa(tmp_path / "lm.arpa")
    for words in SENTENCES:
        assert toy.g_cost(tmp_path, words) == pytest.approx(-lm.sentence_log_prob(words), abs=1e-3), words


def test_no_disambiguation_symbol_survives(tmp_path):
    graph_dir = toy.write_graph(tmp_path)
    graph, info = load_graph(graph_dir), read_graph_info(graph_dir)
    words = WordTable.read(graph_dir / "words.txt")
    ilabels, olabels = set(), set()
    for state in kaldifst.StateIterator(graph):
        for arc in kaldifst.ArcIterator(graph, state):
            ilabels.add(arc.ilabel)
            olabels.add(arc.olabel)
    assert max(ilabels) <= info.vocab_size  # token labels are id + 1: #k would be above
    assert words.disambig_id not in olabels
    assert info.num_disambig == 2 and info.states == graph.num_states


def _peaky(tokens, frames_per_token=3, peak=0.9):
    """Log-posteriors that spell ``tokens`` (each for a few frames, blanks between)."""
    tok = toy.tokenizer()
    path = []
    for t in tokens:
        path += [tok.table.id(t)] * frames_per_token + [0]
    probs = torch.full((len(path), tok.vocab_size), (1 - peak) / (tok.vocab_size - 1))
    probs[torch.arange(len(path)), torch.tensor(path)] = peak
    return probs.log()


@pytest.mark.parametrize("words", [["a"], ["ab", "d"], ["abb"], ["a", "ac"], ["abx", "a", "d"], ["d", "ab"]])
def test_homophones_and_prefixes_decode(tmp_path, words):
    graph_dir = toy.write_graph(tmp_path)
    table = WordTable.read(graph_dir / "words.txt")
    hyp = one_best(load_graph(graph_dir), _peaky(toy.spell(words)), WfstOptions(beam=30))
    decoded = [table.symbols[w] for w in hyp.words]
    assert toy.spell(decoded) == toy.spell(words)
    lm = read_arpa(tmp_path / "lm.arpa")
    readings = itertools.product(*[("ab", "abx") if w in ("ab", "abx") else (w,) for w in words])
    assert decoded == list(max(readings, key=lm.sentence_log_prob))  # homophones: the one the LM prefers


def test_determinization_blow_up_is_a_clear_error(tmp_path):
    arpa = tmp_path / "lm.arpa"
    arpa.write_text(toy.ARPA, encoding="utf-8")
    with pytest.raises(DeterminizationBlowUp, match="raise --max-states"):
        make_graph_dir(tmp_path / "graph", toy.LEXICON, toy.tokenizer(), "toy", arpa,
                       WordTable(read_arpa(arpa).vocabulary), max_states=3)


def test_lexicon_tokens_must_fit_the_tokenizer(tmp_path):
    arpa = tmp_path / "lm.arpa"
    arpa.write_text(toy.ARPA, encoding="utf-8")
    with pytest.raises(ValueError, match="token table lacks"):
        make_graph_dir(tmp_path / "graph", [*toy.LEXICON, Pronunciation("d", ("z",))], toy.tokenizer(), "toy",
                       arpa, WordTable(read_arpa(arpa).vocabulary))
    assert math.isfinite(read_arpa(arpa).sentence_log_prob(["a"]))


def test_espeak_lexicon_says_each_word_in_the_inventory_units():
    from phonasr.phonemes import EspeakG2P, IpaSegmenter
    from phonasr.phonemes.espeak import default_voice
    from phonasr.wfst.lexicon import espeak_lexicon

    words = ["kot", "szczęście", "dom"]
    lexicon = espeak_lexicon(words, "pl")
    alone = EspeakG2P(default_voice("pl"), IpaSegmenter.for_language("pl"))
    assert [(p.word, p.tokens, p.cost) for p in lexicon] == [(w, tuple(alone.pronounce(w)), 0.0) for w in words]
    assert lexicon[0].tokens == ("k", "ɔ", "t")
    with pytest.raises(ValueError, match="names no inventory"):
        espeak_lexicon(words, "")


@pytest.mark.parametrize("boundaries", [False, True])
def test_a_character_model_decodes_words_with_or_without_word_boundaries(tmp_path, boundaries):
    """Characters spell the toy words; ``▁`` between them is optional: the LM's words decide the segmentation."""
    arpa = tmp_path / "lm.arpa"
    arpa.write_text(toy.ARPA.replace("abx", "acc"), encoding="utf-8")  # no homophones in spelling
    words = WordTable(read_arpa(arpa).vocabulary)
    chars = CharTokenizer.from_texts(["a b c d"])
    lexicon = spelling_lexicon(words.words, chars)
    assert Pronunciation("abb", ("a", "b", "b")) in lexicon
    make_graph_dir(tmp_path / "graph", lexicon, chars, "toy_char", arpa, words)
    spoken = ["a", "d"] if not boundaries else ["a", "▁", "d"]
    frames = []
    for c in spoken:
        frames += [chars.table.id(c)] * 2 + [0]
    probs = torch.full((len(frames), chars.vocab_size), 0.1 / (chars.vocab_size - 1))
    probs[torch.arange(len(frames)), torch.tensor(frames)] = 0.9
    hyp = one_best(load_graph(tmp_path / "graph"), probs.log(), WfstOptions(beam=30))
    assert [words.symbols[w] for w in hyp.words] == ["a", "d"]  # "ad" is no word: the LM's "a d"
