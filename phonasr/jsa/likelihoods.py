"""The MIS score function of a JSA batch: log p(h|x), log p(y|h), log q(h|y) of candidates from the CTC models.

S2P and G2P log-posteriors depend only on the utterance (x and y), so they are computed once per utterance and
each candidate row just indexes them; only P2G reads h and runs once on all candidate rows together. Each of the
three CTC losses is one call over all B*(K+1) rows, never a Python loop.

Rows repeat: a peaky G2P proposes the same h again and again (a chain's cache, its proposals, MLS's K samples per
hypothesis), and hypotheses that differ only in spelling propose the same h for the same speech. So each distinct
(utterance, h) row is scored once and copied to its repeats, and the P2G, the costly part, runs once per distinct
h, in chunks of inputs of similar length.
The scores are those of the rows scored one by one (tests/jsa/test_likelihoods.py).

Which network the chain targets (``jsa.score_mode``). The MIS leaves p(h|x,y) ∝ p(h|x) p(y|h) invariant only if
every weight w(h) = p(h|x) p(y|h) / q(h|y) of a step is computed by one and the same model, and the proposals are
drawn from that same q. Dropout breaks this when the networks score in training mode:

* ``eval`` (default): S2P, G2P and P2G score in eval mode without gradients, on the clean input (the JSA task applies
  no SpecAugment; the no-grad passes would see un-augmented features if it did), and the proposals are drawn from the
  eval-mode G2P (and S2P, with the mixture proposal of :mod:`phonasr.jsa.proposal`). The chain's target is then
  exactly the posterior of the networks being trained, the ones decoding uses. The training forward passes (with
  dropout) run afterwards, only for the losses. Cost: one extra no-grad forward of S2P and G2P per step, about a third
  of an S2P training step (``bench/bench_jsa.py --batch 4`` at paper sizes on a CPU, in CPU time: a JSA step took
  2.08x an S2P-only step, 1.56x with ``train`` scoring, 1.26x with ``no_dropout``). Exactness is the default because
  a chain that targets the wrong distribution fails silently, a slower step does not.
* ``train``: the reference's scoring. S2P and G2P log-probabilities (and the proposals) come from the training
  forward pass: one dropout mask per utterance, shared by all its candidates, so every step targets the posterior
  of one randomly thinned network; it saves the extra forward passes. The P2G still scores in eval mode: in
  training mode each candidate row would get its own dropout mask, and w'/w would compare p(y|h') and p(y|h) of
  different networks, a noise that biases the chain towards candidates with lucky masks and leaves it no
  stationary law at all.
* ``no_dropout``: JSA fine-tunes the S2P and G2P without dropout, so their training forward pass is itself the
  dropout-free network: its detached log-probabilities are the exact weights (and the proposals) of ``eval``, and
  one forward serves scoring and training, at the cost of ``train``. The P2G keeps its dropout: it scores the
  candidates in a separate eval pass in every mode (its training pass reads only the final states), so dropping
  its dropout would save nothing. What the mode changes is the S2P's and G2P's regulariser, not the target.
"""
from __future__ import annotations

import contextlib
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from torch.nn.parallel import DistributedDataParallel

from phonasr.batching.padding import pad_ids
from phonasr.batching.pairs import violates_margin
from phonasr.ctc import ctc_loss
from phonasr.jsa.sampler import LogLikelihoods

SCORE_MODES = ("eval", "train", "no_dropout")
P2G_CHUNK = 512  # distinct P2G inputs per forward pass


def bare(model: torch.nn.Module) -> torch.nn.Module:
    """The module inside a DDP wrapper. Scoring passes go to it directly: they need no gradient synchronisation,
    and a DDP forward may broadcast buffers, a collective that ranks running different numbers of scoring passes
    would deadlock on."""
    return model.module if isinstance(model, DistributedDataParallel) else model


@contextlib.contextmanager
def dropout_off(*models: torch.nn.Module) -> Iterator[None]:
    """Eval mode inside, autograd as it is; every submodule's own mode is restored on exit. The models' only
    train/eval difference is dropout (LayerNorm, no BatchNorm; the JSA task applies no SpecAugment), so a forward
    pass in here with gradients gives what an eval-mode no-grad pass gives."""
    modes = [(m, m.training) for model in models for m in model.modules()]
    try:
        for model in models:
            model.eval()
        yield
    finally:
        for m, training in modes:
            m.training = training


