"""Discrete-token ASR decoding (steps/decode_units.sh): a test set's k-means units in, a decode dir of words out.

    python -m phonasr.bin.decode_units [--dedup true] [--beam 16] [--nbest 1] CHECKPOINT UNITS CUTS OUT_DIR

CHECKPOINT is a token ASR of the token_ctc task (its input lang dir the unit lang dir of make_unit_pairs), UNITS
the units file of the cuts of CUTS, computed as the training units were (same encoder, layer and k-means), and
--dedup as the training pairs had it. Writes into OUT_DIR the decode dir of :mod:`phonasr.decode.outputs`, scored
with steps/score.sh (WER and CER):

  hyp.txt, ref.txt, nbest.txt   words; references: supervision.text of CUTS
  units/                        the units as the 1-best input "hypotheses" the P2G decoder read
  decode_units.config.yaml / decode_units.versions.json

The decoding is the P2G's (:func:`phonasr.units.token_asr.decode_units` -> :mod:`phonasr.decode.p2g`).
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from phonasr.units.token_asr import decode_units
from phonasr.utils.cli import add_token_model_options, str2bool
from phonasr.utils.device import choose_device
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="token ASR final.pt (token_ctc task over a unit lang dir)")
    parser.add_argument("units", help="units file of the cuts of CUTS")
    parser.add_argument("cuts", help="the cut manifest; supervision.text is the reference")
    parser.add_argument("out_dir", help="where hyp.txt, ref.txt, nbest.txt go")
    add_token_model_options(parser, "token_asr", "unit", "character/BPE", nbest=1,
                            nbest_help="hypotheses per utterance in nbest.txt")
    parser.add_argument("--dedup", type=str2bool, default=True,
                        help="true: merge runs of the same unit, as the training pairs must have done")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    try:
        decode_units(args.checkpoint, args.units, args.cuts, args.out_dir, dedup=args.dedup,
                     device=choose_device(args.device), model_name=args.model_name,
                     input_tokenizer_dir=args.input_tokenizer_dir, output_tokenizer_dir=args.output_tokenizer_dir,
                     beam=args.beam, nbest=args.nbest, max_tokens=args.max_tokens)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    write_run_info(args.out_dir, "decode_units", vars(args))


if __name__ == "__main__":
    main()
