"""Marginal-likelihood scoring (MLS) of an LM decoding's n-best: the paper's best decoder.

A word sequence y of the n-best scores

    log p(y | x) + λ · log P_LM(y),    log p(y | x) ≈ log (1/K) Σ_k p(h_k | x) p(y | h_k) / q(h_k | y),  h_k ~ q(h | y)

an importance-sampling estimate of the marginal Σ_h p(h|x) p(y|h) over phoneme sequences h, with the G2P as the
proposal q (K exact CTC samples, :func:`phonasr.ctc.ctc_sample`). The three log-likelihoods come from
:class:`phonasr.jsa.likelihoods.CtcLikelihoods`, the JSA sampler's own scoring, in one call per batch over all
(hypothesis, sample) pairs, on whatever device the models are on. LM scores are exact ARPA log-probabilities in
natural log (:mod:`phonasr.lm.arpa`), not graph costs. Seeded: the same inputs and seed give the same scores.

Differences from the reference: the LM term is the LM's probability, not the first pass's graph cost read in
the wrong log base; no GPU is required; an utterance with a single hypothesis is scored too.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from phonasr.batching.padding import pad_ids
from phonasr.ctc import ctc_sample
from phonasr.decode.outputs import (
    LOGPROBS,
    DecodedUtterance,
    NBestEntry,
    Scored,
    read_hypotheses,
    read_references,
    write_decode_dir,
)
from phonasr.decode.tokens import TokenModel, load_token_model
from phonasr.jsa.likelihoods import CtcLikelihoods, inference
from phonasr.lm.arpa import read_arpa
from phonasr.utils.io import atomic_write_text, load_checkpoint

logger = logging.getLogger(__name__)

SCORES = "mls_scores.txt"


def log_marginals(s2p: Tuple[torch.Tensor, torch.Tensor], g2p: Tuple[torch.Tensor, torch.Tensor],
                  p2g: torch.nn.Module, targets: Sequence[Sequence[int]], num_samples: int,
                  generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """(R,) float64 MLS estimates of log p(y_r | x_r) for R rows.

    Args:
        s2p: (R, T, V) S2P log-posteriors of each row's speech, (R,) frame counts.
        g2p: (R, L, V) G2P log-posteriors of each row's characters, (R,) lengths: the proposal q(h | y_r).
        p2g: the P2G, run on every sample.
        targets: y_r as P2G output ids.
    """
    rows = len(targets)
    samples = ctc_sample(*g2p, num_samples, generator=generator)
    pair_rows = [r for r in range(rows) for _ in range(num_samples)]
    candidates = [h for per_row in samples for h in per_row]
    likelihoods = CtcLikelihoods(s2p, g2p, p2g, targets, char_lens=[0] * rows)(pair_rows, candidates)
    log_w = (likelihoods.s2p.double() + likelihoods.p2g.double() - likelihoods.g2p.double()).view(rows, num_samples)
    return torch.logsumexp(log_w, dim=-1) - math.log(num_samples)


@dataclass(frozen=True)
class MlsOptions:
    lm_weight: float = 0.5
    num_samples: int = 10
    seed: int = 0
    max_pairs: int = 4096   # (hypothesis, sample) pairs per batch of utterances


def pad_log_probs(tensors: Sequence[torch.Tensor], device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-utterance (T, V) log-posteriors as one zero-padded (B, T_max, V) batch and its (B,) frame counts."""
    lengths = torch.tensor([t.size(0) for t in tensors], device=device)
    padded = torch.zeros(len(tensors), int(lengths.max()), tensors[0].size(1), device=device)
    for i, t in enumerate(tensors):
        padded[i, : t.size(0)] = t.to(device)
    return padded, lengths


