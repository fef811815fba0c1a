"""Scoring: WER/CER/PER with kaldialign, sclite-like details files, and the recipe's ``exp/results.tsv``."""
from __future__ import annotations

from phonasr.scoring.details import format_details, write_details
from phonasr.scoring.error_rate import METRICS, CorpusScore, ErrorCounts, align_tokens, score_texts, tokenize
from phonasr.scoring.results import append_results, format_long, format_wide, read_results
from phonasr.scoring.texts import read_utt_texts

__all__ = [
    "METRICS", "CorpusScore", "ErrorCounts", "align_tokens", "append_results", "format_details", "format_long",
    "format_wide", "read_results", "read_utt_texts", "score_texts", "tokenize", "write_details",
]
