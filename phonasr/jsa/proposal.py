"""The MIS proposal of JSA: a mixture of the G2P q(h|y) and the S2P's own CTC posterior p(h|x).

Under exact weights the chain targets p(h|x,y) whatever the proposal, but it only gets there if the proposal puts
mass where the posterior does. With the G2P alone it often does not: when the S2P is much better than the G2P's
samples (the mini recipe: S2P 3.7% PER, cached G2P samples 21-26%), no G2P candidate comes near the posterior's
mode and the chain keeps the least bad G2P sample (issue 11). Drawing each candidate, with probability ``a``, from
the S2P's CTC posterior instead puts candidates where p(h|x) is high, and p(y|h) then decides between them.

The MIS weight must divide by the density the candidates were actually drawn from, the mixture's
q_mix(h) = (1-a) q(h|y) + a p(h|x) (:func:`phonasr.jsa.sampler.log_proposal_density`). Both terms are CTC
log-likelihoods the sampler computes anyway, and the S2P samples come from the same forward pass that scores the
candidates, so the mixture costs one extra multinomial draw and no network pass.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import torch

from phonasr.ctc import ctc_sample

Output = Tuple[torch.Tensor, torch.Tensor]  # (log_probs (N, T, V), lengths (N,)) of a CTC model


def check_s2p_weight(s2p_weight: float) -> None:
    if not 0.0 <= s2p_weight <= 1.0:
        raise ValueError(f"the S2P's weight in the proposal mixture (jsa.proposal_s2p_weight) must lie in [0, 1], "
                         f"not {s2p_weight}")


def draw_proposals(g2p: Output, s2p: Output, counts: Sequence[int], s2p_weight: float) -> List[List[List[int]]]:
    """``counts[b]`` candidates for utterance b, each drawn from the S2P's CTC posterior with probability
    ``s2p_weight`` and from the G2P's otherwise, the component chosen afresh for every candidate.

    ``s2p_weight`` 0 draws from the G2P alone and consumes no extra random numbers (the same draws as a G2P-only
    proposal). The component choices come from the global CPU generator, the CTC paths from the generator of the
    outputs' device: the trainer checkpoints both, so a resumed run draws what an uninterrupted one would.
    """
    check_s2p_weight(s2p_weight)
    if not counts:
        return []
    most = max(counts)
    g2p_samples = ctc_sample(g2p[0].detach(), g2p[1], most)
    if s2p_weight == 0.0:
        return [samples[:n] for samples, n in zip(g2p_samples, counts)]
    from_s2p = (torch.rand(len(counts), most, dtype=torch.float64) < s2p_weight).tolist()
    s2p_samples = ctc_sample(s2p[0].detach(), s2p[1], most)
    return [[(s2p_samples if from_s2p[b][k] else g2p_samples)[b][k] for k in range(n)] for b, n in enumerate(counts)]
