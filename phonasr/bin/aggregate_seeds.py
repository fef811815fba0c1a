"""The results over seeds of utils/run_seeds.sh: mean ± std per system, test set and metric.

    python -m phonasr.bin.aggregate_seeds [--test-set test] SEEDS_DIR

Reads SEEDS_DIR/<N>/exp/results.tsv of every seed N (the last row of each system, test set and metric) and, for
the rows the shared stages scored, SEEDS_DIR/../exp/results.tsv; writes SEEDS_DIR/results_seeds.tsv (mean, sample
std, n, min, max and each seed's value) and SEEDS_DIR/RESULTS_seeds.md (the paper's rows, cells "mean ± std (n)"),
which utils/make_report.sh also puts into RESULTS.md. See :mod:`phonasr.report.seeds`.
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Optional, Sequence

from phonasr.report.seeds import write_aggregate
from phonasr.utils.logging import setup_logging

logger = logging.getLogger(__name__)


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("seeds_dir", help="<root>/seeds of utils/run_seeds.sh: one <N>/ per seed")
    parser.add_argument("--test-set", default="test", help="the test set shown first (default: test)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    try:
        tsv, md = write_aggregate(args.seeds_dir, args.test_set)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    logger.info("wrote %s and %s", tsv, md)


if __name__ == "__main__":
    main()
