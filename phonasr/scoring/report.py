"""Scoring one decoding into its files and the recipe's results table, and printing that table.

A decoding ``exp/<system>/decode_<test set>`` scored with metric M gets ``errs-<test set>-M.txt`` (sclite-like
details), ``summary-<test set>-M.txt`` (the %WER line) and its row in ``exp/results.tsv``.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

from phonasr.scoring.details import write_details
from phonasr.scoring.error_rate import score_texts
from phonasr.scoring.results import append_results, format_long, format_wide, read_results
from phonasr.scoring.texts import read_utt_texts
from phonasr.utils.io import atomic_write_text

logger = logging.getLogger(__name__)


def score_decoding(ref: str, hyp: str, out_dir: str | Path, metric: str, system: Optional[str] = None,
                   test_set: Optional[str] = None, results: Optional[str] = None) -> str:
    """Score the ``utt<TAB>text`` file ``hyp`` against ``ref`` into ``out_dir`` and, when ``results`` names a table,
    its row there. ``system`` defaults to the name of ``out_dir``'s parent (exp/<system>/...), ``test_set`` to the
    name of ``out_dir`` without a ``decode_`` prefix. Returns the line ``system test_set summary``."""
    out_dir = Path(out_dir)
    resolved = out_dir.resolve()
    system = system or resolved.parent.name
    test_set = test_set or resolved.name.removeprefix("decode_")
    refs, hyps = read_utt_texts(ref), read_utt_texts(hyp)
    try:
        score = score_texts(refs, hyps, metric)
    except ValueError as e:
        raise ValueError(f"{hyp} vs {ref}: {e}") from e
    if score.missing:
        logger.warning("%d of %d utterances have no hypothesis in %s; scored as all deletions (listed in the "
                       "details): %s", len(score.missing), len(refs), hyp, " ".join(score.missing[:10]))
    name = f"{test_set}-{metric}"
    details = out_dir / f"errs-{name}.txt"
    write_details(details, score, f"{system}/{test_set}")
    line = score.counts.summary_line(metric)
    atomic_write_text(out_dir / f"summary-{name}.txt", line + "\n")
    if results:
        append_results(results, system, test_set, metric, score.counts.rate, score.counts.errors,
                       score.counts.ref_len, details)
    return f"{system} {test_set} {line}"


def results_table(path: str | Path, layout: str = "wide") -> str:
    """The results table aligned: ``wide`` systems x (test set, metric), ``long`` every column of the TSV."""
    rows = read_results(path)
    if not Path(path).is_file():
        logger.warning("%s does not exist yet: no scoring stage has run", path)
    return format_wide(rows) if layout == "wide" else format_long(rows)
