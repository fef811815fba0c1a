"""k2's 1-best (intersect_dense_pruned over the converted kaldifst HLG) against kaldi-decoder's FasterDecoder on the
same graph and posteriors, with beams wide enough that both are exact: the same words, the same total cost and the
same (graph, acoustic) split. Run with the k2 venv: PYTHONPATH=. .venv-k2/bin/python -m pytest tests/k2
"""
from __future__ import annotations

import importlib
import os
import random
from pathlib import Path
from typing import List

import pytest
import torch

if os.environ.get("PHONASR_REQUIRE_K2") == "1":  # see test_k2_ctc.py; requirements/k2.txt carries kaldi-decoder
    importlib.import_module("k2")
    importlib.import_module("kaldi_decoder")
else:
    pytest.importorskip("k2")
    pytest.importorskip("kaldi_decoder")

import k2  # noqa: E402

from phonasr.decode import k2_wfst, wfst  # noqa: E402
from phonasr.wfst.fsts import WordTable  # noqa: E402
from phonasr.wfst.graph import load_graph, make_graph_dir  # noqa: E402
from phonasr.wfst.lexicon import Pronunciation  # noqa: E402
from tests.wfst import toy  # noqa: E402

pytestmark = pytest.mark.k2

WIDE = dict(beam=60.0, lattice_beam=60.0, max_active=100000)


def _random_lexicon(num_words: int = 40, seed: int = 0) -> List[Pronunciation]:
    """Random spellings over the toy's units: homophones and prefixes come by chance."""
    rng = random.Random(seed)
    return [Pronunciation(f"w{n}", tuple(rng.choice(toy.UNITS) for _ in range(rng.randint(1, 4))))
            for n in range(num_words)]


def _random_graph(tmp: Path, lexicon: List[Pronunciation], seed: int = 0) -> Path:
    """A bigger toy: ``lexicon`` and a backoff bigram ARPA over its words with random weights."""
    rng = random.Random(seed)
    num_words = len(lexicon)
    words = [p.word for p in lexicon]
    bigrams = sorted({(rng.choice(["<s>", *words]), rng.choice([*words, "</s>"])) for _ in range(3 * num_words)})
    unigrams = [f"{-rng.uniform(0.8, 2.0):.3f}\t{w}\t{-rng.uniform(0.1, 0.6):.3f}" for w in words]
    lines = ["\\data\\", f"ngram 1={num_words + 3}", f"ngram 2={len(bigrams)}", "", "\\1-grams:",
             "-1.5\t<unk>\t0", "-99\t<s>\t-0.3", "-1.2\t</s>\t0", *unigrams, "", "\\2-grams:",
             *(f"{-rng.uniform(0.1, 0.9):.3f}\t{a} {b}" for a, b in bigrams), "", "\\end\\", ""]
    arpa = tmp / "random.arpa"
    arpa.write_text("\n".join(lines), encoding="utf-8")
    make_graph_dir(tmp / "random_graph", lexicon, toy.tokenizer(), "toy", arpa, WordTable(words))
    return tmp / "random_graph"


def _peaked(seed: int, lexicon, noise: float = 1.5) -> torch.Tensor:
    """Random-but-peaked log-posteriors around a frame path spelling a few random words (CTC blanks between
    tokens, random repeats): greedy CTC mostly reads a word string, the noise and the LM decide the rest."""
    g = torch.Generator().manual_seed(seed)
    tok = toy.tokenizer()
    path = [0]
    for i in torch.randint(len(lexicon), (int(torch.randint(2, 6, (1,), generator=g)),), generator=g).tolist():
        for t in lexicon[i].tokens:
            path += [tok.table.id(t)] * int(torch.randint(1, 4, (1,), generator=g)) + [0]
    logits = noise * torch.randn(len(path), tok.vocab_size, generator=g)
    logits[torch.arange(len(path)), torch.tensor(path)] += 3.0
    return torch.log_softmax(logits, dim=-1)


def _compare(graph_dir: Path, log_probs: List[torch.Tensor], lm_weight: float) -> None:
    opts = wfst.WfstOptions(lm_weight=lm_weight, **WIDE)
    graph = load_graph(graph_dir)
    kaldi = [wfst.one_best(graph, x, opts) for x in log_probs]
    k2_hyps = k2_wfst.one_best_batch(k2_wfst.load_k2_graph(graph_dir), log_probs, opts)  # one batch, mixed lengths
    for n, (a, b) in enumerate(zip(kaldi, k2_hyps)):
        assert a is not None and b is not None, n
        assert b.words == a.words, (n, a, b)
        assert b.score(lm_weight) == pytest.approx(a.score(lm_weight), abs=1e-2), (n, a, b)
        assert b.graph_cost == pytest.approx(a.graph_cost, abs=1e-2), (n, a, b)
        assert b.acoustic_cost == pytest.approx(a.acoustic_cost, abs=1e-2), (n, a, b)


