"""Per-cut arrays on disk: the one format the units stages exchange.

A file holds ``{"kind": ..., "meta": {...}, "arrays": {cut_id: tensor}}``, saved atomically and loaded with
``weights_only=True``. The kinds and their tensors:

* ``features``: one encoder layer's output, float16 ``(T', D)`` per cut at the encoder's frame rate
  (``meta``: checkpoint, model, layer, frame_shift in seconds);
* ``frame_labels``: int64 ``(T',)`` phoneme ids of the phone lang dir per encoder frame, 0 = silence
  (``meta``: lang_dir, aligner checkpoint);
* ``units``: int64 ``(T',)`` k-means unit ids per encoder frame (``meta``: k, layer, the k-means file).

Frame counts agree across kinds for the same encoder (checked by :func:`check_aligned`), which is what lets ABX,
purity and the token ASR pair them frame by frame.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Mapping, Tuple

import torch

from phonasr.utils.io import atomic_torch_save, load_checkpoint

KINDS = ("features", "frame_labels", "units")


def save_arrays(path: str | Path, kind: str, arrays: Mapping[str, torch.Tensor], meta: Mapping[str, Any]) -> None:
    """Write ``arrays`` (cut id -> tensor) of ``kind`` with ``meta`` to ``path`` atomically."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose from {KINDS}")
    atomic_torch_save({"kind": kind, "meta": dict(meta), "arrays": {k: v.contiguous() for k, v in arrays.items()}},
                      path)


def load_arrays(path: str | Path, kind: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, Any]]:
    """The arrays and meta of ``path``, which must hold ``kind``."""
    stored = load_checkpoint(path)
    if not isinstance(stored, dict) or stored.get("kind") != kind:
        found = stored.get("kind") if isinstance(stored, dict) else type(stored).__name__
        raise ValueError(f"{path} holds {found!r}, not {kind!r} arrays; pass the {kind} file of the units stages")
    return stored["arrays"], stored["meta"]


def load_units(path: str | Path) -> Tuple[Dict[str, torch.Tensor], Dict[str, Any]]:
    """The per-cut units of a ``units`` file and its meta, whose ``k`` (the number of units) is checked, as is every
    cut's ids (1-D, within 0..k-1): a wrong file fails here, naming the cut, not later as an index error."""
    arrays, meta = load_arrays(path, "units")
    k = meta.get("k")
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"{path}: meta['k'] is {k!r}, not the number of units; write the units file with the "
                         "k-means stage, which records k")
    for cut_id, units in arrays.items():
        if units.dim() != 1:
            raise ValueError(f"{path}: cut '{cut_id}' has units of shape {tuple(units.shape)}, expected (T',)")
        if units.numel() and not 0 <= int(units.min()) <= int(units.max()) < k:
            raise ValueError(f"{path}: cut '{cut_id}' has unit ids {int(units.min())}..{int(units.max())} outside "
                             f"0..{k - 1}; the file's meta k does not match its units")
    return arrays, meta


def merge_runs(units: torch.Tensor) -> torch.Tensor:
    """Runs of the same unit merged into one (``5 5 5 2 2 5`` -> ``5 2 5``): what unit LMs and token ASR read."""
    return torch.unique_consecutive(units)


def check_aligned(first: Mapping[str, torch.Tensor], second: Mapping[str, torch.Tensor], what: str) -> None:
    """Fail naming the first cut whose frame counts differ (or that one side lacks) between two per-cut files."""
    missing = sorted(set(first) ^ set(second))
    if missing:
        raise ValueError(f"{what}: {len(missing)} cuts are in one file but not the other (e.g. {missing[:3]}); "
                         "compute both from the same cut manifest")
    for cut_id, array in first.items():
        if array.size(0) != second[cut_id].size(0):
            raise ValueError(f"{what}: cut '{cut_id}' has {array.size(0)} frames in one file and "
                             f"{second[cut_id].size(0)} in the other; compute both with the same encoder")
