"""WFST decoding of CTC log-posteriors on the CPU with kaldi-decoder: a 1-best, and a word n-best from lattices.

Costs. Every hypothesis carries its graph cost g (LM and pronunciation, -log, natural) and its acoustic cost a
(-sum of the frame log-posteriors along the path), both unscaled, so the LM weight λ can be swept on the written
n-best without decoding again: the search minimises λ·g + a (the posteriors are scaled by 1/λ, since kaldi-decoder
has no acoustic scale) and a hypothesis scores -(λ·g + a).

The n-best. The decoder's raw lattice is state-level: a word sequence appears on many alignments. The lattice is
turned into a word acceptor weighted λ·g + a, epsilons removed and determinized (one path per word sequence,
with its best alignment's cost), both pruned to the lattice beam, then its n shortest paths are read off.
Epsilon removal grows much faster than the lattice (measured on flat P2G posteriors over 500 pieces: 8k states
in 1 s, 44k states in 122 s), so a raw lattice above ``max_lattice_states`` is decoded again with the lattice beam
narrowed by 2 (down to 2): a weak model's n-best then reaches less far, a confident model's is untouched.
To split a sequence's cost back into g
and a, its best path is found again in the lattice with every arc's index as input label: the indices name the
arcs, whose (g, a) pairs add up.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import kaldi_decoder
import kaldifst
import torch

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WfstOptions:
    lm_weight: float = 1.0      # λ of λ·g + a
    beam: float = 16.0
    max_active: int = 7000
    lattice_beam: float = 8.0
    nbest: int = 64
    max_lattice_states: int = 10000  # a larger raw lattice is decoded again with a narrower lattice beam

    def __post_init__(self) -> None:
        if (self.lm_weight <= 0 or self.beam <= 0 or self.lattice_beam <= 0 or self.nbest < 1 or self.max_active < 1
                or self.max_lattice_states < 1):
            raise ValueError(f"WFST decoding needs a positive LM weight, beams, max-active and n-best, got {self}")


@dataclass(frozen=True)
class WfstHypothesis:
    words: Tuple[int, ...]  # word ids of the graph's words.txt
    graph_cost: float
    acoustic_cost: float

    def score(self, lm_weight: float) -> float:
        return -(lm_weight * self.graph_cost + self.acoustic_cost)


def _decodable(log_probs: torch.Tensor, lm_weight: float) -> kaldi_decoder.DecodableCtc:
    if log_probs.dim() != 2:
        raise ValueError(f"expected (frames, vocab) log-posteriors, got shape {tuple(log_probs.shape)}")
    return kaldi_decoder.DecodableCtc((log_probs.detach().float().cpu() / lm_weight).numpy())


def _split(weight: kaldifst.LatticeWeight, lm_weight: float) -> Tuple[float, float]:
    """(graph, acoustic) of a lattice weight of the scaled search, acoustic rescaled to log-posterior units."""
    return weight.value1, weight.value2 * lm_weight


@dataclass(frozen=True)
class WfstAlignment:
    """The best path frame by frame: what word times and the phonemes of a 1-best are read from."""

    hypothesis: WfstHypothesis
    frames: Tuple[int, ...]       # per frame, the token id the path emits there (ilabel - 1; 0 is the blank)
    word_frames: Tuple[int, ...]  # per word of ``hypothesis.words``, the frame of the arc carrying its label


def _walk(path: kaldifst.Lattice) -> Tuple[List[int], List[Tuple[int, int]]]:
    """(token per frame, (word, frame) per output label) of a linear lattice. An arc with an input label
    consumes one frame; a label on an input-epsilon arc is placed on the last frame consumed before it."""
    arcs: Dict[int, Tuple[int, int, int]] = {}
    for line in str(path).splitlines():
        fields = line.split()
        if len(fields) >= 4:
            arcs[int(fields[0])] = (int(fields[1]), int(fields[2]), int(fields[3]))
    frames: List[int] = []
    words: List[Tuple[int, int]] = []
    state, seen = path.start, set()
    while state in arcs and state not in seen:
        seen.add(state)
        state, ilabel, olabel = arcs[state]
        if ilabel:
            frames.append(ilabel - 1)
        if olabel:
            words.append((olabel, max(len(frames) - 1, 0)))
    return frames, words


def best_path(graph: kaldifst.StdVectorFst, log_probs: torch.Tensor,
              opts: WfstOptions) -> Optional[WfstAlignment]:
    """FasterDecoder's best path with its frame-level alignment; None when no path reached a final state
    within the beam."""
    decoder = kaldi_decoder.FasterDecoder(graph, kaldi_decoder.FasterDecoderOptions(beam=opts.beam,
                                                                                  max_active=opts.max_active))
    decoder.decode(_decodable(log_probs, opts.lm_weight))
    ok, path = decoder.get_best_path()
    if not ok:
        return None
    ok, _, words, weight = kaldifst.get_linear_symbol_sequence(path)
    if not ok or weight.value1 == float("inf"):
        return None
    frames, labels = _walk(path)
    return WfstAlignment(WfstHypothesis(tuple(words), *_split(weight, opts.lm_weight)), tuple(frames),
                         tuple(frame for _, frame in labels))


def one_best(graph: kaldifst.StdVectorFst, log_probs: torch.Tensor, opts: WfstOptions) -> Optional[WfstHypothesis]:
    """FasterDecoder's best path; None when no path reached a final state within the beam."""
    alignment = best_path(graph, log_probs, opts)
    return None if alignment is None else alignment.hypothesis


