"""Time MLS scoring of a real LM n-best with and without scoring each distinct (utterance, h) row once; print the
ratio, the share of distinct rows, and that both give the same log-likelihoods.

MLS draws K phoneme sequences from the G2P for each of an utterance's n-best word sequences and scores every
(hypothesis, sample) row with the S2P, the G2P and the P2G (the costly part). A peaky G2P repeats its samples, and
hypotheses that differ only in spelling propose the same phonemes, so :class:`phonasr.jsa.likelihoods.CtcLikelihoods`
scores each distinct row once, runs the P2G once per distinct h in chunks of similar length, and copies the scores to
the repeats. This bench times that against scoring every row in one padded batch (what it did before), on the same
rows, side by side.

    python bench/bench_mls.py EXP/jsa/final.pt EXP/jsa_lm/decode_dev EXP/jsa/decode_dev --utts 40
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable, List

import torch

from phonasr.batching.padding import pad_ids
from phonasr.ctc import ctc_loss, ctc_sample
from phonasr.decode.mls import g2p_posteriors, pad_log_probs
from phonasr.decode.outputs import LOGPROBS, read_hypotheses
from phonasr.decode.tokens import load_token_model
from phonasr.jsa.likelihoods import CtcLikelihoods, inference
from phonasr.jsa.sampler import LogLikelihoods
from phonasr.utils.io import load_checkpoint


def every_row(score: CtcLikelihoods, utts: List[int], candidates: List[List[int]]) -> LogLikelihoods:
    """The three log-likelihoods of every row, the P2G run on all rows in one batch padded to the longest."""
    index = torch.tensor(utts, dtype=torch.long)
    s2p = -ctc_loss(score.s2p_log_probs[index], score.s2p_lens[index], candidates)
    g2p = -ctc_loss(score.g2p_log_probs[index], score.g2p_lens[index], candidates)
    with inference(score.p2g):
        log_probs, out_lens = score.p2g(*pad_ids(candidates))
    p2g = -ctc_loss(log_probs, out_lens, [score.graphemes[u] for u in utts])
    return LogLikelihoods(s2p=s2p, p2g=p2g, g2p=g2p)


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    times: List[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="JSA final.pt (its P2G and G2P), as steps/mls_rescore.sh takes")
    parser.add_argument("nbest_dir", help="a WFST decode dir with nbest.txt")
    parser.add_argument("s2p_dir", help="the S2P decode dir with logprobs.pt of the same set")
    parser.add_argument("--utts", type=int, default=40, help="first N utterances (sorted ids)")
    parser.add_argument("--nbest", type=int, default=64)
    parser.add_argument("--samples", type=int, default=10, help="G2P samples per hypothesis (the recipe's 10)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    device = torch.device("cpu")
    hyps = read_hypotheses(args.nbest_dir, args.nbest)
    s2p_all = load_checkpoint(Path(args.s2p_dir) / LOGPROBS)
    p2g = load_token_model(args.checkpoint, None, "p2g", device)
    g2p = load_token_model(args.checkpoint, None, "g2p", device)
    rows = [(utt, h) for utt in sorted(hyps)[: args.utts] for h in hyps[utt] if h.text]
    s2p = pad_log_probs([s2p_all[utt] for utt, _ in rows], device)
    g2p_out = g2p_posteriors(g2p, [h.text for _, h in rows], device)
    samples = ctc_sample(*g2p_out, args.samples, generator=torch.Generator().manual_seed(0))
    pair_rows = [r for r in range(len(rows)) for _ in range(args.samples)]
    candidates = [h for per_row in samples for h in per_row]
    score = CtcLikelihoods(s2p, g2p_out, p2g.model, [p2g.outputs.encode(h.text) for _, h in rows],
                           char_lens=[0] * len(rows))
    distinct_rows = len({(r, tuple(h)) for r, h in zip(pair_rows, candidates)})
    distinct_h = len({tuple(h) for h in candidates})
    with torch.no_grad():
        naive = best_of(args.repeats, lambda: every_row(score, pair_rows, candidates))
        distinct = best_of(args.repeats, lambda: score(pair_rows, candidates))
        a, b = every_row(score, pair_rows, candidates), score(pair_rows, candidates)
    diff = max(float((x - y).abs().nan_to_num(0.0).max()) for x, y in ((a.s2p, b.s2p), (a.p2g, b.p2g), (a.g2p, b.g2p)))
    print(f"{len(rows)} hypotheses of {min(args.utts, len(hyps))} utterances, {len(candidates)} rows: "
          f"{distinct_rows} distinct (utterance, h) rows ({100 * distinct_rows / len(candidates):.1f}%), "
          f"{distinct_h} distinct h for the P2G ({100 * distinct_h / len(candidates):.1f}%)")
    print(f"every row {naive:.2f} s, distinct rows once {distinct:.2f} s: ratio {distinct / naive:.3f} "
          f"(speed-up {naive / distinct:.2f}x); largest |difference| of a log-likelihood {diff:.2e}")


if __name__ == "__main__":
    main()
