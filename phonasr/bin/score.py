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
import sys
from typing import List

from phonasr.scoring import METRICS
from phonasr.scoring.report import results_table, score_decoding
from phonasr.utils.logging import setup_logging


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


def main(argv: List[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging()
    if args.command == "compute":
        try:
            print(score_decoding(args.ref, args.hyp, args.out_dir, args.metric, args.system, args.test_set,
                                 args.results))
        except ValueError as e:
            raise SystemExit(f"score: {e}") from e
    else:
        sys.stdout.write(results_table(args.results, args.layout))


if __name__ == "__main__":
    main(sys.argv[1:])
