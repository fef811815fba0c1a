"""The MIS score function of a JSA batch: log p(h|x), log p(y|h), log q(h|y) of candidates from the CTC models.

S2P and G2P log-posteriors depend only on the utterance (x and y), so they are computed once per utterance (by
the training forward pass) and each candidate row just indexes them; only P2G reads h and runs once on all
candidate rows together. Each of the three CTC losses is one call over all B*(K+1) rows, never a Python loop.

All three use the networks in their training mode, as the training forward passes of S2P and G2P do: the chain
then targets the posterior of the same (dropout-perturbed) models whose losses are minimised.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import torch

from phonasr.ctc import ctc_loss
from phonasr.data.pairs import pad_ids, violates_margin
from phonasr.jsa.sampler import LogLikelihoods


class CtcLikelihoods:
    """A :data:`phonasr.jsa.sampler.ScoreFn` over one batch of utterances.

    Args:
        s2p: (log_probs (B,T,V), lengths (B,)) of the acoustic model on x.
        g2p: (log_probs (B,L,V), lengths (B,)) of the G2P on the characters of y.
        p2g: the P2G model, run on the candidates.
        graphemes: y per utterance (the P2G's CTC targets).
        char_lens: number of characters per utterance (the G2P input length, for ``length_margin``).
        length_margin: reject candidates whose P2G or G2P pair fails len(input) > len(output) + margin.
    """

    def __init__(self, s2p: Tuple[torch.Tensor, torch.Tensor], g2p: Tuple[torch.Tensor, torch.Tensor],
                 p2g: torch.nn.Module, graphemes: Sequence[Sequence[int]], char_lens: Sequence[int],
                 ctc_backend: str = "auto", length_margin: Optional[int] = None) -> None:
        self.s2p_log_probs, self.s2p_lens = (t.detach() for t in s2p)
        self.g2p_log_probs, self.g2p_lens = (t.detach() for t in g2p)
        self.p2g = p2g
        self.graphemes = [list(y) for y in graphemes]
        self.char_lens = list(char_lens)
        self.backend = ctc_backend
        self.length_margin = length_margin

    @torch.no_grad()
    def __call__(self, utts: List[int], candidates: List[List[int]]) -> LogLikelihoods:
        device = self.s2p_log_probs.device
        index = torch.tensor(utts, dtype=torch.long, device=device)
        s2p = -ctc_loss(self.s2p_log_probs[index].float(), self.s2p_lens[index], candidates, backend=self.backend)
        g2p = -ctc_loss(self.g2p_log_probs[index].float(), self.g2p_lens[index], candidates, backend=self.backend)
        p2g = self._p2g(utts, candidates, device)
        if self.length_margin is not None:
            g2p_bad = torch.tensor([violates_margin(self.char_lens[u], len(h), self.length_margin)
                                    for u, h in zip(utts, candidates)], device=device)
            g2p = g2p.masked_fill(g2p_bad, float("-inf"))
        return LogLikelihoods(s2p=s2p.cpu(), p2g=p2g.cpu(), g2p=g2p.cpu())

    def _p2g(self, utts: List[int], candidates: List[List[int]], device: torch.device) -> torch.Tensor:
        """log p(y|h) per row; rows with an empty h (nothing for the P2G to read) or failing the margin are -inf."""
        out = torch.full((len(utts),), float("-inf"), device=device)
        rows = [n for n, (u, h) in enumerate(zip(utts, candidates))
                if h and not violates_margin(len(h), len(self.graphemes[u]), self.length_margin)]
        if rows:
            tokens, lens = pad_ids([candidates[n] for n in rows], device)
            log_probs, out_lens = self.p2g(tokens, lens)
            nll = ctc_loss(log_probs.float(), out_lens, [self.graphemes[utts[n]] for n in rows], backend=self.backend)
            out[torch.tensor(rows, device=device)] = -nll
        return out