def g2p_posteriors(g2p: TokenModel, texts: Sequence[str], device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """The proposal q(h | y) of each text: the G2P's CTC log-posteriors (eval mode) and lengths."""
    with inference(g2p.model):
        return g2p.model(*pad_ids([g2p.inputs.encode(t) for t in texts], device))


def _batches(utts: Sequence[str], hyps: Dict[str, List[NBestEntry]], pairs: int) -> List[List[str]]:
    batches: List[List[str]] = [[]]
    size = 0
    for utt in utts:
        if batches[-1] and size + len(hyps[utt]) > pairs:
            batches.append([])
            size = 0
        batches[-1].append(utt)
        size += len(hyps[utt])
    return [b for b in batches if b]


def mls_rescore_dir(nbest_dir: str | Path, s2p_dir: str | Path, checkpoint: str, arpa: str | Path,
                    out_dir: str | Path, *, device: torch.device, opts: MlsOptions, nbest: int = 64,
                    p2g_name: Optional[str] = None, g2p_name: Optional[str] = None,
                    g2p_checkpoint: Optional[str] = None) -> None:
    """Re-rank the ``nbest`` hypotheses of ``nbest_dir`` (a WFST decoding of the P2G route) by MLS with the S2P
    log-posteriors of ``s2p_dir``'s logprobs.pt, the P2G of ``checkpoint``, the G2P of ``g2p_checkpoint`` (default:
    the same checkpoint, as a JSA final.pt holds both) and the LM ``arpa``.

    Writes a decode dir (nbest.txt score = MLS + λ·LM) and mls_scores.txt, ``utt<TAB>rank<TAB>log p(y|x)<TAB>LM
    log-prob`` in the new order, from which another λ re-ranks without sampling again."""
    hyps = read_hypotheses(nbest_dir, nbest)
    refs = read_references(nbest_dir)
    s2p_all = load_checkpoint(Path(s2p_dir) / LOGPROBS)
    missing = sorted(set(hyps) - set(s2p_all))
    if missing:
        raise ValueError(f"{Path(s2p_dir) / LOGPROBS} lacks the S2P log-posteriors of {len(missing)} utterances of "
                         f"{nbest_dir} (e.g. {missing[:3]}); decode the same set with --save-logprobs true")
    p2g = load_token_model(checkpoint, p2g_name, "p2g", device)
    g2p_checkpoint = g2p_checkpoint or checkpoint
    g2p = load_token_model(g2p_checkpoint, g2p_name, "g2p", device)
    vocab = {"S2P log-posteriors": next(iter(s2p_all.values())).size(1), "P2G input": p2g.inputs.vocab_size,
             "G2P output": g2p.outputs.vocab_size}
    if len(set(vocab.values())) > 1:
        raise ValueError(f"the phoneme tables differ in size {vocab}: {s2p_dir}, the P2G of {checkpoint} and the G2P "
                         f"of {g2p_checkpoint} must share one phoneme lang dir")
    lm = read_arpa(arpa)
    generator = torch.Generator(device=device).manual_seed(opts.seed)
    utts = sorted(hyps)
    decoded: List[DecodedUtterance] = []
    lines: List[str] = []
    start = time.time()
    for batch in _batches(utts, hyps, max(opts.max_pairs // opts.num_samples, 1)):
        rows = [(utt, h) for utt in batch for h in hyps[utt] if h.text]  # empty y: nothing to sample, -inf
        marginals: Dict[Tuple[str, int], float] = {}
        if rows:
            s2p = pad_log_probs([s2p_all[utt] for utt, _ in rows], device)
            g2p_out = g2p_posteriors(g2p, [h.text for _, h in rows], device)
            targets = [p2g.outputs.encode(h.text) for _, h in rows]
            estimates = log_marginals(s2p, g2p_out, p2g.model, targets, opts.num_samples, generator).tolist()
            marginals = {(utt, h.rank): m for (utt, h), m in zip(rows, estimates)}
        by_utt = {utt: [(h.text, marginals.get((utt, h.rank), -math.inf), lm.sentence_log_prob(h.text.split()))
                        for h in hyps[utt]] for utt in batch}
        for utt in batch:
            ranked = sorted(by_utt[utt], key=lambda s: -(s[1] + opts.lm_weight * s[2]))
            decoded.append(DecodedUtterance(utt, refs[utt], [
                Scored(text, marginal + opts.lm_weight * lm_score) for text, marginal, lm_score in ranked]))
            lines.extend(f"{utt}\t{rank}\t{m:.4f}\t{s:.4f}" for rank, (_, m, s) in enumerate(ranked, start=1))
    write_decode_dir(out_dir, decoded)
    atomic_write_text(Path(out_dir) / SCORES, "".join(f"{line}\n" for line in lines))
    logger.info("MLS of %d utterances (%d samples per hypothesis, LM weight %.2f) in %.1f s", len(utts),
                opts.num_samples, opts.lm_weight, time.time() - start)
