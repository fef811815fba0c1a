"""Pack a trained system into a self-contained model directory (steps/pack_model.sh, ``phonasr pack``).

    python -m phonasr.bin.pack_model --system jsa_aug --language pl --s2p exp/jsa/final.pt:s2p \
        --p2g exp/p2g_aug/final.pt [--g2p exp/jsa/final.pt:g2p] [--fbank-config FBANK_CONFIG_YAML] \
        [--results exp/results.tsv] [--graph exp/graph_phone_g2p \
        --lm-weight-file exp/jsa_phone_g2p_lm/lmwt/weight.txt] OUT_DIR

A network is CHECKPOINT[:MODEL] (MODEL: its name inside a multi-model checkpoint such as JSA's final.pt).
Writes OUT_DIR/model.yaml (manifest, sha256 per file), README.md (model card), s2p.pt, p2g.pt [g2p.pt],
lang/*, features.yaml and decoding.yaml; see :mod:`phonasr.serve.model_dir`. The checkpoints' recorded lang dirs
are read relative to --root (the recipe output root, default: the current directory). --graph packs a
phone-level decoding graph over the S2P's phonemes as graph/ for ``phonasr transcribe --decoder lm``.
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from phonasr.serve.model_dir import ModelDirError
from phonasr.serve.pack import Source, pack_system, parse_source
from phonasr.utils.logging import setup_logging


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="phonasr pack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", help="the model directory to write (replaced if it exists)")
    parser.add_argument("--system", required=True, help="system name (results.tsv's), e.g. jsa_aug")
    parser.add_argument("--language", required=True, help="target language code, e.g. pl")
    parser.add_argument("--s2p", required=True, help="S2P: CHECKPOINT[:MODEL]")
    parser.add_argument("--p2g", required=True, help="P2G: CHECKPOINT[:MODEL]")
    parser.add_argument("--g2p", default=None, help="G2P: CHECKPOINT[:MODEL] (for MLS decoding)")
    parser.add_argument("--root", default=".", help="what the checkpoints' lang dirs are relative to (default .)")
    parser.add_argument("--fbank-config", default=None, help="the training features' fbank_*.config.yaml")
    parser.add_argument("--results", default=None, help="results.tsv whose rows go into the model card")
    parser.add_argument("--results-systems", default=None,
                        help="comma-separated systems of --results to show (default: --system)")
    parser.add_argument("--description", default="", help="a sentence for the model card (data, recipe)")
    parser.add_argument("--s2p-beam", type=int, default=16, help="decoding.yaml: S2P beam (default 16)")
    parser.add_argument("--p2g-beam", type=int, default=16, help="decoding.yaml: P2G beam (default 16)")
    parser.add_argument("--graph", default=None,
                        help="a graph dir over the S2P's phonemes (exp/graph_phone_g2p) for --decoder lm")
    weight = parser.add_mutually_exclusive_group()
    weight.add_argument("--lm-weight", type=float, default=None, help="decoding.yaml: the graph's LM weight")
    weight.add_argument("--lm-weight-file", default=None, help="or the file holding it (lmwt/weight.txt)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    g2p = Source(*parse_source(args.g2p)) if args.g2p else None
    systems = args.results_systems.split(",") if args.results_systems else [args.system]
    try:
        pack_system(args.out_dir, system=args.system, language=args.language, s2p=Source(*parse_source(args.s2p)),
                    p2g=Source(*parse_source(args.p2g)), g2p=g2p, root=args.root, fbank_config=args.fbank_config,
                    results=args.results, results_systems=systems, description=args.description,
                    decoding={"s2p_beam": args.s2p_beam, "p2g_beam": args.p2g_beam}, graph=args.graph,
                    lm_weight=args.lm_weight, lm_weight_file=args.lm_weight_file)
    except (ModelDirError, ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
