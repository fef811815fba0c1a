"""S2P -> P2G decoding without an LM (steps/decode_p2g.sh): the S2P's phonemes in, words out.

    python -m phonasr.bin.decode_p2g [--beam 16] [--nbest 1] [--nbest-in 1] [--model-name p2g] [--cuts CUTS]
                                     CHECKPOINT S2P_DECODE_DIR OUT_DIR

CHECKPOINT is a P2G of the token task (its final.pt) or a JSA final.pt (the model ``p2g`` in it); the model's
``model_specs`` entry names its phoneme (input) and BPE (output) lang dirs. Writes into OUT_DIR:

  hyp.txt      utt<TAB>words           the best hypothesis, BPE pieces joined into words
  ref.txt      utt<TAB>words           supervision.text of --cuts; without --cuts the S2P dir's ref.txt, which must
                                       hold text (its decoding recorded --ref-field text)
  nbest.txt    utt<TAB>rank<TAB>score<TAB>words
  logprobs.pt  {input id: (T', V) float32 P2G log-posteriors}, with --save-logprobs true (for WFST / MLS); the input
               id is the utterance, or utt-rank for the S2P's rank-th hypothesis with --nbest-in > 1
  decode_p2g.config.yaml / decode_p2g.versions.json

With --nbest-in 1 (the paper's decoding) the score is the P2G's log P(y | h) of the S2P 1-best h; with --nbest-in K
it is log sum_k P(h_k | x) P(y | h_k) over the S2P's K best (see :mod:`phonasr.decode.p2g`, which decodes).
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from phonasr.decode.p2g import decode_s2p_dir
from phonasr.utils.cli import add_token_model_options, str2bool
from phonasr.utils.device import choose_device
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="P2G final.pt (token task) or JSA final.pt")
    parser.add_argument("s2p_dir", help="S2P decode dir (hyp.txt; nbest.txt for --nbest-in > 1)")
    parser.add_argument("out_dir", help="where hyp.txt, ref.txt, nbest.txt (and logprobs.pt) go")
    add_token_model_options(parser, "p2g", "phoneme", "BPE", nbest=1,
                            nbest_help="hypotheses per utterance in nbest.txt")
    parser.add_argument("--cuts", default=None, help="cut manifest whose supervision.text are the references")
    parser.add_argument("--nbest-in", type=int, default=1,
                        help="S2P hypotheses read per utterance: 1 = hyp.txt, K > 1 = K best of nbest.txt, combined")
    parser.add_argument("--save-logprobs", type=str2bool, default=False,
                        help="true: also write the P2G log-posteriors to logprobs.pt")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    decode_s2p_dir(args.checkpoint, args.s2p_dir, args.out_dir, device=choose_device(args.device),
                   model_name=args.model_name, input_tokenizer_dir=args.input_tokenizer_dir,
                   output_tokenizer_dir=args.output_tokenizer_dir, cuts=args.cuts, beam=args.beam, nbest=args.nbest,
                   nbest_in=args.nbest_in, max_tokens=args.max_tokens, save_logprobs=args.save_logprobs)
    write_run_info(args.out_dir, "decode_p2g", vars(args))


if __name__ == "__main__":
    main()
