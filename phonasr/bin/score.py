"""Scoring worker: ``compute`` an error rate for one decoding, or print the recipe's results ``table``.

compute:  python -m phonasr.bin.score compute --metric per REF HYP OUT_DIR [--system S] [--test-set T]
          [--results exp/results.tsv]
          REF/HYP: ``utt-id<TAB>text`` lines. Writes OUT_DIR/errs-T-METRIC.txt (sclite-like details) and
          OUT_DIR/summary-T-METRIC.txt (the %WER line), prints the summary line and appends/replaces the
          row of S/T/METRIC in the results table. Defaults: S = name of OUT_DIR's parent (exp/<system>/...),
          T = name of OUT_DIR without a ``decode_`` prefix.
table:    python -m phonasr.bin.score table [--layout wide|long] exp/results.tsv
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import List

from phonasr.scoring import (
    METRICS,
    append_results,
    format_long,
    format_wide,
    read_results,
    read_utt_texts,
    score_texts,
    write_details,
)
from phonasr.utils.io import atomic_write_text
from phonasr.utils.logging import setup_logging

logger = logging.getLogger("phonasr.bin.score")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    compute = sub.add_parser("compute", help="score a hypothesis file against a reference file")
    compute.add_argument("ref", help="reference: utt-id<TAB>text per line")
    compute.add_argument("hyp", help="hypothesis: utt-id<TAB>text per line")
    compute.add_argument("out_dir", help="where errs-*.txt and summary-*.txt go")
    compute.add_argument("--metric", default="wer", choices=METRICS,
                         help="wer: words; cer: characters without spaces; per: space-separated phonemes")
    compute.add_argument("--system", default=None, help="system name in the results table (default: parent dir)")
    compute.add_argument("--test-set", default=None, help="test set name (default: out dir without 'decode_')")
    compute.add_argument("--results", default="exp/results.tsv", help="results table to update; '' = none")

    table = sub.add_parser("table", help="print a results table aligned")
    table.add_argument("results", nargs="?", default="exp/results.tsv")
    table.add_argument("--layout", default="wide", choices=("wide", "long"),
                       help="wide: systems x (test set, metric); long: every column of the TSV")
    return parser


def run_compute(args: argparse.Namespace) -> None:
    out_dir = Path(args.out_dir)
    resolved = out_dir.resolve()
    system = args.system or resolved.parent.name
    test_set = args.test_set or resolved.name.removeprefix("decode_")
    refs, hyps = read_utt_texts(args.ref), read_utt_texts(args.hyp)
    try:
        score = score_texts(refs, hyps, args.metric)
    except ValueError as e:
        raise SystemExit(f"score: {args.hyp} vs {args.ref}: {e}") from e
    if score.missing:
        logger.warning("%d of %d utterances have no hypothesis in %s; scored as all deletions (listed in the "
                       "details): %s", len(score.missing), len(refs), args.hyp, " ".join(score.missing[:10]))
    name = f"{test_set}-{args.metric}"
    details = out_dir / f"errs-{name}.txt"
    write_details(details, score, f"{system}/{test_set}")
    line = score.counts.summary_line(args.metric)
    atomic_write_text(out_dir / f"summary-{name}.txt", line + "\n")
    if args.results:
        append_results(args.results, system, test_set, args.metric, score.counts.rate, score.counts.errors,
                       score.counts.ref_len, details)
    print(f"{system} {test_set} {line}")


def run_table(args: argparse.Namespace) -> None:
    rows = read_results(args.results)
    if not Path(args.results).is_file():
        logger.warning("%s does not exist yet: no scoring stage has run", args.results)
    sys.stdout.write(format_wide(rows) if args.layout == "wide" else format_long(rows))


def main(argv: List[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging()
    if args.command == "compute":
        run_compute(args)
    else:
        run_table(args)


if __name__ == "__main__":
    main(sys.argv[1:])