@pytest.mark.parametrize("lm_weight", [1.0, 0.6, 1.7])
def test_k2_equals_kaldi_decoder_on_the_toy_graph(tmp_path, lm_weight):
    graph_dir = toy.write_graph(tmp_path)
    _compare(graph_dir, [_peaked(seed, toy.LEXICON) for seed in range(12)], lm_weight)


@pytest.mark.parametrize("lm_weight", [1.0, 0.5])
def test_k2_equals_kaldi_decoder_on_a_random_40_word_graph(tmp_path, lm_weight):
    lexicon = _random_lexicon()
    graph_dir = _random_graph(tmp_path, lexicon)
    _compare(graph_dir, [_peaked(100 + seed, lexicon, noise=2.0) for seed in range(12)], lm_weight)


def test_doctor_says_whether_k2_can_use_the_gpu():
    from phonasr.bin import doctor

    doctor.k2_trial_decoding("cpu")  # the GPU trial's code, run where it can run
    usable, why = doctor.k2_gpu_status()
    assert "CUDA 10.2" in doctor.k2_build_text()
    if not torch.cuda.is_available():
        assert not usable and "sees no GPU" in why


def test_one_best_all_of_a_graph_dir_in_length_sorted_batches(tmp_path):
    # What steps/decode_wfst.sh --decoder k2 calls (phonasr.decode.wfst_dir; that module's scoring imports need
    # kaldialign, which has no wheel of the pinned version for Python 3.9).
    graph_dir = toy.write_graph(tmp_path)
    utts = {f"u{seed}": _peaked(seed, toy.LEXICON) for seed in range(7)}
    opts = wfst.WfstOptions(lm_weight=0.8, **WIDE)
    k2_hyps = k2_wfst.one_best_all(graph_dir, utts, opts, batch_size=3)
    assert sorted(k2_hyps) == sorted(utts)
    graph = load_graph(graph_dir)
    for utt, log_probs in utts.items():
        kaldi = wfst.one_best(graph, log_probs, opts)
        assert k2_hyps[utt].words == kaldi.words
        assert k2_hyps[utt].score(0.8) == pytest.approx(kaldi.score(0.8), abs=1e-2)


def test_conversion_renumbers_a_graph_whose_start_is_not_state_0():
    import kaldifst

    # token 2 (label 3) then token 1 (label 2), word 7 on the first arc; start state 2, final cost 1.0
    fst = kaldifst.compile("2 0 3 7 0.5\n0 1 0 0 0.125\n1 3 2 0 0.25\n3 1.0\n", keep_state_numbering=True)
    assert fst.start == 2
    fsa = k2_wfst.hlg_to_k2(fst)
    best = k2.shortest_path(fsa, use_double_scores=True)
    assert [x for x in best.labels.tolist() if x >= 0] == [2, 1]  # posterior columns; the epsilon is gone
    assert best.aux_labels.values.tolist()[0] == 7
    assert float(best.get_tot_scores(True, False)[0]) == pytest.approx(-1.875)


def test_doctor_names_a_gpu_newer_than_k2s_architectures(monkeypatch):
    from phonasr.bin import doctor

    monkeypatch.setattr(k2, "with_cuda", True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (9, 0))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H200")
    usable, why = doctor.k2_gpu_status()
    assert not usable and why == "the NVIDIA H200 is sm_90, newer than any architecture k2 was compiled for"


def test_the_converted_graph_is_cached_until_hlg_changes(tmp_path):
    graph_dir = toy.write_graph(tmp_path)
    log_probs = [_peaked(seed, toy.LEXICON) for seed in range(4)]
    opts = wfst.WfstOptions(**WIDE)
    fresh = k2_wfst.one_best_batch(k2_wfst.load_k2_graph(graph_dir), log_probs, opts)
    cache = graph_dir / k2_wfst.CACHE_FILE
    assert cache.is_file()
    assert k2_wfst._load_cache(graph_dir) is not None
    assert k2_wfst.one_best_batch(k2_wfst.load_k2_graph(graph_dir), log_probs, opts) == fresh
    os.utime(graph_dir / "HLG.fst", ns=(1, 1))  # a rebuilt graph: the cache no longer applies
    assert k2_wfst._load_cache(graph_dir) is None
    assert k2_wfst.one_best_batch(k2_wfst.load_k2_graph(graph_dir), log_probs, opts) == fresh
    assert k2_wfst._load_cache(graph_dir) is not None  # written again
