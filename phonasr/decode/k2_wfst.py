"""WFST 1-best decoding with k2 (``intersect_dense_pruned``), on the posteriors' device: the GPU path of decoding.

The graph is the same kaldifst HLG that kaldi-decoder searches (:mod:`phonasr.wfst.graph`), converted once:

* its OpenFst text is read by ``k2.Fsa.from_openfst``, which negates the costs into k2's scores and turns final
  weights into arcs with label -1 to one super-final state (k2's final-state convention); words stay the arcs'
  ``aux_labels``;
* k2 has no input epsilons: a dense intersection consumes one frame per arc, and label 0 is the CTC blank's
  column. The HLG's epsilon inputs (left where the disambiguation symbols were) are removed with
  ``k2.remove_epsilon``, which keeps every path's best score (tropical semiring) and makes the word labels
  ragged (an arc may now emit several words);
* then input labels move down by one (the kaldi graphs keep 0 for epsilon, so token t is label t + 1; in k2 token
  t, blank included, is column t of the posteriors).

Epsilon removal grows the graph (the 100k-word TLG of bench/bench_wfst.py: 19.2M arcs in OpenFst, 28.4M in k2),
and the conversion of such a graph takes minutes and GiBs, so :func:`load_k2_graph` caches it in the graph dir.

Costs are as in :mod:`phonasr.decode.wfst`: the search minimises λ·g + a through the posteriors scaled by 1/λ, the
graph's own scores are kept in an attribute through the intersection, and the 1-best's (g, a) are read back from
it, so a k2 hypothesis compares with a kaldi-decoder one term by term.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import k2
import kaldifst
import numpy as np
import torch

from phonasr.decode.wfst import WfstHypothesis, WfstOptions
from phonasr.utils.io import atomic_path
from phonasr.wfst.graph import GRAPH_FILE, load_graph

logger = logging.getLogger(__name__)

GRAPH_SCORES = "graph_scores"  # the attribute carrying each arc's graph score through the intersection
MIN_ACTIVE = 30                # icefall's min_active_states
BATCH_SIZE = 32                # utterances per intersection in one_best_all
CACHE_FILE = "HLG.k2.npz"      # the converted graph, next to HLG.fst


def hlg_to_k2(graph: kaldifst.StdVectorFst) -> k2.Fsa:
    """The kaldifst HLG as an epsilon-free, arc-sorted k2 FsaVec of one graph (CPU), labels = posterior columns."""
    if graph.num_states == 0:
        raise ValueError("the HLG is empty; rebuild it with steps/make_graph.sh")
    text = str(graph)
    if graph.start != 0:  # k2 takes state 0 for the start; compiling the text renumbers from the start state
        text = str(kaldifst.compile(text))
    fsa = k2.Fsa.from_openfst(text, num_aux_labels=1)
    fsa = k2.connect(k2.remove_epsilon(fsa))
    labels = fsa.labels.clone()
    if bool((labels == 0).any()):
        raise RuntimeError("epsilon arcs survived k2.remove_epsilon; the HLG has an epsilon loop")
    fsa.labels = torch.where(labels > 0, labels - 1, labels)
    fsa = k2.arc_sort(fsa)
    setattr(fsa, GRAPH_SCORES, fsa.scores.detach().clone())
    return k2.create_fsa_vec([fsa])


def _source_key(graph_dir: Path) -> np.ndarray:
    stat = (graph_dir / GRAPH_FILE).stat()
    return np.array([stat.st_size, stat.st_mtime_ns], dtype=np.int64)


def _save_cache(fsa: k2.Fsa, graph_dir: Path) -> None:
    """The converted graph as plain arrays (npz: loads without pickle on any torch), keyed on HLG.fst's size and
    modification time. A graph dir that cannot be written to only loses the cache."""
    single = fsa[0]
    try:
        with atomic_path(graph_dir / CACHE_FILE) as tmp, open(tmp, "wb") as f:
            np.savez(f, source=_source_key(graph_dir), arcs=single.as_dict()["arcs"].numpy(),
                     word_splits=single.aux_labels.shape.row_splits(1).numpy(),
                     words=single.aux_labels.values.numpy(), graph_scores=getattr(single, GRAPH_SCORES).numpy())
    except OSError as e:
        logger.warning("could not cache the k2 graph in %s (%s); it is converted again next time", graph_dir, e)


def _load_cache(graph_dir: Path) -> Optional[k2.Fsa]:
    path = graph_dir / CACHE_FILE
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as z:
        if not np.array_equal(z["source"], _source_key(graph_dir)):
            return None
        fsa = k2.Fsa(torch.from_numpy(z["arcs"]))
        words = torch.from_numpy(z["words"])
        shape = k2.ragged.create_ragged_shape2(torch.from_numpy(z["word_splits"]), None, words.numel())
        fsa.aux_labels = k2.RaggedTensor(shape, words)
        setattr(fsa, GRAPH_SCORES, torch.from_numpy(z["graph_scores"]))
    return k2.create_fsa_vec([fsa])


def load_k2_graph(graph_dir: str | Path, device: str | torch.device = "cpu", cache: bool = True) -> k2.Fsa:
    """The graph dir's HLG.fst, converted for k2 and moved to ``device``. The conversion costs minutes on a large
    graph (a 100k-word TLG: 84 s and 7 GiB), so with ``cache`` its result is kept in the graph dir
    (HLG.k2.npz) and reused while HLG.fst is unchanged."""
    graph_dir = Path(graph_dir)
    start = time.time()
    fsa = _load_cache(graph_dir) if cache else None
    how = "loaded from " + CACHE_FILE
    if fsa is None:
        fsa = hlg_to_k2(load_graph(graph_dir))
        how = "converted"
        if cache:
            _save_cache(fsa, graph_dir)
    fsa = fsa.to(device)
    logger.info("HLG of %s %s for k2 in %.1f s: %d arcs on %s", graph_dir, how, time.time() - start,
                fsa.num_arcs, device)
    return fsa


def _dense(log_probs: Sequence[torch.Tensor], lm_weight: float) -> tuple[k2.DenseFsaVec, List[int]]:
    """The batch as a DenseFsaVec (k2 wants the segments longest first) and the utterance order it holds."""
    order = sorted(range(len(log_probs)), key=lambda i: -log_probs[i].size(0))
    frames = max(x.size(0) for x in log_probs)
    batch = log_probs[0].new_zeros(len(log_probs), frames, log_probs[0].size(1), dtype=torch.float32)
    for i, x in enumerate(log_probs):
        batch[i, :x.size(0)] = x.detach().float() / lm_weight
    segments = torch.tensor([[i, 0, log_probs[i].size(0)] for i in order], dtype=torch.int32)
    return k2.DenseFsaVec(batch, segments), order


def one_best_batch(graph: k2.Fsa, log_probs: Sequence[torch.Tensor], opts: WfstOptions
                   ) -> List[Optional[WfstHypothesis]]:
    """The best path of each (frames, vocab) log-posterior matrix through ``graph`` (of :func:`hlg_to_k2`), searched
    in one batch on the posteriors' device: search beam ``opts.beam``, output beam ``opts.lattice_beam``, at most
    ``opts.max_active`` states per frame. None where no path reached the final state within the beams."""
    if not log_probs:
        return []
    for x in log_probs:
        if x.dim() != 2 or x.size(1) != log_probs[0].size(1) or x.size(0) == 0:
            raise ValueError(f"expected non-empty (frames, vocab) log-posteriors of one vocabulary, got "
                             f"{tuple(x.shape)}")
    device = log_probs[0].device
    if graph.device != device:
        graph = graph.to(device)
    dense, order = _dense(log_probs, opts.lm_weight)
    lattice = k2.intersect_dense_pruned(graph, dense, search_beam=opts.beam, output_beam=opts.lattice_beam,
                                        min_active_states=MIN_ACTIVE, max_active_states=opts.max_active)
    best = k2.shortest_path(lattice, use_double_scores=True)
    totals = best.get_tot_scores(use_double_scores=True, log_semiring=False).cpu()
    hyps: List[Optional[WfstHypothesis]] = [None] * len(log_probs)
    for k, utt in enumerate(order):
        total = float(totals[k])
        if total == float("-inf"):
            continue
        path = best[k]
        words = tuple(w for w in path.aux_labels.values.tolist() if w > 0)
        graph_cost = -float(getattr(path, GRAPH_SCORES).double().sum())
        acoustic_cost = (-total - graph_cost) * opts.lm_weight
        hyps[utt] = WfstHypothesis(words, graph_cost, acoustic_cost)
    return hyps


def default_device() -> torch.device:
    """The GPU where torch sees one and this k2 was built with CUDA, else the CPU (``phonasr.bin.doctor`` says
    whether that k2 build actually runs on the GPU found)."""
    return torch.device("cuda" if torch.cuda.is_available() and k2.with_cuda else "cpu")


def one_best_all(graph_dir: str | Path, log_probs: Dict[str, torch.Tensor], opts: WfstOptions,
                 batch_size: int = BATCH_SIZE) -> Dict[str, Optional[WfstHypothesis]]:
    """:func:`one_best_batch` of every utterance of ``log_probs`` through the graph of ``graph_dir``, on
    :func:`default_device`, in batches of ``batch_size`` utterances of similar length."""
    device = default_device()
    graph = load_k2_graph(graph_dir, device)
    utts = sorted(log_probs, key=lambda u: -log_probs[u].size(0))
    hyps: Dict[str, Optional[WfstHypothesis]] = {}
    for i in range(0, len(utts), batch_size):
        batch = utts[i:i + batch_size]
        hyps.update(zip(batch, one_best_batch(graph, [log_probs[u].to(device) for u in batch], opts)))
    return hyps


def one_best(graph: k2.Fsa, log_probs: torch.Tensor, opts: WfstOptions) -> Optional[WfstHypothesis]:
    """:func:`one_best_batch` of one utterance."""
    return one_best_batch(graph, [log_probs], opts)[0]
