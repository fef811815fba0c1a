"""Atomic file writing and safe checkpoint loading.

A stage killed half-way must never leave a truncated manifest or checkpoint that a rerun would trust, so
everything is written to a temporary file in the same directory and renamed into place (rename is atomic on
POSIX file systems).
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence, Union

if TYPE_CHECKING:  # torch is imported where it is used: light workers (manifest splitting) start fast
    import torch

PathLike = Union[str, os.PathLike]


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds.

    The temporary name keeps the real suffix (``x.tmp123.jsonl.gz``) so libraries that choose a format by
    extension (lhotse, torch) behave as for the final name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes)
    stem = path.name[: len(path.name) - len(suffix)] if suffix else path.name
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_write_text(path: PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_torch_save(obj: Any, path: PathLike) -> None:
    """``torch.save`` that never leaves a partial file at ``path``."""
    import torch

    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load_checkpoint(path: PathLike, map_location: str | torch.device = "cpu") -> Any:
    """Load a checkpoint with ``weights_only=True``: tensors, numbers, strings, lists and dicts only.

    Checkpoints therefore hold plain data (RNG states as tensors, configs as dicts), never pickled objects.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist; train the model first or fix the path")
    return torch.load(path, map_location=map_location, weights_only=True)


def tsv_text(rows: Iterable[Sequence[object]]) -> str:
    """Rows as CommonVoice-style TSV: no quoting at all (CommonVoice sentences hold unbalanced quotes)."""
    lines = []
    for row in rows:
        fields = ["" if v is None else str(v) for v in row]
        if any("\t" in f or "\n" in f for f in fields):
            raise ValueError(f"TSV field with a tab or newline: {fields}")
        lines.append("\t".join(fields) + "\n")
    return "".join(lines)
