"""CTC toolkit: loss (torch / k2 backends), exact sampling, forced alignment, greedy and prefix beam search.

Every function takes batched (B, T, V) log-probabilities with (B,) valid lengths, blank = id 0, and runs on
the device of its inputs. Importable on Python 3.9 + torch 1.12 (the k2 environment) as well as the main one.
"""
from __future__ import annotations

from phonasr.ctc.align import forced_align
from phonasr.ctc.common import BLANK, min_ctc_frames
from phonasr.ctc.loss import BACKENDS, ctc_loss, k2_available
from phonasr.ctc.sampling import ctc_sample
from phonasr.ctc.search import Hypothesis, greedy_search, prefix_beam_search

__version__ = "0.1"
__all__ = ["BACKENDS", "BLANK", "Hypothesis", "ctc_loss", "ctc_sample", "forced_align", "greedy_search",
           "k2_available", "min_ctc_frames", "prefix_beam_search"]
