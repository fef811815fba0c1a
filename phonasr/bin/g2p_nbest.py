"""Phoneme n-bests of text-only data from the G2P: the pairs of language-domain adaptation (steps/g2p_nbest.sh).

    python -m phonasr.bin.g2p_nbest --lang pl [--nbest 4] [--beam 16] [--model-name g2p] CHECKPOINT TEXT OUT.tsv

Every line of TEXT (one sentence each) is normalised as CommonVoice preparation normalises transcripts, read by the
G2P (characters in, phonemes out; a JSA final.pt or a G2P of the token task) and decoded with the prefix beam
search. OUT gets one row per hypothesis, ``lda-<line>[-<rank>]<TAB>phones<TAB>text`` (the rank only with
--nbest > 1; line numbers zero-padded so ids sort in file order), the format the P2G's token task trains on.

Rejected, with file and line in the rejects file (default OUT with ``.rejects.tsv``, columns of
:mod:`phonasr.data.rejects`), never dropped silently: lines that normalise to nothing, that hold letters outside
the language's alphabet or characters the G2P's character table lacks, and hypotheses with no phonemes (see
:mod:`phonasr.decode.g2p`, which decodes). Blank lines are skipped but counted.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from phonasr.decode.g2p import g2p_pairs
from phonasr.utils.cli import add_token_model_options
from phonasr.utils.device import choose_device
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="G2P final.pt (token task) or JSA final.pt")
    parser.add_argument("text", help="text file, one sentence per line")
    parser.add_argument("out", help="pair file to write: lda-<line>[-<rank>]<TAB>phones<TAB>text")
    parser.add_argument("--lang", required=True, help="language code for text normalisation, e.g. pl")
    add_token_model_options(parser, "g2p", "character", "phoneme", nbest=4,
                            nbest_help="phoneme hypotheses per sentence (<= beam)")
    parser.add_argument("--rejects", default=None, help="rejects file (default: OUT with .rejects.tsv)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    rejects = g2p_pairs(args.checkpoint, args.text, args.out, args.lang, device=choose_device(args.device),
                        model_name=args.model_name, input_tokenizer_dir=args.input_tokenizer_dir,
                        output_tokenizer_dir=args.output_tokenizer_dir, beam=args.beam, nbest=args.nbest,
                        max_tokens=args.max_tokens, rejects=args.rejects)
    out = Path(args.out)
    write_run_info(out.parent, f"g2p_nbest.{out.name}", {**vars(args), "rejects": str(rejects)})


if __name__ == "__main__":
    main()
