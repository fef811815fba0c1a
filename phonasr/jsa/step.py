"""One JSA step on a batch, free of tokenizers and bookkeeping: what the task trains with and the benchmark times.

K proposals per chain are drawn from the G2P's CTC distribution, or each with probability ``proposal_s2p_weight``
from the S2P's (:mod:`phonasr.jsa.proposal`); every chain runs through them
(:func:`phonasr.jsa.sampler.run_chains`, all candidates scored in one CTC call per model); the final states become
the CTC targets of the three losses. Which forward passes score the candidates is ``score_mode``
(:mod:`phonasr.jsa.likelihoods` explains the choice); the proposals come from the same passes, and the losses
from the training passes (of S2P and G2P without dropout in ``no_dropout`` mode, where they are the scoring ones).

Copies of one utterance in a batch (the oversampled labelled subset) share one chain: it runs through the
proposals of all copies in turn, as if the copies had been visited one after the other, and each copy trains on
its final state. Separate chains from the same cached start would each produce a sample and only one could be
kept; the others' Metropolis steps would be wasted, and which one survived would depend on the batch order.
"""
from __future__ import annotations

import collections
import contextlib
from dataclasses import dataclass
from typing import Dict, Hashable, List, Optional, Sequence, Tuple

import torch

from phonasr.batching.padding import pad_ids
from phonasr.ctc import ctc_loss, greedy_search, min_ctc_frames
from phonasr.jsa.likelihoods import SCORE_MODES, CtcLikelihoods, bare, dropout_off, inference
from phonasr.jsa.proposal import draw_proposals
from phonasr.jsa.sampler import MISResult, run_chains
from phonasr.train.task import Models

Output = Tuple[torch.Tensor, torch.Tensor]  # (log_probs (N, T, V), lengths (N,)) of a CTC model


@dataclass
class CtcTerm:
    """One model's summed CTC NLL over the rows it could be trained on."""

    nll: torch.Tensor
    tokens: int                 # target tokens of the rows in ``nll``
    infeasible: int             # rows with a target that CTC cannot emit from their input, left out

    def per_token(self) -> torch.Tensor:
        return self.nll / max(self.tokens, 1)


@dataclass
class StepOutput:
    """The three loss terms and the sampler's outcome, per chain (one per distinct chain id, in order of first
    appearance; ``chain_rows[c]`` is the first batch row of chain ``c``)."""

    s2p: CtcTerm
    p2g: CtcTerm
    g2p: CtcTerm
    result: MISResult
    proposals: List[List[List[int]]]
    chain_rows: List[int]

    def loss(self) -> torch.Tensor:
        """Sum of the three per-token losses (per token, so the scale does not follow the batch size)."""
        return self.s2p.per_token() + self.p2g.per_token() + self.g2p.per_token()

    @property
    def infeasible_targets(self) -> int:
        return self.s2p.infeasible + self.p2g.infeasible + self.g2p.infeasible


def ctc_term(output: Output, targets: Sequence[Optional[Sequence[int]]], backend: str) -> CtcTerm:
    """CTC NLL summed over the rows that have a target CTC can emit from their input length.

    Rows without a usable target get an empty one and are masked out: an infeasible target's infinite NLL would
    turn the gradient of the whole batch into NaN even when masked afterwards (its backward multiplies 0 by NaN).
    """
    log_probs, lens = output
    usable = [t is not None and min_ctc_frames(t) <= int(n) for t, n in zip(targets, lens.tolist())]
    nll = ctc_loss(log_probs.float(), lens, [list(t) if ok else [] for t, ok in zip(targets, usable)],
                   backend=backend)
    mask = torch.tensor(usable, dtype=torch.bool, device=nll.device)
    return CtcTerm(nll=nll.masked_fill(~mask, 0.0).sum(),
                   tokens=sum(len(t) for t, ok in zip(targets, usable) if ok),
                   infeasible=sum(t is not None and not ok for t, ok in zip(targets, usable)))


def group_chains(chain_ids: Sequence[Hashable]) -> Tuple[List[int], List[int]]:
    """(first row of each distinct id, in order of appearance; chain index of every row)."""
    chain_index: Dict[Hashable, int] = {}
    first_rows: List[int] = []
    chain_of: List[int] = []
    for row, chain_id in enumerate(chain_ids):
        if chain_id not in chain_index:
            chain_index[chain_id] = len(first_rows)
            first_rows.append(row)
        chain_of.append(chain_index[chain_id])
    return first_rows, chain_of


