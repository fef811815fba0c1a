"""Marginal-likelihood rescoring of an LM decoding's n-best (steps/mls_rescore.sh).

    python -m phonasr.bin.mls_rescore [--lm-weight 0.5] [--num-samples 10] [--seed 0] [--nbest 64]
                                      CHECKPOINT NBEST_DIR S2P_DIR LM_ARPA OUT_DIR

CHECKPOINT holds the P2G and G2P (a JSA final.pt: models p2g and g2p); NBEST_DIR is a WFST decoding of the P2G
route (steps/decode_wfst.sh: nbest.txt, ref.txt); S2P_DIR the S2P decoding of the same utterances saved with
--save-logprobs true (its logprobs.pt gives p(h|x)). Each hypothesis y scores
log (1/K) sum_k p(h_k|x) p(y|h_k) / q(h_k|y) + λ·log P_LM(y), h_k ~ q(h|y) (see :mod:`phonasr.decode.mls`).
OUT_DIR gets hyp.txt, ref.txt, nbest.txt (re-ranked) and mls_scores.txt (utt, rank, log p(y|x), LM log-prob).
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from phonasr.decode.mls import MlsOptions, mls_rescore_dir
from phonasr.utils.cli import device_name
from phonasr.utils.device import choose_device
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="JSA final.pt (or any checkpoint holding a p2g and a g2p model)")
    parser.add_argument("nbest_dir", help="WFST decode dir of the P2G route (nbest.txt, ref.txt)")
    parser.add_argument("s2p_dir", help="S2P decode dir with logprobs.pt")
    parser.add_argument("arpa", help="word LM for the λ·LM term")
    parser.add_argument("out_dir")
    parser.add_argument("--lm-weight", type=float, default=0.5, help="λ of λ·log P_LM(y), natural log")
    parser.add_argument("--num-samples", type=int, default=10, help="K phoneme samples from the G2P per hypothesis")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (same seed, same scores)")
    parser.add_argument("--nbest", type=int, default=64, help="hypotheses read per utterance")
    parser.add_argument("--max-pairs", type=int, default=4096, help="(hypothesis, sample) pairs per batch")
    parser.add_argument("--p2g-model", default=None, help="P2G model in the checkpoint (default: p2g)")
    parser.add_argument("--g2p-model", default=None, help="G2P model in the checkpoint (default: g2p)")
    parser.add_argument("--g2p-checkpoint", default=None,
                        help="the G2P's checkpoint when it is not the P2G's (e.g. SPG init's exp/g2p_init/final.pt)")
    parser.add_argument("--device", default="auto", type=device_name,
                        help="auto (cuda when present), cpu, cuda, cuda:N")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    if args.num_samples < 1:
        raise SystemExit(f"--num-samples must be >= 1, got {args.num_samples}")
    opts = MlsOptions(lm_weight=args.lm_weight, num_samples=args.num_samples, seed=args.seed,
                      max_pairs=args.max_pairs)
    mls_rescore_dir(args.nbest_dir, args.s2p_dir, args.checkpoint, args.arpa, args.out_dir,
                    device=choose_device(args.device), opts=opts, nbest=args.nbest, p2g_name=args.p2g_model,
                    g2p_name=args.g2p_model, g2p_checkpoint=args.g2p_checkpoint)
    write_run_info(args.out_dir, "mls_rescore", vars(args))


if __name__ == "__main__":
    main()
