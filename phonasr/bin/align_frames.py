"""Frame-level phoneme labels of a cut manifest by CTC forced alignment (steps/align_frames.sh).

    python -m phonasr.bin.align_frames [--margin 2] [--device auto] [--num-threads N] CKPT CUTS OUT_DIR

CKPT is an S2P whose output is the target language's phone lang dir (the fine-tuned model; its lang dir is what
the label ids mean); CUTS carry features and ground-truth phonemes (supervision custom field ``phones``).
Writes into OUT_DIR:
  frame_labels.pt        per cut, int64 (T',) phone ids per encoder frame, 0 = silence
                         (:mod:`phonasr.units.store`, kind ``frame_labels``; its meta records the statistics below)
  phone_durations.tsv    phone<TAB>occurrences<TAB>mean frames<TAB>mean ms, most frequent first; silence first
  align_frames.config.yaml / align_frames.versions.json
Cuts too short for their phonemes are skipped, named in a warning and in the meta's ``skipped``. How blank frames
get a phoneme is :func:`phonasr.units.frame_labels.fill_blanks`.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import List, Optional

import torch

from phonasr.units.frame_labels import DEFAULT_MARGIN, SILENCE, Alignment, align_cuts
from phonasr.units.store import save_arrays
from phonasr.utils.cli import device_name, thread_count
from phonasr.utils.device import choose_device
from phonasr.utils.io import atomic_write_text, tsv_text
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

logger = logging.getLogger(__name__)

LABELS = "frame_labels.pt"
DURATIONS = "phone_durations.tsv"
RUN_INFO = "align_frames"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="the aligner: an S2P checkpoint over the target's phone lang dir")
    parser.add_argument("cuts", help="lhotse cut manifest with features and supervision custom field 'phones'")
    parser.add_argument("out_dir", help=f"where {LABELS} and {DURATIONS} go")
    parser.add_argument("--margin", type=int, default=DEFAULT_MARGIN,
                        help="blank frames a phone may spread over on each side of its CTC emission; frames no "
                             f"phone reaches are silence (default {DEFAULT_MARGIN})")
    parser.add_argument("--model-name", default=None, help="model inside the checkpoint (default: its only model)")
    parser.add_argument("--max-frames", type=int, default=40000,
                        help="padded input frames per batch (batch size x longest utterance)")
    parser.add_argument("--on-the-fly-fbank", default=None, metavar="BACKEND",
                        help="compute fbank from the cuts' audio with this backend instead of reading stored features")
    parser.add_argument("--device", default="auto", type=device_name,
                        help="auto (cuda when present), cpu, cuda, cuda:N")
    parser.add_argument("--num-threads", type=thread_count, default=0, help="CPU threads; 0 = torch's choice")
    return parser


def durations_table(alignment: Alignment) -> str:
    """``phone_durations.tsv``: silence (its frames, no occurrences) first, then each phone, most frequent first."""
    stats, ms = alignment.stats, 1000 * alignment.frame_shift
    rows: List[List[object]] = [["phone", "occurrences", "mean_frames", "mean_ms"],
                                [alignment.symbols[SILENCE], 0, stats.label_frames[SILENCE], ""]]
    rows += [[symbol, count, f"{frames:.2f}", f"{frames * ms:.0f}"]
             for symbol, count, frames in stats.per_phone(alignment.symbols)]
    return tsv_text(rows)


def run(args: argparse.Namespace) -> None:
    if args.margin < 0:
        raise ValueError(f"--margin must be >= 0 frames, got {args.margin}")
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    alignment = align_cuts(args.checkpoint, args.cuts, device=choose_device(args.device), margin=args.margin,
                           model_name=args.model_name, max_frames=args.max_frames, fbank_backend=args.on_the_fly_fbank)
    if not alignment.labels:
        raise ValueError(f"no cut of {args.cuts} could be aligned (all {len(alignment.skipped)} too short for their "
                         "phonemes)")
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = alignment.meta(args.checkpoint, args.margin)
    save_arrays(out / LABELS, "frame_labels", alignment.labels, meta)
    atomic_write_text(out / DURATIONS, durations_table(alignment))
    write_run_info(out, RUN_INFO, dict(vars(args)))
    logger.info("%d cuts labelled, %d skipped as too short: silence %.1f%% of %d frames (blank %.1f%% of the CTC "
                "paths), mean phone %.2f frames (%.0f ms) -> %s", len(alignment.labels), len(alignment.skipped),
                100 * meta["silence_share"], meta["frames"], 100 * meta["blank_share_of_ctc_path"],
                meta["mean_phone_frames"], meta["mean_phone_ms"], out / LABELS)


def main(argv: Optional[List[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    try:
        run(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
