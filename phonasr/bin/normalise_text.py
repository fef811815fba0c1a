"""Normalise a text-only file (one sentence per line) as corpus preparation normalises transcripts.

    python -m phonasr.bin.normalise_text --lang pl IN_TEXT OUT_TEXT

Why: a word LM trained on the training transcripts plus domain text (the recipe's adaptation LM) must see the domain
text in the same form as the transcripts and references (case-folded, no punctuation), or its words never match
theirs. Lines that normalise to nothing or hold letters outside the language's alphabet are left out, as corpus
preparation and the G2P n-best of the same text (steps/g2p_nbest.sh) leave them out; their number is logged.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

from phonasr.text.normalise import normalise_text
from phonasr.utils.io import atomic_write_text
from phonasr.utils.logging import setup_logging

log = logging.getLogger(__name__)


def normalised_lines(lines: Iterable[str], lang: str) -> Tuple[List[str], int]:
    """(the usable lines normalised, how many were left out); blank lines are neither."""
    kept: List[str] = []
    dropped = 0
    for line in lines:
        if not line.strip():
            continue
        norm = normalise_text(line, lang)
        if norm.text and not norm.foreign_chars:
            kept.append(norm.text)
        else:
            dropped += 1
    return kept, dropped


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("text", type=Path, help="one sentence per line")
    parser.add_argument("out", type=Path, help="the normalised sentences, one per line")
    parser.add_argument("--lang", required=True, help="language of the text (its alphabet and case rules)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    kept, dropped = normalised_lines(args.text.read_text(encoding="utf-8").splitlines(), args.lang)
    atomic_write_text(args.out, "".join(line + "\n" for line in kept))
    log.info("%s: %d sentences normalised into %s, %d left out (empty or foreign letters)", args.text, len(kept),
             args.out, dropped)


if __name__ == "__main__":
    main()
