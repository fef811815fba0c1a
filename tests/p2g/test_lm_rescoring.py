"""The learned-G2P lexicon and its phone-level graph, and MLS rescoring of a decode dir, with the tiny models of
the P2G fixtures (a JSA final.pt holding p2g and g2p)."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from p2g_data import SENTENCES, UTTS

from phonasr.bin import make_graph, mls_rescore
from phonasr.decode.g2p_lexicon import g2p_lexicon
from phonasr.decode.outputs import DecodedUtterance, Scored, read_hypotheses, write_decode_dir
from phonasr.decode.tokens import decode_token_sequences, load_token_model
from phonasr.wfst.graph import read_graph_info

WORDS = sorted({w for text, _ in SENTENCES for w in text.split()})


def _unigram_arpa(path: Path) -> Path:
    vocab = ["<unk>", "<s>", "</s>", *WORDS]
    prob = math.log10(1 / (len(vocab) - 1))
    path.write_text(f"\\data\\\nngram 1={len(vocab)}\n\n\\1-grams:\n"
                    + "".join(f"{-99 if w == '<s>' else prob:.4f}\t{w}\n" for w in vocab) + "\n\\end\\\n")
    return path


def test_g2p_lexicon_is_the_g2p_nbest_weighted(p2g_setup):
    lexicon = g2p_lexicon(str(p2g_setup["jsa"]), WORDS, device=torch.device("cpu"), nbest=3, beam=8)
    tm = load_token_model(str(p2g_setup["jsa"]), None, "g2p", torch.device("cpu"))
    beams = decode_token_sequences(tm, [tm.inputs.encode(w) for w in WORDS], 8, 3).hypotheses
    for word, hyps in zip(WORDS, beams):
        prons = [p for p in lexicon if p.word == word]
        expected = list(dict.fromkeys(tuple(tm.outputs.decode(h.tokens).split()) for h in hyps
                                      if h.tokens))
        assert [p.tokens for p in prons] == expected
        assert sum(math.exp(-p.cost) for p in prons) == pytest.approx(1.0)
        assert all(p.cost >= 0 for p in prons)


def test_phone_level_graph_from_the_g2p(p2g_setup, tmp_path):
    arpa = _unigram_arpa(tmp_path / "lm.arpa")
    make_graph.main(["--lexicon", "g2p", "--g2p", str(p2g_setup["jsa"]), "--g2p-nbest", "2", "--device", "cpu",
                     str(p2g_setup["dirs"]["phone"]), str(arpa), str(tmp_path / "graph")])
    info = read_graph_info(tmp_path / "graph")
    assert info.words == len(WORDS) and len(WORDS) <= info.pronunciations <= 2 * len(WORDS)
    assert info.states > 0 and info.arcs > 0
    with pytest.raises(SystemExit, match="error: --lexicon spelling needs a BPE or character lang dir"):
        make_graph.main([str(p2g_setup["dirs"]["phone"]), str(arpa), str(tmp_path / "g2")])


def _mls_inputs(p2g_setup, tmp_path, vocab=None):
    nbest_dir, s2p_dir = tmp_path / "tlg", tmp_path / "s2p"
    texts = [t for t, _ in SENTENCES]
    write_decode_dir(nbest_dir, [DecodedUtterance(u, texts[i], [Scored(texts[i], -1.0),
                                                               Scored(texts[(i + 1) % len(texts)], -2.0),
                                                               Scored("", -3.0)])
                                 for i, u in enumerate(UTTS)])
    vocab = vocab or load_token_model(str(p2g_setup["jsa"]), None, "p2g", torch.device("cpu")).inputs.vocab_size
    g = torch.Generator().manual_seed(0)
    write_decode_dir(s2p_dir, [DecodedUtterance(u, "", [Scored("", 0.0)]) for u in UTTS],
                     {u: torch.log_softmax(torch.randn(40, vocab, generator=g), -1) for u in UTTS})
    return nbest_dir, s2p_dir


def test_mls_rescoring_is_seeded_and_consistent(p2g_setup, tmp_path):
    nbest_dir, s2p_dir = _mls_inputs(p2g_setup, tmp_path)
    arpa = _unigram_arpa(tmp_path / "lm.arpa")
    args = ["--lm-weight", "0.7", "--num-samples", "4", "--device", "cpu", str(p2g_setup["jsa"]), str(nbest_dir),
            str(s2p_dir), str(arpa)]
    mls_rescore.main([*args, str(tmp_path / "a")])
    mls_rescore.main([*args, "--max-pairs", "8", str(tmp_path / "b")])  # other batches, other draws: still runs
    mls_rescore.main([*args, str(tmp_path / "c")])
    assert (tmp_path / "a/nbest.txt").read_text() == (tmp_path / "c/nbest.txt").read_text()
    hyps = read_hypotheses(tmp_path / "a", 3)
    scores = [line.split("\t") for line in (tmp_path / "a/mls_scores.txt").read_text().splitlines()]
    assert sorted(hyps) == UTTS and len(scores) == 3 * len(UTTS)
    for utt in UTTS:
        rows = [(float(m), float(lm)) for u, _, m, lm in scores if u == utt]
        assert [h.log_prob for h in hyps[utt]] == pytest.approx([m + 0.7 * lm for m, lm in rows], abs=1e-3)
        assert [h.log_prob for h in hyps[utt]] == sorted((h.log_prob for h in hyps[utt]), reverse=True)
        assert hyps[utt][-1].text == "" and hyps[utt][-1].log_prob == -math.inf  # nothing to sample for
        assert all(math.isfinite(h.log_prob) for h in hyps[utt][:-1])


def test_mls_refuses_other_phoneme_tables(p2g_setup, tmp_path):
    nbest_dir, s2p_dir = _mls_inputs(p2g_setup, tmp_path, vocab=3)
    with pytest.raises(ValueError, match="phoneme tables differ in size"):
        mls_rescore.main(["--device", "cpu", str(p2g_setup["jsa"]), str(nbest_dir), str(s2p_dir),
                          str(_unigram_arpa(tmp_path / "lm.arpa")), str(tmp_path / "out")])
