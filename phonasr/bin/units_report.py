"""Write a units recipe's ``exp/RESULTS_units.md`` (its stage 13) from the TSVs its stages left.

    python -m phonasr.bin.units_report [--abx-set test] EXP_DIR

See :mod:`phonasr.units.report` for what is read and how it is laid out.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Optional, Sequence

from phonasr.units.report import units_report
from phonasr.utils.io import atomic_write_text
from phonasr.utils.logging import setup_logging

log = logging.getLogger(__name__)


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("exp_dir", help="the recipe's exp/")
    parser.add_argument("--abx-set", default="test", help="the set ABX, purity and the token ASR were measured on")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    try:
        text = units_report(args.exp_dir, args.abx_set)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    out = Path(args.exp_dir) / "RESULTS_units.md"
    atomic_write_text(out, text)
    log.info("wrote %s", out)


if __name__ == "__main__":
    main()
