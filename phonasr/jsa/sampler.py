"""Metropolis independence sampler (MIS) over phoneme sequences, the E-step of JSA.

JSA needs samples of the latent phonemes h from the posterior p(h|x,y) ∝ p(h|x) p(y|h). That posterior cannot be
sampled directly, so the chain of each utterance proposes candidates h' from the auxiliary model q(h|y) (the G2P)
and accepts h' over its current state h with probability min(1, w(h')/w(h)), w(h) = p(h|x) p(y|h) / q(h|y).
With exact (un-normalised) weights the chain's stationary distribution is the posterior, whatever q is, as long
as q covers it; the reference's length-normalised weights (each log-likelihood divided by its target length)
are offered for comparison only: they change the target distribution (see tests/jsa/test_sampler.py).
The proposal may also be a mixture of q(h|y) and the S2P's p(h|x) (:mod:`phonasr.jsa.proposal`); the weight then
divides by the mixture's density, which the same three log-likelihoods give.

The sampler knows nothing about models: a :data:`ScoreFn` returns the three log-likelihoods of a batch of
(utterance, candidate) rows. All candidates of all utterances, the current states included, go to that function
in one call (duplicates removed), so a caller backed by CTC computes each loss once per model on B*(K+1) rows
instead of looping in Python.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

from phonasr.jsa.proposal import check_s2p_weight

Phones = Tuple[int, ...]


@dataclass(frozen=True)
class LogLikelihoods:
    """Log-likelihoods of candidate rows; ``-inf`` (or NaN) marks a candidate a model cannot produce."""

    s2p: torch.Tensor  # (N,) log p(h|x)
    p2g: torch.Tensor  # (N,) log p(y|h)
    g2p: torch.Tensor  # (N,) log q(h|y)


#: ``score(utt_indices, candidates)``: row n is candidate ``candidates[n]`` of utterance ``utt_indices[n]``
#: (an index into the batch); returns the three log-likelihoods of every row.
ScoreFn = Callable[[List[int], List[List[int]]], LogLikelihoods]


@dataclass
class MISResult:
    """Outcome of one run of every utterance's chain through its proposals.

    A chain without a feasible state (new, restarted, or whose cached state has become infeasible) takes its first
    feasible proposal unconditionally. That is the chain's initialisation, not a Metropolis accept test, so it is
    counted in ``initialised`` and kept out of ``accepted`` and ``tested``: counted as an acceptance it would
    inflate the acceptance rate by up to 1/K, most of all in restart mode where every chain starts afresh.
    """

    states: List[Optional[List[int]]]  # final state per utterance (None: the chain ends without a feasible state)
    accepted: List[int]  # proposals that passed the accept test, per utterance
    tested: List[int]  # proposals put to the accept test (offered while the chain held a feasible state)
    initialised: List[bool]  # whether the chain took a first state without a test this time
    proposed: List[int]  # proposals offered per utterance
    infeasible: List[int]  # proposals rejected because a model gives them zero probability
    changed: List[bool]  # whether the final state differs from the initial one

    @property
    def acceptance_rate(self) -> Optional[float]:
        """Accepted / tested proposals over all chains; None when no proposal met a chain holding a state."""
        total = sum(self.tested)
        return sum(self.accepted) / total if total else None


def log_proposal_density(s2p: torch.Tensor, g2p: torch.Tensor, s2p_weight: float) -> torch.Tensor:
    """log q_mix(h) = log((1-a) q(h|y) + a p(h|x)), the density of the mixture proposal (a = ``s2p_weight``);
    exactly log q(h|y) for a = 0 (the -inf of a zero-weight component drops out of the log-sum-exp)."""
    check_s2p_weight(s2p_weight)
    if s2p_weight == 0.0:
        return g2p
    if s2p_weight == 1.0:
        return s2p
    return torch.logaddexp(g2p + math.log1p(-s2p_weight), s2p + math.log(s2p_weight))


def log_importance_weights(scores: LogLikelihoods, h_lens: torch.Tensor, y_lens: Optional[torch.Tensor],
                           length_normalised: bool, s2p_weight: float = 0.0) -> torch.Tensor:
    """log w = log p(h|x) + log p(y|h) - log q_mix(h) in float64; ``-inf`` for infeasible rows.

    Rows the G2P cannot produce stay infeasible under a mixture proposal too: the chain's support is that of
    p(h|x) p(y|h) q(h|y), whose states all three models can be trained on (the length margin acts through q), and
    the posterior restricted to it is still its exact target, since the mixture covers it.
    ``length_normalised`` divides log p(h|x) and log q_mix(h) by len(h) and log p(y|h) by len(y), as the reference
    implementation does (with q for q_mix); that needs ``y_lens`` (one per row).
    """
    s2p, p2g, g2p = (t.detach().to(torch.float64) for t in (scores.s2p, scores.p2g, scores.g2p))
    log_q = log_proposal_density(s2p, g2p, s2p_weight)
    if length_normalised:
        if y_lens is None:
            raise ValueError("length-normalised weights need the grapheme target length of every row (y_lens)")
        h_norm = h_lens.to(torch.float64).clamp(min=1)
        s2p, log_q = s2p / h_norm, log_q / h_norm
        p2g = p2g / y_lens.to(torch.float64).clamp(min=1)
    log_w = s2p + p2g - log_q
    feasible = torch.isfinite(s2p) & torch.isfinite(p2g) & torch.isfinite(g2p)
    return torch.where(feasible, log_w, torch.full_like(log_w, float("-inf")))


def run_chains(states: Sequence[Optional[Sequence[int]]], proposals: Sequence[Sequence[Sequence[int]]],
               score: ScoreFn, generator: Optional[torch.Generator] = None, length_normalised: bool = False,
               y_lens: Optional[Sequence[int]] = None, s2p_weight: float = 0.0) -> MISResult:
    """Run the MIS chain of every utterance of a batch through its proposals, in order.

    Args:
        states: current state per utterance (the cached sample), or None to start a new chain; a state that has
            become infeasible is replaced by the first feasible proposal, and without one the chain ends with no
            state (None), like a new chain that found none.
        proposals: per utterance, the candidates drawn from the proposal (any number each; K in JSA).
        score: gives the log-likelihoods of (utterance index, candidate) rows; called exactly once.
        generator: the source of the uniform numbers of the accept tests (reproducible runs).
        length_normalised: use the reference's length-normalised weights instead of the exact ones.
        y_lens: grapheme target length per utterance; needed only with ``length_normalised``.
        s2p_weight: the proposal was the mixture (1-a) q(h|y) + a p(h|x) with this a (0: the G2P alone).
    """
    if len(states) != len(proposals):
        raise ValueError(f"{len(states)} chain states but proposals for {len(proposals)} utterances")
    if length_normalised and (y_lens is None or len(y_lens) != len(states)):
        raise ValueError("length-normalised weights need y_lens, one grapheme target length per utterance")
    num_utts = len(states)
    max_k = max((len(p) for p in proposals), default=0)

    # One row per distinct (utterance, sequence): G2P samples repeat often, and each row costs three CTC passes.
    row_of: Dict[Tuple[int, Phones], int] = {}
    row_utts: List[int] = []
    row_seqs: List[List[int]] = []

    def row(utt: int, seq: Sequence[int]) -> int:
        key = (utt, tuple(seq))
        if key not in row_of:
            row_of[key] = len(row_seqs)
            row_utts.append(utt)
            row_seqs.append(list(seq))
        return row_of[key]

    state_rows = [row(i, s) if s is not None else -1 for i, s in enumerate(states)]
    proposal_rows = torch.tensor([[row(i, c) for c in cands] + [-1] * (max_k - len(cands))
                                  for i, cands in enumerate(proposals)], dtype=torch.long).reshape(num_utts, max_k)

    if row_seqs:
        scores = score(row_utts, row_seqs)
        for name in ("s2p", "p2g", "g2p"):
            shape = tuple(getattr(scores, name).shape)
            if shape != (len(row_seqs),):
                raise ValueError(f"score function returned {name} log-likelihoods of shape {shape} "
                                 f"for {len(row_seqs)} candidate rows")
        h_lens = torch.tensor([len(s) for s in row_seqs])
        row_y_lens = torch.tensor([y_lens[u] for u in row_utts]) if length_normalised else None
        row_log_w = log_importance_weights(scores, h_lens, row_y_lens, length_normalised, s2p_weight)
    else:
        row_log_w = torch.empty(0, dtype=torch.float64)
    # Padding slots (-1) and absent states get weight -inf: never accepted, and anything feasible beats them.
    padded = torch.cat([row_log_w, torch.tensor([float("-inf")], dtype=torch.float64)])
    proposal_log_w = padded[proposal_rows]  # -1 indexes the trailing -inf
    current_row = torch.tensor(state_rows, dtype=torch.long)
    current_log_w = padded[current_row]

    log_u = torch.log1p(-torch.rand((num_utts, max_k), generator=generator, dtype=torch.float64))  # log U(0,1]
    proposed = torch.tensor([len(p) for p in proposals], dtype=torch.long)
    offered = torch.arange(max_k)[None, :] < proposed[:, None]  # (num_utts, max_k): not a padding slot
    accepted = torch.zeros(num_utts, dtype=torch.long)
    tested = torch.zeros(num_utts, dtype=torch.long)
    initialised = torch.zeros(num_utts, dtype=torch.bool)
    for k in range(max_k):
        cand_log_w = proposal_log_w[:, k]
        has_state = torch.isfinite(current_log_w)
        # min(1, w'/w) in log space; without a feasible state (w = 0) any feasible candidate is taken (ratio +inf).
        ratio = torch.where(has_state, cand_log_w - current_log_w, torch.full_like(cand_log_w, float("inf")))
        accept = torch.isfinite(cand_log_w) & (log_u[:, k] <= ratio)
        current_log_w = torch.where(accept, cand_log_w, current_log_w)
        current_row = torch.where(accept, proposal_rows[:, k], current_row)
        accepted += (accept & has_state).long()
        tested += (offered[:, k] & has_state).long()
        initialised |= accept & ~has_state

    # A chain whose state is still infeasible (a cached state the models now give zero probability, and no feasible
    # proposal) has no state: training on it would fit the models to a sequence they cannot produce.
    feasible_now = torch.isfinite(current_log_w).tolist()
    new_states = [row_seqs[r] if r >= 0 and ok else None for r, ok in zip(current_row.tolist(), feasible_now)]
    infeasible = (offered & ~torch.isfinite(proposal_log_w)).sum(dim=1)
    changed = [(s is None) != (n is None) or (s is not None and list(s) != n) for s, n in zip(states, new_states)]
    return MISResult(states=new_states, accepted=accepted.tolist(), tested=tested.tolist(),
                     initialised=initialised.tolist(), proposed=proposed.tolist(), infeasible=infeasible.tolist(),
                     changed=changed)
