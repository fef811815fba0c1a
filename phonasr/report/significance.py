"""Paired bootstrap over utterances (Bisani & Ney, ICASSP 2004) between two systems on one test set.

Two systems decoded the same utterances, so their errors are paired: resampling utterances with replacement and
recomputing both corpus error rates on each resample keeps the pairing, and the spread of the difference says
how much of it could come from which sentences happened to be in the test set. Corpus rates are pooled counts
(sum of errors / sum of reference units), as in the results table, not means of utterance rates.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from phonasr.scoring.error_rate import ErrorCounts

CHUNK = 200  # resamples drawn at once: bounds memory to CHUNK x utterances indices


@dataclass(frozen=True)
class BootstrapResult:
    rate_a: float  # corpus error rate (%) of system A on the full test set
    rate_b: float
    delta: float  # rate_b - rate_a, in absolute points: negative when B is better
    ci_low: float  # 2.5th and 97.5th percentiles of the resampled delta
    ci_high: float
    p_b_better: float  # share of resamples in which B has the lower error rate (ties count half)
    utterances: int
    resamples: int


def _rate(errors: np.ndarray, ref_len: np.ndarray) -> np.ndarray:
    return 100.0 * errors / np.maximum(ref_len, 1)


def paired_bootstrap(a: Mapping[str, ErrorCounts], b: Mapping[str, ErrorCounts], resamples: int = 1000,
                     seed: int = 0) -> BootstrapResult:
    """Bootstrap ``resamples`` test sets from the utterances that ``a`` and ``b`` (per-utterance counts, e.g.
    :func:`phonasr.scoring.details.read_utterance_counts`) both scored; the same ``seed`` gives the same result.
    Both must cover the same utterances with the same references: anything else is not a paired comparison."""
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if only_a or only_b:
        raise ValueError(f"the systems scored different utterances: only in A {len(only_a)} "
                         f"({' '.join(only_a[:10])}), only in B {len(only_b)} ({' '.join(only_b[:10])})")
    if not a:
        raise ValueError("no utterances to compare")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    utts = sorted(a)
    differ = [u for u in utts if a[u].ref_len != b[u].ref_len]
    if differ:
        raise ValueError(f"{len(differ)} utterances have references of different lengths in A and B (scored with "
                         f"different references or metrics?): {' '.join(differ[:10])}")
    ref_len = np.array([a[u].ref_len for u in utts], dtype=np.int64)
    err_a = np.array([a[u].errors for u in utts], dtype=np.int64)
    err_b = np.array([b[u].errors for u in utts], dtype=np.int64)
    rng = np.random.default_rng(seed)
    deltas = []
    for start in range(0, resamples, CHUNK):
        idx = rng.integers(0, len(utts), size=(min(CHUNK, resamples - start), len(utts)))
        refs = ref_len[idx].sum(axis=1)
        deltas.append(_rate(err_b[idx].sum(axis=1), refs) - _rate(err_a[idx].sum(axis=1), refs))
    delta = np.concatenate(deltas)
    rate_a, rate_b = float(_rate(err_a.sum(), ref_len.sum())), float(_rate(err_b.sum(), ref_len.sum()))
    low, high = np.percentile(delta, [2.5, 97.5])
    return BootstrapResult(rate_a=rate_a, rate_b=rate_b, delta=rate_b - rate_a, ci_low=float(low),
                           ci_high=float(high), p_b_better=float(np.mean(delta < 0) + 0.5 * np.mean(delta == 0)),
                           utterances=len(utts), resamples=resamples)
