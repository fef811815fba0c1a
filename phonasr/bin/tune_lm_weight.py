"""Choose an LM weight on dev and apply it to other sets by re-ranking their n-best (steps/tune_lm_weight.sh).

    python -m phonasr.bin.tune_lm_weight [--kind wfst|mls] [--weights "0 0.5 1"] [--metric wer] \\
        DEV_DIR OUT_DIR [NAME=DECODE_DIR ...]

DEV_DIR and every DECODE_DIR are WFST decodings (costs.txt) or MLS rescorings (mls_scores.txt) of the same
system. Writes OUT_DIR/sweep.tsv and sweep.png (weight -> dev error rate), OUT_DIR/weight.txt (the chosen weight)
and the re-ranked decode dirs OUT_DIR/dev and OUT_DIR/NAME (hyp.txt, ref.txt, nbest.txt) for steps/score.sh.
See :mod:`phonasr.decode.weights`.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from phonasr.decode.outputs import read_references
from phonasr.decode.weights import KINDS, apply_weight, choose, read_candidates, sweep, write_sweep
from phonasr.utils.io import atomic_write_text
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

logger = logging.getLogger(__name__)

DEFAULT_WEIGHTS = "0 0.1 0.2 0.3 0.4 0.5 0.6 0.8 1.0 1.2 1.5 2.0 2.5 3.0"


def _weights(value: str) -> List[float]:
    try:
        weights = [float(w) for w in value.replace(",", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--weights takes numbers, e.g. \"0 0.5 1\", got '{value}'") from None
    if not weights or any(w < 0 for w in weights):
        raise argparse.ArgumentTypeError(f"--weights needs one or more weights >= 0, got '{value}'")
    return weights


def _named_dir(value: str) -> Tuple[str, str]:
    name, sep, path = value.partition("=")
    if not sep or not name or not path or "/" in name or name == "dev":
        raise argparse.ArgumentTypeError(f"expected NAME=DECODE_DIR with NAME a set name other than dev "
                                         f"(e.g. test=exp/jsa_lm/decode_test), got '{value}'")
    return name, path


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dev_dir", help="the dev set's decoding: the weight is chosen on it")
    parser.add_argument("out_dir")
    parser.add_argument("apply", nargs="*", type=_named_dir, metavar="NAME=DECODE_DIR",
                        help="sets to re-rank at the chosen weight")
    parser.add_argument("--kind", choices=sorted(KINDS), default="wfst",
                        help="wfst: costs.txt of steps/decode_wfst.sh; mls: mls_scores.txt of steps/mls_rescore.sh")
    parser.add_argument("--weights", type=_weights, default=_weights(DEFAULT_WEIGHTS),
                        help=f"the grid (default: {DEFAULT_WEIGHTS})")
    parser.add_argument("--metric", choices=("wer", "cer", "per"), default="wer", help="what the weight minimises")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    out_dir = Path(args.out_dir)
    dev = read_candidates(args.dev_dir, args.kind), read_references(args.dev_dir)
    points = sweep(*dev, args.weights, args.metric)
    chosen = choose(points)
    for p in points:
        logger.info("LM weight %-5g dev %s %6.2f%s", p.weight, args.metric.upper(), p.error_rate,
                    "  <- chosen" if p == chosen else "")
    write_sweep(points, chosen, out_dir, f"{args.kind.upper()} LM weight on {args.dev_dir}", args.metric)
    atomic_write_text(out_dir / "weight.txt", f"{chosen.weight:g}\n")
    apply_weight(*dev, chosen.weight, out_dir / "dev")
    for name, decode_dir in args.apply:
        apply_weight(read_candidates(decode_dir, args.kind), read_references(decode_dir), chosen.weight,
                     out_dir / name)
    write_run_info(out_dir, "tune_lm_weight", {**vars(args), "apply": [f"{n}={d}" for n, d in args.apply],
                                                "chosen": chosen.weight})
    logger.info("chose LM weight %g (dev %s %.2f); re-ranked %s into %s", chosen.weight, args.metric.upper(),
                chosen.error_rate, ", ".join(["dev"] + [n for n, _ in args.apply]), out_dir)


if __name__ == "__main__":
    main()
