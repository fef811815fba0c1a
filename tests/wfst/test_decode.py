"""kaldi-decoder on the toy graph: costs are G's and CTC Viterbi's, 1-best = lattice best = n-best[0], and the
n-best is the brute-force ranking of every word sequence."""
from __future__ import annotations

import itertools
from typing import List, Sequence

import pytest
import torch

from phonasr.ctc import forced_align, greedy_search, min_ctc_frames
from phonasr.decode.wfst import WfstOptions, best_path, nbest, one_best
from phonasr.lm.arpa import read_arpa
from phonasr.wfst.fsts import WordTable
from phonasr.wfst.graph import load_graph
from tests.wfst import toy

WIDE = dict(beam=50.0, lattice_beam=50.0, max_active=100000)


def _posteriors(seed: int, frames: int, sharpness: float = 2.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.log_softmax(sharpness * torch.randn(frames, len(toy.UNITS) + 1, generator=g), dim=-1)


def _noisy_spelling(seed: int) -> torch.Tensor:
    """Noisy log-posteriors around a frame path that spells random words: greedy CTC mostly reads a word string."""
    g = torch.Generator().manual_seed(seed)
    tok = toy.tokenizer()
    words = [toy.LEXICON[int(i)].word for i in torch.randint(len(toy.LEXICON), (3,), generator=g)]
    path = [0]
    for t in toy.spell(words):
        path += [tok.table.id(t)] * int(torch.randint(1, 3, (1,), generator=g)) + [0]
    logits = 1.5 * torch.randn(len(path), tok.vocab_size, generator=g)
    logits[torch.arange(len(path)), torch.tensor(path)] += 3.0
    return torch.log_softmax(logits, dim=-1)


def _viterbi_costs(log_probs: torch.Tensor, spellings: Sequence[Sequence[str]]) -> List[float]:
    """-log of the best CTC alignment of each token string (all-blank for the empty one), in one batched call."""
    tok = toy.tokenizer()
    n = len(spellings)
    paths = forced_align(log_probs[None].expand(n, -1, -1), torch.full((n,), log_probs.size(0)),
                         [[tok.table.id(t) for t in s] for s in spellings])
    frames = torch.arange(log_probs.size(0))
    return [-float(log_probs[frames, torch.tensor(path)].sum()) for path in paths]


def _viterbi_cost(log_probs: torch.Tensor, tokens: Sequence[str]) -> float:
    return _viterbi_costs(log_probs, [tokens])[0]


def _words(graph_dir, hyp) -> List[str]:
    return [WordTable.read(graph_dir / "words.txt").symbols[w] for w in hyp.words]


@pytest.mark.parametrize("seed,lm_weight", [(0, 1.0), (1, 1.0), (2, 0.6), (3, 1.7), (4, 1.0), (5, 0.6)])
def test_costs_are_g_path_and_ctc_viterbi(tmp_path, seed, lm_weight):
    graph_dir = toy.write_graph(tmp_path)
    log_probs = _posteriors(seed, 14)
    hyp = one_best(load_graph(graph_dir), log_probs, WfstOptions(lm_weight=lm_weight, **WIDE))
    words = _words(graph_dir, hyp)
    assert hyp.graph_cost == pytest.approx(toy.g_cost(tmp_path, words), abs=1e-2)
    assert hyp.acoustic_cost == pytest.approx(_viterbi_cost(log_probs, toy.spell(words)), abs=1e-2)


def test_flat_lm_returns_greedy_ctc_where_in_vocabulary(tmp_path):
    graph_dir = toy.write_graph(tmp_path, toy.FLAT_ARPA)
    graph, tok = load_graph(graph_dir), toy.tokenizer()
    spellings = {p.tokens for p in toy.LEXICON}
    checked = 0
    for seed in range(30):
        log_probs = _noisy_spelling(seed)
        greedy = [tok.symbols[i] for i in greedy_search(log_probs[None], torch.tensor([len(log_probs)]))[0]]
        segmentable = any(all(tuple(greedy[a:b]) in spellings for a, b in zip((0, *cuts), (*cuts, len(greedy))))
                          for n in range(len(greedy)) for cuts in itertools.combinations(range(1, len(greedy)), n))
        if not greedy or not segmentable:
            continue
        hyp = one_best(graph, log_probs, WfstOptions(**WIDE))
        assert hyp.graph_cost == pytest.approx(0.0, abs=1e-4)
        assert toy.spell(_words(graph_dir, hyp)) == greedy, seed
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("seed", range(6))
def test_one_best_is_lattice_best_and_nbest_head(tmp_path, seed):
    graph_dir = toy.write_graph(tmp_path)
    graph, opts = load_graph(graph_dir), WfstOptions(lm_weight=0.8, nbest=10)
    log_probs = _posteriors(seed, 20)
    best, listed = one_best(graph, log_probs, opts), nbest(graph, log_probs, opts)
    assert listed[0].words == best.words
    assert listed[0].score(0.8) == pytest.approx(best.score(0.8), abs=1e-3)
    assert len({h.words for h in listed}) == len(listed) == 10
    scores = [h.score(0.8) for h in listed]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("seed,lm_weight", [(10, 1.0), (11, 0.5), (12, 2.0)])
def test_nbest_equals_brute_force(tmp_path, seed, lm_weight):
    graph_dir = toy.write_graph(tmp_path)
    lm, frames = read_arpa(tmp_path / "lm.arpa"), 5
    log_probs = _posteriors(seed, frames)
    tok = toy.tokenizer()
    words = [p.word for p in toy.LEXICON]
    sequences = [seq for n in range(frames + 1) for seq in itertools.product(words, repeat=n)
                 if min_ctc_frames([tok.table.id(t) for t in toy.spell(seq)]) <= frames]
    acoustic = _viterbi_costs(log_probs, [toy.spell(seq) for seq in sequences])
    scored = [(lm_weight * lm.sentence_log_prob(seq) - a, seq) for seq, a in zip(sequences, acoustic)]
    scored.sort(reverse=True)
    listed = nbest(load_graph(graph_dir), log_probs, WfstOptions(lm_weight=lm_weight, nbest=8, **WIDE))
    assert [tuple(_words(graph_dir, h)) for h in listed] == [seq for _, seq in scored[:8]]
    assert [h.score(lm_weight) for h in listed] == pytest.approx([s for s, _ in scored[:8]], abs=1e-2)


def test_a_large_lattice_is_decoded_again_with_a_narrower_beam(tmp_path, caplog):
    graph = load_graph(toy.write_graph(tmp_path))
    flat = torch.log_softmax(0.1 * torch.randn(30, 5, generator=torch.Generator().manual_seed(3)), -1)
    wide = nbest(graph, flat, WfstOptions(nbest=64))
    with caplog.at_level("INFO", logger="phonasr.decode.wfst"):
        narrow = nbest(graph, flat, WfstOptions(nbest=64, max_lattice_states=5))
    assert "decoding again at 6" in caplog.text and "decoding again at 2" in caplog.text
    assert narrow[0] == wide[0]                # the best path survives any lattice beam
    assert 1 <= len(narrow) < len(wide)


@pytest.mark.parametrize("seed", range(3))
def test_best_path_alignment_is_the_1best_frame_by_frame(tmp_path, seed):
    """One token per frame whose CTC collapse spells the words; each word label on a frame in order; the
    acoustic cost is that frame path's."""
    graph_dir = toy.write_graph(tmp_path)
    log_probs = _noisy_spelling(seed)
    opts = WfstOptions(lm_weight=0.7)
    alignment = best_path(load_graph(graph_dir), log_probs, opts)
    assert alignment is not None and alignment.hypothesis == one_best(load_graph(graph_dir), log_probs, opts)
    assert len(alignment.frames) == log_probs.size(0)
    collapsed = [t for i, t in enumerate(alignment.frames) if t and (i == 0 or alignment.frames[i - 1] != t)]
    tok = toy.tokenizer()
    assert [tok.symbols[t] for t in collapsed] == toy.spell(_words(graph_dir, alignment.hypothesis))
    assert len(alignment.word_frames) == len(alignment.hypothesis.words)
    assert list(alignment.word_frames) == sorted(alignment.word_frames)
    acoustic = -float(log_probs[torch.arange(log_probs.size(0)), torch.tensor(alignment.frames)].sum())
    assert alignment.hypothesis.acoustic_cost == pytest.approx(acoustic, abs=1e-3)