@contextlib.contextmanager
def inference(*models: torch.nn.Module) -> Iterator[None]:
    """Eval mode (no dropout) and no autograd inside; every submodule's own mode is restored on exit."""
    with dropout_off(*models), torch.no_grad():
        yield


class CtcLikelihoods:
    """A :data:`phonasr.jsa.sampler.ScoreFn` over one batch of utterances.

    Args:
        s2p: (log_probs (B,T,V), lengths (B,)) of the acoustic model on x.
        g2p: (log_probs (B,L,V), lengths (B,)) of the G2P on the characters of y.
        p2g: the P2G model, run (in eval mode, without gradients) on the candidates.
        graphemes: y per utterance (the P2G's CTC targets).
        char_lens: number of characters per utterance (the G2P input length, for ``length_margin``).
        length_margin: reject candidates whose P2G or G2P pair fails len(input) > len(output) + margin.
    """

    def __init__(self, s2p: Tuple[torch.Tensor, torch.Tensor], g2p: Tuple[torch.Tensor, torch.Tensor],
                 p2g: torch.nn.Module, graphemes: Sequence[Sequence[int]], char_lens: Sequence[int],
                 ctc_backend: str = "auto", length_margin: Optional[int] = None) -> None:
        self.s2p_log_probs, self.s2p_lens = (t.detach() for t in s2p)
        self.g2p_log_probs, self.g2p_lens = (t.detach() for t in g2p)
        self.p2g = bare(p2g)
        self.graphemes = [list(y) for y in graphemes]
        self.char_lens = list(char_lens)
        self.backend = ctc_backend
        self.length_margin = length_margin

    @torch.no_grad()
    def __call__(self, utts: List[int], candidates: List[List[int]]) -> LogLikelihoods:
        distinct, repeat_of = _distinct_rows(utts, candidates)
        scored = self._score([u for u, _ in distinct], [list(h) for _, h in distinct])
        copies = torch.tensor(repeat_of, dtype=torch.long)
        return LogLikelihoods(s2p=scored.s2p[copies], p2g=scored.p2g[copies], g2p=scored.g2p[copies])

    def _score(self, utts: List[int], candidates: List[List[int]]) -> LogLikelihoods:
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
        """log p(y|h) per row; rows with an empty h (nothing for the P2G to read) or failing the margin are -inf.

        The P2G reads each distinct h once, its output shared by the rows of every utterance that proposed it, in
        chunks of similar length: one batch padded to the longest of thousands of inputs (MLS) spent most of its
        time on padding (bench/bench_mls.py)."""
        out = torch.full((len(utts),), float("-inf"), device=device)
        rows = [n for n, (u, h) in enumerate(zip(utts, candidates))
                if h and not violates_margin(len(h), len(self.graphemes[u]), self.length_margin)]
        inputs: Dict[Tuple[int, ...], List[int]] = {}
        for n in rows:
            inputs.setdefault(tuple(candidates[n]), []).append(n)
        by_length = sorted(inputs, key=len)
        for start in range(0, len(by_length), P2G_CHUNK):
            chunk = by_length[start:start + P2G_CHUNK]
            with inference(self.p2g):
                log_probs, out_lens = self.p2g(*pad_ids([list(h) for h in chunk], device))
            pairs = [(position, n) for position, h in enumerate(chunk) for n in inputs[h]]
            pick = torch.tensor([position for position, _ in pairs], dtype=torch.long, device=device)
            nll = ctc_loss(log_probs[pick].float(), out_lens[pick], [self.graphemes[utts[n]] for _, n in pairs],
                           backend=self.backend)
            out[torch.tensor([n for _, n in pairs], device=device)] = -nll
        return out


def _distinct_rows(utts: Sequence[int], candidates: Sequence[Sequence[int]]
                   ) -> Tuple[List[Tuple[int, Tuple[int, ...]]], List[int]]:
    """The distinct (utterance, h) rows in first-seen order, and for every input row the index of its distinct row."""
    first: Dict[Tuple[int, Tuple[int, ...]], int] = {}
    repeat_of = [first.setdefault((u, tuple(h)), len(first)) for u, h in zip(utts, candidates)]
    return list(first), repeat_of
