"""One JSA step on a batch, free of tokenizers and bookkeeping: what the task trains with and the benchmark times.

S2P and G2P run once (with gradients) on x and on the characters of y; K proposals are drawn from the G2P's CTC
distribution; every chain runs through them (:func:`phonasr.jsa.sampler.run_chains`, all candidates scored in one
CTC call per model); the final states become the CTC targets of the three losses.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import torch

from phonasr.ctc import ctc_loss, ctc_sample
from phonasr.data.pairs import pad_ids
from phonasr.jsa.likelihoods import CtcLikelihoods
from phonasr.jsa.sampler import MISResult, run_chains
from phonasr.train.task import Models


@dataclass
class StepOutput:
    """Summed NLLs (each over its finite rows), their target token counts, and the sampler's outcome."""

    s2p_nll: torch.Tensor
    p2g_nll: torch.Tensor
    g2p_nll: torch.Tensor
    phone_tokens: int           # tokens of the S2P / G2P targets that entered the losses
    grapheme_tokens: int        # tokens of the P2G targets that entered its loss
    infeasible_targets: int     # target rows left out because their CTC was infeasible
    result: MISResult
    proposals: List[List[List[int]]]

    def loss(self) -> torch.Tensor:
        """Sum of the three per-token losses (per token, so the scale does not follow the batch size)."""
        return (self.s2p_nll / max(self.phone_tokens, 1) + self.g2p_nll / max(self.phone_tokens, 1)
                + self.p2g_nll / max(self.grapheme_tokens, 1))


def masked_nll_sum(nll: torch.Tensor, targets: Sequence[Optional[Sequence[int]]]) -> Tuple[torch.Tensor, int, int]:
    """Sum of the finite NLLs of rows that have a target; also their token count and how many were infeasible."""
    has = torch.tensor([t is not None for t in targets], dtype=torch.bool, device=nll.device)
    use = has & torch.isfinite(nll)
    tokens = sum(len(t) for t, u in zip(targets, use.tolist()) if u)
    return nll.masked_fill(~use, 0.0).sum(), tokens, int(has.sum()) - int(use.sum())


def jsa_step(models: Models, features: torch.Tensor, feature_lens: torch.Tensor, graphemes: Sequence[List[int]],
             chars: Sequence[List[int]], chain_starts: Sequence[Optional[List[int]]],
             fixed_targets: Sequence[Optional[List[int]]], num_samples: int, length_normalised: bool = False,
             length_margin: Optional[int] = None, ctc_backend: str = "auto") -> StepOutput:
    """Sample h for every utterance and compute the three CTC losses.

    Args:
        models: ``s2p``, ``p2g``, ``g2p`` (possibly DDP-wrapped).
        graphemes / chars: y as P2G targets (subword ids) and as G2P input (character ids), per utterance.
        chain_starts: each chain's current state (from the cache) or None.
        fixed_targets: per utterance, true phonemes that replace the sample as S2P and G2P target, or None.
    """
    device = features.device
    s2p_lp, s2p_lens = models["s2p"](features, feature_lens)
    g2p_lp, g2p_lens = models["g2p"](*pad_ids(chars, device))
    proposals = ctc_sample(g2p_lp.detach(), g2p_lens, num_samples)
    score = CtcLikelihoods((s2p_lp, s2p_lens), (g2p_lp, g2p_lens), models["p2g"], graphemes,
                           [len(c) for c in chars], ctc_backend, length_margin)
    result = run_chains(chain_starts, proposals, score, length_normalised=length_normalised,
                        y_lens=[len(y) for y in graphemes])

    phone_targets = [f if f is not None else s for f, s in zip(fixed_targets, result.states)]
    placeholder = [t or [] for t in phone_targets]
    s2p_nll, phone_tokens, s2p_bad = masked_nll_sum(
        ctc_loss(s2p_lp.float(), s2p_lens, placeholder, backend=ctc_backend), phone_targets)
    g2p_nll, _, g2p_bad = masked_nll_sum(
        ctc_loss(g2p_lp.float(), g2p_lens, placeholder, backend=ctc_backend), phone_targets)
    sampled = [i for i, s in enumerate(result.states) if s]
    p2g_nll, grapheme_tokens, p2g_bad = torch.zeros((), device=device), 0, 0
    if sampled:
        p2g_lp, p2g_lens = models["p2g"](*pad_ids([result.states[i] for i in sampled], device))
        targets = [list(graphemes[i]) for i in sampled]
        p2g_nll, grapheme_tokens, p2g_bad = masked_nll_sum(
            ctc_loss(p2g_lp.float(), p2g_lens, targets, backend=ctc_backend), targets)
    return StepOutput(s2p_nll=s2p_nll, p2g_nll=p2g_nll, g2p_nll=g2p_nll, phone_tokens=phone_tokens,
                      grapheme_tokens=grapheme_tokens, infeasible_targets=s2p_bad + g2p_bad + p2g_bad,
                      result=result, proposals=proposals)
