"""Write a finished run's RESULTS.md and its plots (utils/make_report.sh).

    python -m phonasr.bin.make_report [--exp exp] [--out EXP/RESULTS.md] [--test-set test] [--seed 0] \\
        [--bootstrap 1000] [--jsa-dir EXP/jsa]

Reads EXP/results.tsv (the last row of each system, test set and metric), the details files it names and the JSA
run's TensorBoard scalars; writes OUT and, beside it, OUT's stem + ``_plots/`` (wer_bars.png, jsa_curves.png).
See :mod:`phonasr.report`.
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Optional, Sequence

from phonasr.report.build import make_report
from phonasr.utils.logging import setup_logging

logger = logging.getLogger(__name__)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got '{value}'")
    return int(value)


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exp", default="exp", help="the run's exp dir, holding results.tsv (default: exp)")
    parser.add_argument("--out", default=None, help="the report to write (default: EXP/RESULTS.md)")
    parser.add_argument("--test-set", default="test", help="the test set of the paper columns, bars and "
                        "significance tests (default: test)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap resampling (default: 0)")
    parser.add_argument("--bootstrap", type=_positive, default=1000, help="bootstrap resamples (default: 1000)")
    parser.add_argument("--jsa-dir", default=None, help="the JSA training whose curves to plot (default: EXP/jsa)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    try:
        out = make_report(args.exp, args.out or f"{args.exp}/RESULTS.md", args.test_set, args.bootstrap, args.seed,
                          args.jsa_dir)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    logger.info("wrote %s (plots in %s_plots/)", out, out.with_suffix(""))


if __name__ == "__main__":
    main()