@dataclass
class _IndexedLattice:
    """A raw lattice as a tropical transducer: arc index (1-based) in, word out, weight g + a of the search."""

    fst: kaldifst.StdVectorFst
    arcs: List[Tuple[int, float, float]]    # per index - 1: (next state, graph, acoustic)
    finals: Dict[int, Tuple[float, float]]  # final state -> (graph, acoustic)
    start: int


def _pair(text: str) -> Tuple[float, float]:
    """A lattice weight "graph,acoustic" of the text form (absent: the weight One, 0,0)."""
    graph, acoustic = text.split(",") if text else ("0", "0")
    return float(graph), float(acoustic)


def _index_lattice(lattice: kaldifst.Lattice) -> _IndexedLattice:
    lines: List[str] = []
    arcs: List[Tuple[int, float, float]] = []
    finals: Dict[int, Tuple[float, float]] = {}
    for line in str(lattice).splitlines():
        fields = line.split()
        if len(fields) in (4, 5):
            graph, acoustic = _pair(fields[4] if len(fields) == 5 else "")
            arcs.append((int(fields[1]), graph, acoustic))
            lines.append(f"{fields[0]} {fields[1]} {len(arcs)} {fields[3]} {graph + acoustic}")
        elif len(fields) in (1, 2):
            finals[int(fields[0])] = _pair(fields[1] if len(fields) == 2 else "")
            lines.append(f"{fields[0]} {sum(finals[int(fields[0])])}")
        elif fields:
            raise ValueError(f"unexpected lattice line {line!r}")
    fst = kaldifst.compile("\n".join(lines) + "\n", keep_state_numbering=True)
    kaldifst.arcsort(fst, sort_type="olabel")
    return _IndexedLattice(fst, arcs, finals, lattice.start)


def _word_acceptor(indexed: _IndexedLattice, beam: float) -> kaldifst.StdVectorFst:
    """The lattice's word strings within ``beam`` of the best, with their best cost: words on both sides,
    epsilons removed, determinized. The pruning is what keeps determinization finite in practice: unpruned, a
    state-level lattice of a few thousand states (flat P2G posteriors over 500 pieces) exhausted 10 GB."""
    lines = []
    for line in str(indexed.fst).splitlines():
        fields = line.split()
        lines.append(" ".join([*fields[:2], fields[3], *fields[3:]]) if len(fields) >= 4 else line)
    words = kaldifst.compile("\n".join(lines) + "\n", keep_state_numbering=True)
    kaldifst.rmepsilon(words, weight=str(beam))
    return kaldifst.determinize(words, weight=str(beam))


def _split_costs(indexed: _IndexedLattice, words: Sequence[int]) -> Tuple[float, float]:
    """(graph, acoustic) of the best lattice path whose words are ``words``."""
    linear = kaldifst.make_linear_acceptor(list(words))
    best = kaldifst.shortest_path(kaldifst.compose(indexed.fst, linear))
    ok, arc_ids, _, _ = kaldifst.get_linear_symbol_sequence(best)
    if not ok:
        raise RuntimeError(f"the word sequence {list(words)} of the n-best is not in its own lattice")
    graph = sum(indexed.arcs[i - 1][1] for i in arc_ids)
    acoustic = sum(indexed.arcs[i - 1][2] for i in arc_ids)
    last = indexed.arcs[arc_ids[-1] - 1][0] if arc_ids else indexed.start
    final_graph, final_acoustic = indexed.finals[last]
    return graph + final_graph, acoustic + final_acoustic


def nbest(graph: kaldifst.StdVectorFst, log_probs: torch.Tensor, opts: WfstOptions) -> List[WfstHypothesis]:
    """Up to ``opts.nbest`` distinct word sequences of LatticeSimpleDecoder's lattice, best (highest score) first;
    empty when no path reached a final state."""
    lattice_beam = opts.lattice_beam
    while True:
        config = kaldi_decoder.LatticeSimpleDecoderConfig()
        config.beam, config.lattice_beam = opts.beam, lattice_beam
        decoder = kaldi_decoder.LatticeSimpleDecoder(graph, config)
        decoder.decode(_decodable(log_probs, opts.lm_weight))
        ok, lattice = decoder.get_raw_lattice()
        if not ok or lattice.num_states == 0:
            return []
        if lattice.num_states <= opts.max_lattice_states or lattice_beam <= 2:
            break
        logger.info("a lattice of %d states at lattice beam %g: decoding again at %g", lattice.num_states,
                    lattice_beam, max(lattice_beam - 2, 2))
        lattice_beam = max(lattice_beam - 2, 2)
    indexed = _index_lattice(lattice)
    words = _word_acceptor(indexed, lattice_beam)
    paths = kaldifst.convert_nbest_to_vector(kaldifst.shortest_path(words, n=opts.nbest))
    hyps = []
    for path in paths:
        words = tuple(kaldifst.get_linear_symbol_sequence(path)[2])
        graph_cost, acoustic_cost = _split_costs(indexed, words)
        hyps.append(WfstHypothesis(words, graph_cost, acoustic_cost * opts.lm_weight))
    hyps.sort(key=lambda h: -h.score(opts.lm_weight))
    return hyps
