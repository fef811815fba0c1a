"""Score the spot-the-word test: does the unit LM give the real word a higher probability than its pseudo-word?

    python -m phonasr.bin.spot_the_word [--device auto] LM_CKPT UNITS PAIRS OUT_DIR
        LM_CKPT  final.pt of a unit_lm training (its units are read as it was trained: runs merged or not)
        UNITS    the units file (phonasr.units.store, kind units) of the spot-the-word cuts
        PAIRS    pairs.tsv of phonasr.bin.make_spot_the_word

Writes into OUT_DIR:
  spot_the_word.tsv          scoring<TAB>pairs<TAB>accuracy: ``sum`` (the sequence log-probability, sWUGGY's
                             score) and ``mean`` (per predicted token, </s> included); ties count half
  spot_the_word.details.tsv  per pair: both log-probabilities, token counts and the credit under each scoring
  spot_the_word.config.yaml / .versions.json
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from phonasr.units.spot_the_word import PairScore, accuracy, evaluate, read_pairs
from phonasr.units.store import load_arrays
from phonasr.units.unit_lm import load_unit_lm
from phonasr.utils.cli import device_name
from phonasr.utils.device import choose_device
from phonasr.utils.io import atomic_write_text, tsv_text
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

logger = logging.getLogger("phonasr.bin.spot_the_word")

SUMMARY = "spot_the_word.tsv"
DETAILS = "spot_the_word.details.tsv"
SCORINGS = (("sum", False), ("mean", True))


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path, help="the unit LM (final.pt of a unit_lm training)")
    parser.add_argument("units", type=Path, help="units file of the spot-the-word cuts")
    parser.add_argument("pairs", type=Path, help="pairs.tsv of phonasr.bin.make_spot_the_word")
    parser.add_argument("out_dir", type=Path, help="where spot_the_word.tsv and the details go")
    parser.add_argument("--device", default="auto", type=device_name, help="auto (cuda when present), cpu, cuda")
    return parser


def detail_rows(scores: Sequence[PairScore]) -> List[Sequence[object]]:
    header = ("pair_id", "word", "pseudo", "word_logprob", "pseudo_logprob", "word_tokens", "pseudo_tokens",
              "credit_sum", "credit_mean")
    return [header, *((s.pair.pair_id, s.pair.word, s.pair.pseudo, f"{s.word_logprob:.4f}",
                       f"{s.pseudo_logprob:.4f}", s.word_tokens, s.pseudo_tokens, s.credit(False), s.credit(True))
                      for s in scores)]


def run(args: argparse.Namespace) -> None:
    lm = load_unit_lm(args.checkpoint, choose_device(args.device))
    units, meta = load_arrays(args.units, "units")
    if meta.get("k") != lm.model.config.num_units:
        raise ValueError(f"{args.units} has k={meta.get('k')} units but {args.checkpoint} models "
                         f"{lm.model.config.num_units}; use units of the k-means the LM was trained on")
    pairs = read_pairs(args.pairs)
    scores = evaluate(lm, units, pairs, str(args.units))
    summary = [("scoring", "pairs", "accuracy")]
    for name, per_token in SCORINGS:
        summary.append((name, len(scores), f"{accuracy(scores, per_token):.2f}"))
        logger.info("spot-the-word accuracy by the %s log-probability: %.2f%% of %d pairs", name,
                    accuracy(scores, per_token), len(scores))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out_dir / DETAILS, tsv_text(detail_rows(scores)))
    atomic_write_text(args.out_dir / SUMMARY, tsv_text(summary))
    write_run_info(args.out_dir, "spot_the_word", {k: str(v) for k, v in vars(args).items()})


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    try:
        run(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
