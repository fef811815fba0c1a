"""Pair k-means unit sequences with the true text: the discrete-token ASR's training pairs (steps/make_unit_pairs.sh).

    python -m phonasr.bin.make_unit_pairs [--dedup true] [--lang-dir DIR] [--target-lang-dir DIR --upsample R]
                                          [--rejects FILE] UNITS CUTS OUT.tsv

UNITS is a ``units`` file of the units stages (int64 unit ids per encoder frame per cut, ``meta['k']``), CUTS the
manifest they were computed from. Writes OUT.tsv, one row ``utt_id<TAB>u3 u17 ...<TAB>text`` per cut (the pair
format of :mod:`phonasr.batching.pairs`, which the token_ctc task trains on), and the rejects file (default OUT
with ``.rejects.tsv``): cuts without units, with empty text, and with --target-lang-dir those whose units (times
--upsample) are too few for CTC to emit their text. The log gives the units-per-character ratio that --upsample
must exceed.

--dedup true merges runs of the same unit (train and test must agree). --lang-dir writes the unit lang dir of the
file's k (symbols u0..u{k-1}), the token ASR's input_tokenizer, or checks an existing one holds exactly them.
The pairing is :func:`phonasr.units.token_asr.unit_pairs`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from phonasr.tokenizers import load_tokenizer
from phonasr.units.store import load_units
from phonasr.units.token_asr import CtcTarget, make_unit_lang_dir, unit_pairs
from phonasr.utils.cli import str2bool
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("units", help="units file (phonasr.units.store kind 'units') of the cuts of CUTS")
    parser.add_argument("cuts", help="the cut manifest the units were computed from; supervision.text is the output")
    parser.add_argument("out", help="pair file to write: utt_id<TAB>units<TAB>text")
    parser.add_argument("--dedup", type=str2bool, default=True, help="true: merge runs of the same unit")
    parser.add_argument("--lang-dir", default=None, help="write (or check) the unit lang dir of the file's k here")
    parser.add_argument("--target-lang-dir", default=None,
                        help="output lang dir (characters, BPE): reject cuts with too few units for CTC against it")
    parser.add_argument("--upsample", type=int, default=1,
                        help="the token ASR's model.upsample, for the --target-lang-dir check (default 1)")
    parser.add_argument("--rejects", default=None, help="rejects file (default: OUT with .rejects.tsv)")
    return parser


def run(args: argparse.Namespace) -> None:
    if args.upsample < 1:
        raise ValueError(f"--upsample must be >= 1, got {args.upsample}")
    if args.lang_dir:
        make_unit_lang_dir(load_units(args.units)[1]["k"], args.lang_dir)
    target = CtcTarget(load_tokenizer(args.target_lang_dir), args.upsample) if args.target_lang_dir else None
    stats = unit_pairs(args.units, args.cuts, args.out, dedup=args.dedup, target=target, rejects=args.rejects)
    out = Path(args.out)
    write_run_info(out.parent, f"make_unit_pairs.{out.name}",
                   {**vars(args), "pairs": stats.pairs, "too_short": len(stats.too_short),
                    "units_per_character": round(stats.units_per_character, 4)})


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    try:
        run(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
