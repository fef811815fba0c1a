"""ctc_sample must draw label sequences with exactly their CTC probabilities."""
from __future__ import annotations

import collections

import torch

from phonasr.ctc import ctc_loss, ctc_sample
from tests.ctc import brute

NUM_SAMPLES = 20000


def test_empirical_distribution_matches_exact_ctc_probabilities():
    # T=4, V=3: 31 label sequences; a second, shorter utterance checks that padding is ignored
    log_probs = brute.random_log_probs(2, 4, 3, seed=10, sharpness=1.0)
    lengths = torch.tensor([4, 2])
    samples = ctc_sample(log_probs, lengths, NUM_SAMPLES, generator=torch.Generator().manual_seed(0))
    assert len(samples) == 2 and all(len(s) == NUM_SAMPLES for s in samples)
    for b in range(2):
        exact = brute.label_log_probs(log_probs[b, : lengths[b]])
        seqs = sorted(exact)
        # the same probabilities from ctc_loss: exp(-loss) over all label sequences sums to one
        loss = ctc_loss(log_probs[b:b + 1].expand(len(seqs), -1, -1), lengths[b:b + 1].expand(len(seqs)),
                        [list(s) for s in seqs], backend="torch")
        probs = dict(zip(seqs, torch.exp(-loss).tolist()))
        assert abs(sum(probs.values()) - 1.0) < 1e-5
        counts = collections.Counter(tuple(s) for s in samples[b])
        assert set(counts) <= set(probs), "sampled a sequence with zero probability"
        tv = 0.5 * sum(abs(counts[s] / NUM_SAMPLES - p) for s, p in probs.items())
        # about 0.02 expected from sampling noise; a sampler that skips collapsing or ignores lengths is far off
        assert tv < 0.04, f"total variation {tv:.4f} between sampled and exact CTC distributions"


def test_generator_makes_samples_reproducible():
    log_probs = brute.random_log_probs(3, 8, 5, seed=11)
    lengths = torch.tensor([8, 5, 1])
    first = ctc_sample(log_probs, lengths, 4, generator=torch.Generator().manual_seed(7))
    again = ctc_sample(log_probs, lengths, 4, generator=torch.Generator().manual_seed(7))
    assert first == again
    assert all(len(seq) <= 1 for seq in first[2])  # one valid frame: at most one label


def test_padded_frames_holding_nan_are_ignored():
    log_probs = brute.random_log_probs(1, 6, 4, seed=12)
    log_probs[0, 3:] = float("nan")
    samples = ctc_sample(log_probs, torch.tensor([3]), 50, generator=torch.Generator().manual_seed(0))
    assert all(len(seq) <= 3 for seq in samples[0])
