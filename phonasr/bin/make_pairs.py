"""Pair S2P hypotheses with the true text: the training pairs of the P2G and G2P (steps/make_pairs.sh).

    python -m phonasr.bin.make_pairs [--nbest N] [--rejects FILE] S2P_DECODE_DIR CUTS OUT.tsv

For every cut of CUTS, its S2P hypotheses in S2P_DECODE_DIR (written by steps/decode_ctc.sh) paired with the cut's
``supervision.text``, one row ``utt_id<TAB>phones<TAB>text`` each (the format of :mod:`phonasr.batching.pairs`):

* ``--nbest 1`` (SPG init: 1-best of the 10-min fine-tuned S2P on train and dev): the 1-best of hyp.txt, row id
  ``utt_id``;
* ``--nbest N`` (P2G augmentation: the JSA S2P's n-best on train): up to N hypotheses of nbest.txt, row ids
  ``utt_id-rank``, every one paired with the same true text.

A pair with no phonemes or no text cannot train anything, and a cut the decoding missed has no phonemes: these
are written to the rejects file (default OUT with ``.rejects.tsv`` for ``.tsv``; the columns of
:mod:`phonasr.data.rejects`, with the pair file's name as the split) and counted in the log, never dropped
silently. A hypothesis for an utterance that CUTS lacks means the decode dir and the manifest do not belong
together, which is an error. The pairing is :func:`phonasr.decode.pairs.pairs_from_decoding`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from phonasr.decode.pairs import pairs_from_decoding
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("decode_dir", help="S2P decode dir of steps/decode_ctc.sh (hyp.txt, nbest.txt)")
    parser.add_argument("cuts", help="the cut manifest that was decoded; supervision.text is the true text")
    parser.add_argument("out", help="pair file to write: utt_id[-rank]<TAB>phones<TAB>text")
    parser.add_argument("--nbest", type=int, default=1,
                        help="hypotheses per utterance: 1 reads hyp.txt, N > 1 up to N of nbest.txt")
    parser.add_argument("--rejects", default=None, help="rejects file (default: OUT with .rejects.tsv)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    rejects = pairs_from_decoding(args.decode_dir, args.cuts, args.out, args.nbest, args.rejects)
    out = Path(args.out)
    write_run_info(out.parent, f"make_pairs.{out.name}", {**vars(args), "rejects": str(rejects)})


if __name__ == "__main__":
    main()
