"""Validation of a single CTC model: dev loss per target token and the error rate of greedy decoding.

Shared by the acoustic task (S2P, subword CTC) and the token task (P2G, G2P). A dev utterance whose target CTC
cannot emit (too long for the model's output) has no finite loss; it still counts in the error rate (its
hypothesis is scored like any other) and is reported as ``infeasible``, never silently dropped.
"""
from __future__ import annotations

from typing import Callable, Dict, Sequence

import torch

from phonasr.ctc import greedy_search
from phonasr.scoring.error_rate import ErrorCounts, align_tokens, tokenize


class GreedyDevScore:
    """Accumulates dev batches; ``metric`` is ``per``, ``wer`` or ``cer``, ``decode`` maps output ids to text."""

    def __init__(self, metric: str, decode: Callable[[Sequence[int]], str]) -> None:
        self.metric = metric
        self.decode = decode
        self.nll = 0.0
        self.tokens = 0
        self.infeasible = 0
        self.utts = 0
        self.counts = ErrorCounts()

    def add(self, nll: torch.Tensor, log_probs: torch.Tensor, out_lens: torch.Tensor, target_lens: Sequence[int],
            references: Sequence[str]) -> None:
        """One batch: per-utterance NLL (B,), the model output, target lengths and reference texts."""
        finite = torch.isfinite(nll).tolist()
        self.nll += float(nll[torch.isfinite(nll)].sum())
        self.tokens += sum(n for n, ok in zip(target_lens, finite) if ok)
        self.infeasible += finite.count(False)
        for hyp_ids, reference in zip(greedy_search(log_probs, out_lens), references):
            hyp = self.decode(list(hyp_ids))
            self.counts += align_tokens(tokenize(reference, self.metric), tokenize(hyp, self.metric))[1]
            self.utts += 1

    def metrics(self) -> Dict[str, float]:
        return {"loss": self.nll / max(self.tokens, 1), "error_rate": self.counts.rate, "utts": float(self.utts),
                "infeasible": float(self.infeasible)}
