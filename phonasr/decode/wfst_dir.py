"""WFST decoding of a decode dir's saved log-posteriors into a decode dir of words (steps/decode_wfst.sh).

Reads ``logprobs.pt`` and ``ref.txt`` of a decoding made with ``--save-logprobs true`` (the subword S2P's, the
P2G's, or the phoneme S2P's) and writes hyp.txt, ref.txt and nbest.txt (:mod:`phonasr.decode.outputs`; the score
is -(λ·graph + acoustic)) plus ``costs.txt``, ``utt<TAB>rank<TAB>graph_cost<TAB>acoustic_cost``, from which any
other LM weight re-ranks the n-best without decoding again.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Dict, List, Sequence

from phonasr.decode.outputs import LOGPROBS, DecodedUtterance, Scored, merge_shards, read_references, write_decode_dir
from phonasr.decode.wfst import WfstHypothesis, WfstOptions, nbest, one_best
from phonasr.scoring.texts import read_utt_texts
from phonasr.utils.io import atomic_write_text, load_checkpoint
from phonasr.wfst.fsts import WordTable
from phonasr.wfst.graph import WORDS_FILE, load_graph, read_graph_info

logger = logging.getLogger(__name__)

COSTS = "costs.txt"


def _cost_lines(utt: str, hyps: Sequence[WfstHypothesis]) -> List[str]:
    return [f"{utt}\t{rank}\t{h.graph_cost:.4f}\t{h.acoustic_cost:.4f}" for rank, h in enumerate(hyps, start=1)]


def _write_costs(path: Path, lines: List[str]) -> None:
    lines.sort(key=lambda line: (line.split("\t")[0], int(line.split("\t")[1])))
    atomic_write_text(path, "".join(f"{line}\n" for line in lines))


DECODERS = ("kaldi", "k2")


def _k2_one_best(graph_dir: str | Path, posteriors: Dict, utts: Sequence[str], opts: WfstOptions) -> Dict:
    """k2's 1-best of ``utts`` (:mod:`phonasr.decode.k2_wfst`), imported only here: k2 is optional."""
    try:
        from phonasr.decode.k2_wfst import one_best_all
    except ImportError as e:
        raise RuntimeError(f"--decoder k2: k2 does not import in this Python ({e}); install the k2 matching its "
                           "torch (README, 'k2 on a GPU') or use --decoder kaldi") from None
    return one_best_all(graph_dir, {u: posteriors[u] for u in utts}, opts)


def decode_dir(in_dir: str | Path, graph_dir: str | Path, out_dir: str | Path, opts: WfstOptions,
               lattice: bool = True, shard: tuple[int, int] = (1, 1), decoder: str = "kaldi",
               ref_file: str | Path | None = None) -> None:
    """Decode shard ``shard`` (J, N: utterances J, J+N, ... of the sorted ids) of ``in_dir``'s logprobs.pt with the
    graph of ``graph_dir``: ``opts.nbest`` hypotheses from lattices, or the 1-best when not ``lattice``, by
    ``decoder``: kaldi (FasterDecoder, CPU) or k2 (intersect_dense_pruned, on the GPU where k2 can use one;
    1-best only). The references are ``in_dir``'s ref.txt, or ``ref_file`` (utt<TAB>words) where that holds
    phonemes: a phoneme model decoded into words is scored against the words."""
    if decoder not in DECODERS:
        raise ValueError(f"unknown decoder '{decoder}'; choose from {', '.join(DECODERS)}")
    if decoder == "k2" and lattice:
        raise ValueError("the k2 decoder gives the 1-best only: decode with --lattice false, or --decoder kaldi "
                         "for n-best lists")
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    posteriors = load_checkpoint(in_dir / LOGPROBS)
    refs = read_utt_texts(ref_file) if ref_file else read_references(in_dir)
    info, graph = read_graph_info(graph_dir), load_graph(graph_dir)
    table = WordTable.read(Path(graph_dir) / WORDS_FILE)
    job, num_jobs = shard
    utts = sorted(posteriors)[job - 1::num_jobs]
    for utt in utts:
        if posteriors[utt].dim() != 2 or posteriors[utt].size(1) != info.vocab_size:
            raise ValueError(f"{in_dir / LOGPROBS}: '{utt}' has log-posteriors of shape {tuple(posteriors[utt].shape)}"
                             f", but the graph {graph_dir} is over {info.vocab_size} tokens of {info.token_lang_dir}; "
                             "decode with the graph built for that model's lang dir")
        if utt not in refs:
            raise ValueError(f"{ref_file or in_dir / 'ref.txt'} has no reference for '{utt}' of {in_dir / LOGPROBS}")
    decoded: List[DecodedUtterance] = []
    costs: List[str] = []
    failed, frames, start = 0, 0, time.time()
    k2_best = _k2_one_best(graph_dir, posteriors, utts, opts) if decoder == "k2" else {}
    for utt in utts:
        hyps: List[WfstHypothesis]
        if lattice:
            hyps = nbest(graph, posteriors[utt], opts)
        else:
            best = k2_best[utt] if decoder == "k2" else one_best(graph, posteriors[utt], opts)
            hyps = [best] if best is not None else []
        frames += posteriors[utt].size(0)
        if not hyps:
            failed += 1
            hyps = [WfstHypothesis((), float("inf"), float("inf"))]
        decoded.append(DecodedUtterance(utt, refs[utt], [
            Scored(" ".join(table.symbols[w] for w in h.words), h.score(opts.lm_weight)) for h in hyps]))
        costs.extend(_cost_lines(utt, hyps))
    seconds = time.time() - start
    write_decode_dir(out_dir, decoded)
    _write_costs(out_dir / COSTS, costs)
    if failed:
        logger.warning("%d of %d utterances reached no final state of the graph (empty hypothesis); widen --beam",
                       failed, len(utts))
    logger.info("WFST-decoded %d utterances (%d frames) of %s in %.1f s: %.0f frames/s, %s, LM weight %.2f",
                len(utts), frames, in_dir, seconds, frames / max(seconds, 1e-9),
                f"{opts.nbest}-best from lattices" if lattice else f"1-best ({decoder})", opts.lm_weight)


def merge_decoding(in_dir: str | Path, out_dir: str | Path, shard_dirs: Sequence[str | Path]) -> None:
    """Join the shards of a split WFST decoding (every utterance of ``in_dir``'s logprobs.pt once)."""
    expected = sorted(load_checkpoint(Path(in_dir) / LOGPROBS))
    merge_shards(shard_dirs, out_dir, expected, str(Path(in_dir) / LOGPROBS))
    lines: List[str] = []
    for shard in shard_dirs:
        path = Path(shard) / COSTS
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: decoding job of {shard} did not finish; see its log")
        lines.extend(path.read_text(encoding="utf-8").splitlines())
    _write_costs(Path(out_dir) / COSTS, lines)