def jsa_step(models: Models, features: torch.Tensor, feature_lens: torch.Tensor, graphemes: Sequence[List[int]],
             chars: Sequence[List[int]], chain_starts: Sequence[Optional[List[int]]],
             fixed_targets: Sequence[Optional[List[int]]], num_samples: int, length_normalised: bool = False,
             length_margin: Optional[int] = None, ctc_backend: str = "auto", score_mode: str = "eval",
             chain_ids: Optional[Sequence[Hashable]] = None, proposal_s2p_weight: float = 0.0,
             new_chains_from_s2p: bool = False) -> StepOutput:
    """Sample h for every chain and compute the three CTC losses.

    Args:
        models: ``s2p``, ``p2g``, ``g2p`` (possibly DDP-wrapped).
        graphemes / chars: y as P2G targets (subword ids) and as G2P input (character ids), per row.
        chain_starts: per row, its chain's current state (from the cache) or None; copies agree.
        fixed_targets: per row, true phonemes that replace the sample as S2P and G2P target, or None.
        score_mode: ``eval``, ``train`` or ``no_dropout``, the networks the sampler's weights come from.
        chain_ids: rows with equal ids are copies of one utterance and share one chain run through
            ``num_samples`` proposals per copy; None gives every row its own chain.
        proposal_s2p_weight: probability that a proposal comes from the S2P's CTC posterior instead of the G2P's.
        new_chains_from_s2p: a chain without a start state starts from the S2P's greedy hypothesis (of the scoring
            pass) instead of its first feasible proposal; the MIS reaches the same target from any start.
    """
    if score_mode not in SCORE_MODES:
        raise ValueError(f"score_mode must be one of {SCORE_MODES}, not '{score_mode}'")
    device = features.device
    chain_rows, chain_of = group_chains(chain_ids if chain_ids is not None else range(len(chars)))
    copies = collections.Counter(chain_of)
    char_ids, char_lens = pad_ids(chars, device)

    no_dropout = dropout_off(models["s2p"], models["g2p"]) if score_mode == "no_dropout" else contextlib.nullcontext()

    def training_passes() -> Tuple[Output, Output]:
        return models["s2p"](features, feature_lens), models["g2p"](char_ids, char_lens)

    index = torch.tensor(chain_rows, dtype=torch.long, device=device)
    if score_mode in ("train", "no_dropout"):  # one forward pass: the training one scores too
        with no_dropout:
            trained: Optional[Tuple[Output, Output]] = training_passes()
        s2p_score, g2p_score = ((lp[index], lens[index]) for lp, lens in trained)
    else:
        trained = None
        s2p, g2p = bare(models["s2p"]), bare(models["g2p"])
        with inference(s2p, g2p):
            s2p_score = s2p(features[index], feature_lens[index])
            g2p_score = g2p(char_ids[index], char_lens[index])
    proposals = draw_proposals(g2p_score, s2p_score, [num_samples * copies[c] for c in range(len(chain_rows))],
                               proposal_s2p_weight)
    score = CtcLikelihoods(s2p_score, g2p_score, models["p2g"], [graphemes[r] for r in chain_rows],
                           [len(chars[r]) for r in chain_rows], ctc_backend, length_margin)
    starts = [chain_starts[r] for r in chain_rows]
    if new_chains_from_s2p:
        best = greedy_search(s2p_score[0].detach(), s2p_score[1])
        starts = [s if s is not None else list(h) for s, h in zip(starts, best)]
    result = run_chains(starts, proposals, score, length_normalised=length_normalised,
                        y_lens=[len(graphemes[r]) for r in chain_rows], s2p_weight=proposal_s2p_weight)

    s2p_out, g2p_out = trained if trained is not None else training_passes()
    states = [result.states[c] for c in chain_of]
    phone_targets = [f if f is not None else s for f, s in zip(fixed_targets, states)]
    s2p_term = ctc_term(s2p_out, phone_targets, ctc_backend)
    g2p_term = ctc_term(g2p_out, phone_targets, ctc_backend)
    sampled = [i for i, s in enumerate(states) if s]
    # DDP all-reduces the P2G's gradients every step, so a rank without a sampled state still runs the P2G (on a
    # one-token input) and contributes zero gradients; skipping it would leave the other ranks waiting forever.
    p2g_out = models["p2g"](*pad_ids([states[i] for i in sampled] if sampled else [[0]], device))
    p2g_term = ctc_term(p2g_out, [graphemes[i] for i in sampled], ctc_backend) if sampled else \
        CtcTerm(nll=p2g_out[0].sum() * 0.0, tokens=0, infeasible=0)
    return StepOutput(s2p=s2p_term, p2g=p2g_term, g2p=g2p_term, result=result, proposals=proposals,
                      chain_rows=chain_rows)
