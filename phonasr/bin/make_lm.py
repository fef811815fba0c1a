"""Word n-gram LM for WFST decoding and rescoring (steps/make_lm.sh).

    python -m phonasr.bin.make_lm [--order 4] [--memory 10%] [--eval NAME=TEXT ...] OUT_DIR TEXT [TEXT ...]

Trains a modified Kneser-Ney ARPA with KenLM's lmplz (``--discount_fallback``) on the sentences of the TEXT files
(one normalised sentence per line, e.g. the training transcripts plus domain text) into OUT_DIR/lm.arpa, then
scores every --eval text with the exact ARPA scorer (:mod:`phonasr.lm.arpa`) into OUT_DIR/perplexity.tsv:

    set  sentences  words  oov_words  oov_rate  perplexity

OOV words are scored as <unk>; perplexity counts each sentence's </s>. With --results the same figures become rows
of a recipe's results table (PPL and OOV in percent, each with oov_words/words).
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from phonasr.lm.arpa import read_arpa
from phonasr.lm.evaluate import score_text_file
from phonasr.lm.train import train_arpa
from phonasr.scoring.results import append_results
from phonasr.utils.io import atomic_write_text, tsv_text
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

logger = logging.getLogger(__name__)

ARPA_FILE, PERPLEXITY_FILE = "lm.arpa", "perplexity.tsv"


def _named_text(value: str) -> Tuple[str, str]:
    name, sep, path = value.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"--eval takes NAME=TEXT (e.g. dev=data/dev.txt), got '{value}'")
    return name, path


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", help="where lm.arpa and perplexity.tsv go")
    parser.add_argument("texts", nargs="+", help="training text files, one sentence per line")
    parser.add_argument("--order", type=int, default=4, help="n-gram order")
    parser.add_argument("--memory", default="10%", help="lmplz's -S: RAM for sorting (e.g. 10%%, 2G)")
    parser.add_argument("--eval", type=_named_text, action="append", default=[], metavar="NAME=TEXT",
                        help="a text to report perplexity and OOV rate on (repeatable)")
    parser.add_argument("--results", default=None,
                        help="also add rows SYSTEM NAME PPL and SYSTEM NAME OOV (%% of words) to this results table")
    parser.add_argument("--system", default="lm", help="the system name of those rows")
    return parser


def evaluate(arpa: Path, evals: Sequence[Tuple[str, str]], out: Path, results: Optional[str] = None,
             system: str = "lm") -> List[List[object]]:
    lm = read_arpa(arpa)
    rows: List[List[object]] = [["set", "sentences", "words", "oov_words", "oov_rate", "perplexity"]]
    for name, path in evals:
        score = score_text_file(lm, path)
        rows.append([name, score.sentences, score.words, score.oov_words, f"{score.oov_rate:.4f}",
                     f"{score.perplexity:.2f}"])
        logger.info("%s (%s): perplexity %.2f, OOV rate %.2f%% (%d of %d words)", name, path, score.perplexity,
                    100 * score.oov_rate, score.oov_words, score.words)
        if results:
            append_results(results, system, name, "ppl", score.perplexity, score.oov_words, score.words, out)
            append_results(results, system, name, "oov", 100 * score.oov_rate, score.oov_words, score.words, out)
    atomic_write_text(out, tsv_text(rows))
    return rows


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    out_dir = Path(args.out_dir)
    arpa = train_arpa(args.texts, out_dir / ARPA_FILE, order=args.order, memory=args.memory)
    evaluate(arpa, args.eval, out_dir / PERPLEXITY_FILE, args.results, args.system)
    write_run_info(out_dir, "make_lm", vars(args))


if __name__ == "__main__":
    main()
