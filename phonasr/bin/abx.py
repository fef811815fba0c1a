"""ABX worker for steps/abx.sh: the machine ABX error of encoder-layer features on the triphones of frame labels.

    python -m phonasr.bin.abx [--distance angular] [--span phone] [--max-triples 100] [--seed 0] [--device auto]
        FRAME_LABELS CUTS OUT_DIR FEATURES...

FRAME_LABELS is a ``frame_labels`` file and each FEATURES a ``features`` file (one encoder layer) of
:mod:`phonasr.units.store`, over the same cuts and encoder frames; CUTS is the lhotse manifest they came from (it
gives each cut's speaker). Writes into OUT_DIR:
  abx.tsv                 layer<TAB>context<TAB>speaker<TAB>error<TAB>triples<TAB>cells, a header and one row per
                          features file and condition (context within|any, speaker within|across); error is a
                          fraction, nan where the condition has no cell
  abx.config.yaml / abx.versions.json
The test is :func:`phonasr.units.abx.abx` (its docstring defines items, triples and the averaging).
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import List, Optional

import torch

from phonasr.units.abx import SPANS, abx, cut_speakers, triphone_items
from phonasr.units.dtw import FRAME_DISTANCES
from phonasr.units.store import check_aligned, load_arrays
from phonasr.utils.cli import device_name, thread_count
from phonasr.utils.device import choose_device
from phonasr.utils.io import atomic_write_text, tsv_text
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

logger = logging.getLogger("phonasr.bin.abx")

HEADER = ("layer", "context", "speaker", "error", "triples", "cells")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("frame_labels", help="frame_labels file (phone ids per encoder frame, 0 = silence)")
    parser.add_argument("cuts", help="the lhotse cut manifest of the labels and features (for the speakers)")
    parser.add_argument("out_dir", help="where abx.tsv goes")
    parser.add_argument("features", nargs="+", help="features files, one encoder layer each")
    parser.add_argument("--distance", choices=FRAME_DISTANCES, default="angular",
                        help="frame distance inside the DTW (default: angular, as ZeroSpeech)")
    parser.add_argument("--span", choices=SPANS, default="phone",
                        help="an item's frames: the centre phone's (default) or the whole triphone's")
    parser.add_argument("--max-triples", type=int, default=100,
                        help="triples per cell at most, drawn with --seed (default: 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the triple draw")
    parser.add_argument("--batch-pairs", type=int, default=4096, help="item pairs per DTW batch")
    parser.add_argument("--device", default="auto", type=device_name, help="auto (cuda when present), cpu, cuda")
    parser.add_argument("--num-threads", type=thread_count, default=0, help="CPU threads; 0 = torch's choice")
    return parser


def layer_name(meta: dict, path: str) -> str:
    """The layer the features file records, else its file name (a file from elsewhere)."""
    return str(meta["layer"]) if "layer" in meta else Path(path).stem


def run(args: argparse.Namespace) -> Path:
    for path in [args.frame_labels, args.cuts, *args.features]:
        if not Path(path).is_file():
            raise ValueError(f"{path} does not exist; run the stage that writes it first")
    if args.max_triples < 1:
        raise ValueError(f"--max-triples must be at least 1, got {args.max_triples}")
    device = choose_device(args.device)
    labels, _ = load_arrays(args.frame_labels, "frame_labels")
    items = triphone_items(labels, cut_speakers(args.cuts), args.span)
    logger.info("%d triphone items (%s frames) in %d cuts of %s; seed %d, at most %d triples per cell, %s distance",
                len(items), args.span, len(labels), args.frame_labels, args.seed, args.max_triples, args.distance)
    rows: List[tuple] = [HEADER]
    for path in args.features:
        features, meta = load_arrays(path, "features")
        check_aligned(features, labels, f"{path} vs {args.frame_labels}")
        layer = layer_name(meta, path)
        for r in abx(features, items, distance=args.distance, max_triples=args.max_triples, seed=args.seed,
                     device=device, batch_pairs=args.batch_pairs):
            logger.info("layer %s, %s-context %s-speaker: ABX error %.2f%% (%d triples, %d cells)", layer,
                        r.context, r.speaker, 100 * r.error, r.triples, r.cells)
            rows.append((layer, r.context, r.speaker, f"{r.error:.4f}", r.triples, r.cells))
    out = Path(args.out_dir) / "abx.tsv"
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, tsv_text(rows))
    write_run_info(args.out_dir, "abx", {k: v for k, v in vars(args).items()}, seed=args.seed)
    return out


def main(argv: Optional[List[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    try:
        out = run(args)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    logger.info("wrote %s", out)


if __name__ == "__main__":
    main()
