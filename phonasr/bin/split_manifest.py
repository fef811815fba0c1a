"""Split a lhotse manifest (jsonl or jsonl.gz) into N pieces ``<out_dir>/cuts.<i>.jsonl.gz``, i = 1..N.

The pieces feed ``$cmd JOB=1:N ... cuts.JOB.jsonl.gz``. Piece i holds consecutive lines of the manifest (the
first ``total % N`` pieces one more than the others), so concatenating the pieces in order gives the manifest
back and per-piece outputs merge in the original order. The manifest is streamed twice (count, then write):
memory stays flat however large it is. Each piece is written atomically and a stamp naming the source (path,
size, modification time) is written last, so a rerun on an unchanged manifest does nothing and a run killed
half-way is redone.
"""
from __future__ import annotations

import argparse
import gzip
import json
import logging
from pathlib import Path
from typing import IO, Iterator

from phonasr.utils.io import atomic_path, atomic_write_text
from phonasr.utils.logging import setup_logging

STAMP = ".split_source.json"


def open_text(path: Path, mode: str = "rt") -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, mode, encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def manifest_lines(path: Path) -> Iterator[str]:
    """Non-empty lines of the manifest, each checked to be a JSON object with an "id"."""
    with open_text(path) as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path} line {number} is not JSON ({e}); is it a lhotse jsonl manifest?") from e
            if not isinstance(item, dict) or "id" not in item:
                raise ValueError(f"{path} line {number} has no \"id\"; is it a lhotse jsonl manifest?")
            yield line if line.endswith("\n") else line + "\n"


def piece_sizes(total: int, num_splits: int) -> list[int]:
    base, extra = divmod(total, num_splits)
    return [base + 1 if i < extra else base for i in range(num_splits)]


def source_stamp(manifest: Path, num_splits: int) -> str:
    stat = manifest.stat()
    return json.dumps({"manifest": str(manifest.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                       "num_splits": num_splits}, sort_keys=True)


def split_manifest(manifest: Path, num_splits: int, out_dir: Path) -> list[Path]:
    """Writes the pieces (unless an identical split is already there) and returns their paths."""
    if num_splits < 1:
        raise ValueError(f"number of pieces must be at least 1, got {num_splits}")
    pieces = [out_dir / f"cuts.{i}.jsonl.gz" for i in range(1, num_splits + 1)]
    stamp = source_stamp(manifest, num_splits)
    stamp_file = out_dir / STAMP
    if stamp_file.is_file() and stamp_file.read_text() == stamp and all(p.is_file() for p in pieces):
        logging.info("%s already split into %d pieces in %s; nothing to do", manifest, num_splits, out_dir)
        return pieces
    stamp_file.unlink(missing_ok=True)

    total = sum(1 for _ in manifest_lines(manifest))
    if total < num_splits:
        raise ValueError(f"{manifest} has {total} items, too few for {num_splits} pieces; use at most {total} jobs")
    lines = manifest_lines(manifest)
    for piece, size in zip(pieces, piece_sizes(total, num_splits)):
        with atomic_path(piece) as tmp, gzip.open(tmp, "wt", encoding="utf-8") as f:
            for _ in range(size):
                f.write(next(lines))
        logging.info("wrote %s (%d items)", piece, size)
    atomic_write_text(stamp_file, stamp)
    logging.info("split %d items of %s into %d pieces in %s", total, manifest, num_splits, out_dir)
    return pieces


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("manifest", type=Path, help="lhotse manifest, e.g. data/fbank/pl/cuts_train.jsonl.gz")
    parser.add_argument("num_splits", type=int, help="number of pieces N")
    parser.add_argument("out_dir", type=Path, help="folder for cuts.1.jsonl.gz .. cuts.N.jsonl.gz")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging(None)
    if not args.manifest.is_file():
        raise SystemExit(f"split_manifest: {args.manifest} does not exist")
    try:
        split_manifest(args.manifest, args.num_splits, args.out_dir)
    except ValueError as e:
        raise SystemExit(f"split_manifest: {e}") from e


if __name__ == "__main__":
    main()
