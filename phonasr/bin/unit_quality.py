"""How well k-means units match the true phonemes: phone purity, cluster purity and PNMI (phonasr.units.purity).

    python -m phonasr.bin.unit_quality [--exclude-silence false] [--lang-dir DIR] UNITS FRAME_LABELS OUT_DIR

UNITS is a frame-level units file of make_units (not units_dedup_*), FRAME_LABELS the frame-label file of the same
cuts and encoder. Writes into OUT_DIR:
  purity.tsv         phone_purity, cluster_purity, pnmi, frames, k, silence_excluded (header + one row)
  purity_phones.tsv  per phoneme (named from the phone lang dir): frames, its most frequent unit and that unit's
                     share of its frames (low: the units split the phoneme)
and logs the figures in one line.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any, List, Mapping, Optional, Sequence

from phonasr.tokenizers import load_tokenizer
from phonasr.units.purity import SILENCE, joint_counts, load_frame_units, per_phone, quality
from phonasr.utils.cli import str2bool
from phonasr.utils.io import atomic_write_text, tsv_text
from phonasr.utils.logging import setup_logging

logger = logging.getLogger("phonasr.bin.unit_quality")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("units", help="frame-level units file (make_units assign: units_<set>.pt)")
    parser.add_argument("frame_labels", help="frame-label file of the same cuts and encoder")
    parser.add_argument("out_dir", help="where purity.tsv and purity_phones.tsv go")
    parser.add_argument("--exclude-silence", type=str2bool, default=False,
                        help="true: leave out frames labelled silence (0)")
    parser.add_argument("--lang-dir", default=None,
                        help="phone lang dir naming the labels (default: the one the frame-label file records; "
                             "ids when neither)")
    return parser


def phone_names(lang_dir: Optional[str]) -> Optional[Sequence[str]]:
    if not lang_dir:
        return None
    symbols = list(load_tokenizer(lang_dir).symbols)
    symbols[SILENCE] = "<sil>"  # id 0 is CTC's blank in the lang dir, silence in frame labels
    return symbols


def recorded_lang_dir(labels_meta: Mapping[str, Any]) -> Optional[str]:
    """The phone lang dir a frame-label file records, when it still exists."""
    lang_dir = labels_meta.get("lang_dir")
    return str(lang_dir) if lang_dir and Path(lang_dir).is_dir() else None


def write_quality(args: argparse.Namespace) -> None:
    pair = load_frame_units(args.units, args.frame_labels)
    counts = joint_counts(pair.units, pair.labels, args.exclude_silence)
    q = quality(counts)
    k = pair.units_meta.get("k", counts.size(1))
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "purity.tsv", tsv_text([
        ("phone_purity", "cluster_purity", "pnmi", "frames", "k", "silence_excluded"),
        (f"{q.phone_purity:.4f}", f"{q.cluster_purity:.4f}", f"{q.pnmi:.4f}", q.frames, k,
         str(args.exclude_silence).lower())]))
    names = phone_names(args.lang_dir or recorded_lang_dir(pair.labels_meta))
    rows: List[Sequence[object]] = [("phone", "frames", "top_unit", "top_unit_share")]
    for phone, frames, unit, share in per_phone(counts):
        if names is not None and phone >= len(names):
            raise ValueError(f"{args.frame_labels} has phone id {phone}, beyond the {len(names)} symbols of the "
                             "lang dir; pass the lang dir the frame labels were made with (--lang-dir)")
        rows.append((names[phone] if names else phone, frames, unit, f"{share:.4f}"))
    atomic_write_text(out_dir / "purity_phones.tsv", tsv_text(rows))
    logger.info("%s vs %s: phone purity %.4f, cluster purity %.4f, PNMI %.4f over %d frames (k=%s%s); wrote %s",
                args.units, args.frame_labels, q.phone_purity, q.cluster_purity, q.pnmi, q.frames, k,
                ", silence excluded" if args.exclude_silence else "", out_dir / "purity.tsv")


def main(argv: Optional[List[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    try:
        write_quality(args)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"error: {e}") from None


if __name__ == "__main__":
    main()
