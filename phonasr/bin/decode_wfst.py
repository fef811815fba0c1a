"""WFST decoding worker for steps/decode_wfst.sh: ``decode`` one shard of a decode dir's log-posteriors through an
HLG graph, ``merge`` the shards.

decode:  python -m phonasr.bin.decode_wfst decode [--lm-weight 1.0] [--beam 16] [--lattice true] [--nbest 64]
                                                  [--decoder kaldi|k2]
                                                  [--shard J/N] IN_DIR GRAPH_DIR OUT_DIR
merge:   python -m phonasr.bin.decode_wfst merge IN_DIR OUT_DIR SHARD_DIR [SHARD_DIR ...]

IN_DIR is a decode dir with logprobs.pt and ref.txt (decoded with --save-logprobs true by the model whose lang dir
the graph was built over). OUT_DIR gets hyp.txt, ref.txt, nbest.txt (score -(λ·graph + acoustic)) and costs.txt
(utt, rank, graph cost, acoustic cost: re-rank for any other λ without decoding again); see
:mod:`phonasr.decode.wfst_dir`.
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from phonasr.decode.wfst import WfstOptions
from phonasr.decode.wfst_dir import DECODERS, decode_dir, merge_decoding
from phonasr.utils.cli import shard, str2bool
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    dec = sub.add_parser("decode", help="decode one shard")
    dec.add_argument("in_dir", help="decode dir with logprobs.pt and ref.txt")
    dec.add_argument("graph_dir", help="HLG dir of steps/make_graph.sh")
    dec.add_argument("--ref", default=None,
                     help="utt<TAB>words references instead of in_dir's ref.txt (a phoneme model's holds phonemes)")
    dec.add_argument("out_dir")
    dec.add_argument("--lm-weight", type=float, default=1.0, help="λ: the search minimises λ·graph + acoustic")
    dec.add_argument("--beam", type=float, default=16.0, help="decoding beam")
    dec.add_argument("--max-active", type=int, default=7000, help="most active states per frame (1-best)")
    dec.add_argument("--lattice", type=str2bool, default=True,
                     help="true: n-best from lattices (LatticeSimpleDecoder); false: 1-best (FasterDecoder)")
    dec.add_argument("--lattice-beam", type=float, default=8.0, help="lattice pruning beam")
    dec.add_argument("--nbest", type=int, default=64, help="distinct word sequences per utterance")
    dec.add_argument("--max-lattice-states", type=int, default=10000,
                     help="a raw lattice above this size is decoded again with the lattice beam narrowed by 2")
    dec.add_argument("--decoder", choices=DECODERS, default="kaldi",
                     help="kaldi: kaldi-decoder on the CPU; k2: intersect_dense_pruned on the GPU where k2 can use "
                          "one (needs k2 in this Python and --lattice false)")
    dec.add_argument("--shard", type=shard, default=(1, 1), help="J/N: utterances J, J+N, ... (1-based)")
    merge = sub.add_parser("merge", help="join the shards' outputs")
    merge.add_argument("in_dir")
    merge.add_argument("out_dir")
    merge.add_argument("shard_dirs", nargs="+")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    if args.command == "decode":
        opts = WfstOptions(lm_weight=args.lm_weight, beam=args.beam, max_active=args.max_active,
                           lattice_beam=args.lattice_beam, nbest=args.nbest,
                           max_lattice_states=args.max_lattice_states)
        decode_dir(args.in_dir, args.graph_dir, args.out_dir, opts, lattice=args.lattice, shard=args.shard,
                   decoder=args.decoder, ref_file=args.ref)
        write_run_info(args.out_dir, "decode_wfst", vars(args))
    else:
        merge_decoding(args.in_dir, args.out_dir, args.shard_dirs)


if __name__ == "__main__":
    main()
