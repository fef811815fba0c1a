"""An oracle decode dir (steps/oracle_decode.sh): the references of a cut manifest written as if decoded.

    python -m phonasr.bin.oracle_decode [--ref-field phones] CUTS OUT_DIR

OUT_DIR gets hyp.txt = ref.txt = nbest.txt (score 0) and decode.config.yaml recording the field, like a
steps/decode_ctc.sh decoding. A P2G decoded from it (steps/decode_p2g.sh) reads the true phonemes: the P2G's own
error, the ceiling of every S2P -> P2G system.
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Optional, Sequence

from phonasr.decode.outputs import CTC_RUN_INFO
from phonasr.decode.references import REF_FIELDS, write_oracle_dir
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

log = logging.getLogger(__name__)


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cuts", help="cut manifest whose supervisions are the references")
    parser.add_argument("out_dir", help="the decode dir to write")
    parser.add_argument("--ref-field", choices=REF_FIELDS, default="phones",
                        help="what the hypotheses are: the true phonemes (default) or the text")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    n = write_oracle_dir(args.cuts, args.out_dir, args.ref_field)
    write_run_info(args.out_dir, CTC_RUN_INFO, {"cuts": args.cuts, "ref_field": args.ref_field, "oracle": True})
    log.info("wrote the %s of %d utterances of %s as the hypotheses of %s", args.ref_field, n, args.cuts,
             args.out_dir)


if __name__ == "__main__":
    main()
