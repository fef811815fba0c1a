"""Health statistics of the JSA chains, logged every step.

A working JSA run shows a high acceptance rate (the reference saw 0.95-0.99), a fraction of changed cache entries
that falls as the models agree, proposals that come closer to the cache (proposal PER), and a cache that comes
closer to the true phonemes wherever those are known (cache PER).
"""
from __future__ import annotations

from typing import Optional, Sequence

import kaldialign


def phone_error_rate(refs: Sequence[Sequence[int]], hyps: Sequence[Sequence[int]]) -> Optional[float]:
    """Corpus PER in percent of ``hyps`` against ``refs`` (token id lists); None when there is nothing to score."""
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    errors = ref_len = 0
    for ref, hyp in zip(refs, hyps):
        errors += kaldialign.edit_distance(list(ref), list(hyp))["total"]
        ref_len += len(ref)
    if not refs:
        return None
    return 100.0 * errors / max(ref_len, 1)
