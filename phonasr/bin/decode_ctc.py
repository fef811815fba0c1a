"""CTC decoding worker for steps/decode_ctc.sh: ``decode`` one shard of a feature manifest, ``merge`` the shards.

decode:  python -m phonasr.bin.decode_ctc decode [--beam 16] [--nbest 1] [--shard J/N] CKPT CUTS OUT_DIR
         decodes the cuts J, J+N, J+2N, ... (1-based J) of CUTS (lhotse cuts with precomputed features, or with
         audio and --on-the-fly-fbank BACKEND) with the prefix beam search and writes into OUT_DIR:
           hyp.txt     utt<TAB>text        1-best, detokenised by the checkpoint's tokenizer
           ref.txt     utt<TAB>text        supervision.text or supervision.custom["phones"] (--ref-field)
           nbest.txt   utt<TAB>rank<TAB>log-prob<TAB>text
           logprobs.pt {utt: (T', V) float32 log-posteriors}   with --save-logprobs true (for WFST/MLS decoding)
           decode.config.yaml / decode.versions.json
merge:   python -m phonasr.bin.decode_ctc merge CUTS OUT_DIR SHARD_DIR...
         joins the shards' files into OUT_DIR, sorted by utterance, and checks every cut was decoded once.

The decoding is :func:`phonasr.decode.ctc.decode_cuts`, the directory :mod:`phonasr.decode.outputs`.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional, Tuple

import torch

from phonasr.decode.ctc import decode_cuts, merge_decoding
from phonasr.decode.outputs import CTC_RUN_INFO
from phonasr.decode.references import REF_FIELDS
from phonasr.utils.cli import device_name, str2bool, thread_count
from phonasr.utils.device import choose_device
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info


def _shard(value: str) -> Tuple[int, int]:
    try:
        job, total = (int(x) for x in value.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard takes J/N (e.g. 2/4), got '{value}'") from None
    if not 1 <= job <= total:
        raise argparse.ArgumentTypeError(f"--shard J/N needs 1 <= J <= N, got '{value}'")
    return job, total


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    dec = sub.add_parser("decode", help="decode one shard of a cut manifest")
    dec.add_argument("checkpoint", help="phonasr checkpoint (.pt) with the model, its config and tokenizer_dir")
    dec.add_argument("cuts", help="lhotse cut manifest with precomputed features (data/fbank/<lang>/cuts_*.jsonl.gz)")
    dec.add_argument("out_dir", help="where hyp.txt, ref.txt, nbest.txt (and logprobs.pt) go")
    dec.add_argument("--model-name", default=None, help="model inside the checkpoint (default: its only model)")
    dec.add_argument("--tokenizer-dir", default=None, help="lang dir (default: the checkpoint's tokenizer_dir)")
    dec.add_argument("--beam", type=int, default=16, help="prefix beam width")
    dec.add_argument("--nbest", type=int, default=1, help="hypotheses per utterance in nbest.txt (<= beam)")
    dec.add_argument("--ref-field", choices=REF_FIELDS, default="text",
                     help="reference: supervision.text or supervision.custom['phones']")
    dec.add_argument("--max-frames", type=int, default=40000,
                     help="padded input frames per batch (batch size x longest utterance)")
    dec.add_argument("--shard", type=_shard, default=(1, 1), help="J/N: decode cuts J, J+N, ... (1-based)")
    dec.add_argument("--on-the-fly-fbank", default=None, metavar="BACKEND",
                     help="compute fbank from the cuts' audio with this backend (auto, kaldifeat, kaldi-native-fbank, "
                          "lhotse) instead of reading stored features; same numbers as steps/make_fbank.sh")
    dec.add_argument("--save-logprobs", type=str2bool, default=False, help="true: also write logprobs.pt")
    dec.add_argument("--device", default="auto", type=device_name, help="auto (cuda when present), cpu, cuda, cuda:N")
    dec.add_argument("--num-threads", type=thread_count, default=0,
                     help="CPU threads of this job; 0 = torch's choice (one per core). Jobs x threads should not "
                          "exceed the cores: two jobs of two threads on two cores ran the beam search 30x slower "
                          "than two jobs of one")

    merge = sub.add_parser("merge", help="join the shards' outputs")
    merge.add_argument("cuts", help="the manifest that was decoded (to check completeness)")
    merge.add_argument("out_dir")
    merge.add_argument("shard_dirs", nargs="+")
    return parser


def run_decode(args: argparse.Namespace) -> None:
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    decode_cuts(args.checkpoint, args.cuts, args.out_dir, device=choose_device(args.device),
                model_name=args.model_name, tokenizer_dir=args.tokenizer_dir, beam=args.beam, nbest=args.nbest,
                ref_field=args.ref_field, max_frames=args.max_frames, shard=args.shard,
                fbank_backend=args.on_the_fly_fbank, save_logprobs=args.save_logprobs)
    write_run_info(args.out_dir, CTC_RUN_INFO, {k: v for k, v in vars(args).items() if k != "command"})


def main(argv: Optional[List[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    if args.command == "decode":
        run_decode(args)
    else:
        merge_decoding(args.cuts, args.out_dir, args.shard_dirs)


if __name__ == "__main__":
    main()
