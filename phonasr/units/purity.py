"""How well discrete units match the true phonemes, frame by frame: purities and PNMI (seed 001, after HuBERT).

Everything follows from the joint count matrix ``counts[phone, unit]`` over the frames (``N`` in all):

* phone purity: ``sum_u max_p counts[p, u] / N``, the frame-weighted mean over units of the share of a unit's
  frames taken by its most frequent phoneme (how well a unit predicts the phoneme);
* cluster (unit) purity: ``sum_p max_u counts[p, u] / N``, the same with the roles swapped (how well a phoneme
  predicts the unit: low when a phoneme spreads over many units, as it must when k is much larger than the
  number of phonemes);
* PNMI: ``I(phone; unit) / H(phone)``, the share of the phoneme's uncertainty a unit removes (1 = units determine
  phonemes).

Silence frames (label 0) may be left out, as the silence of a synthetic corpus is easy and would inflate all three.
Units must be one per encoder frame: deduplicated runs no longer align with frame labels and are refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Tuple

import torch

from phonasr.units.store import check_aligned, load_arrays

SILENCE = 0


@dataclass
class UnitQuality:
    phone_purity: float
    cluster_purity: float
    pnmi: float
    frames: int


@dataclass
class FrameUnits:
    """Per-cut units and frame labels that pair frame by frame, with the meta of both files."""

    units: Dict[str, torch.Tensor]
    labels: Dict[str, torch.Tensor]
    units_meta: Dict[str, Any]
    labels_meta: Dict[str, Any]


def load_frame_units(units_path: str | Path, labels_path: str | Path) -> FrameUnits:
    """A units file and a frame-label file, checked to pair frame by frame (deduplicated units are refused)."""
    units, units_meta = load_arrays(units_path, "units")
    if units_meta.get("deduplicated"):
        raise ValueError(f"{units_path} holds deduplicated unit runs, which no longer align with frame labels; "
                         "measure purity on the frame-level units file written beside it")
    labels, labels_meta = load_arrays(labels_path, "frame_labels")
    check_aligned(units, labels, f"units {units_path} vs frame labels {labels_path}")
    return FrameUnits(units, labels, units_meta, labels_meta)


def joint_counts(units: Mapping[str, torch.Tensor], labels: Mapping[str, torch.Tensor],
                 exclude_silence: bool = False) -> torch.Tensor:
    """``(phones, units)`` int64 frame counts of paired per-cut units and frame labels, sized by the largest ids."""
    check_aligned(units, labels, "joint_counts")
    if not units:
        raise ValueError("no cuts to count; the units and frame-label files are empty")
    u = torch.cat([units[c].long().flatten() for c in sorted(units)])
    p = torch.cat([labels[c].long().flatten() for c in sorted(units)])
    if (u < 0).any() or (p < 0).any():
        raise ValueError("unit ids and phone labels must be >= 0; these are not units/frame_labels arrays")
    if exclude_silence:
        speech = p != SILENCE
        u, p = u[speech], p[speech]
    num_units = int(u.max()) + 1 if u.numel() else 1
    num_phones = int(p.max()) + 1 if p.numel() else 1
    return torch.bincount(p * num_units + u, minlength=num_phones * num_units).view(num_phones, num_units)


def quality(counts: torch.Tensor) -> UnitQuality:
    """Phone purity, cluster purity and PNMI of a ``(phones, units)`` count matrix."""
    total = int(counts.sum())
    if total == 0:
        raise ValueError("no frames to measure (all silence? try without excluding silence)")
    joint = counts.double() / total
    p_phone, p_unit = joint.sum(1), joint.sum(0)
    nonzero = joint > 0
    ratio = joint[nonzero] / (p_phone[:, None] * p_unit[None, :])[nonzero]
    mutual_information = float((joint[nonzero] * ratio.log()).sum())
    present = p_phone[p_phone > 0]
    phone_entropy = float(-(present * present.log()).sum())
    # one phoneme only: nothing to be uncertain about, so a unit explains all of it
    pnmi = mutual_information / phone_entropy if phone_entropy > 0 else 1.0
    return UnitQuality(phone_purity=float(joint.max(0).values.sum()), cluster_purity=float(joint.max(1).values.sum()),
                       pnmi=pnmi, frames=total)


def per_phone(counts: torch.Tensor) -> List[Tuple[int, int, int, float]]:
    """``(phone id, frames, its most frequent unit, that unit's share of the phone's frames)`` of every phone
    with frames: which phonemes the units split or merge."""
    frames = counts.sum(1)
    top_count, top_unit = counts.max(1)
    return [(p, int(frames[p]), int(top_unit[p]), float(top_count[p]) / int(frames[p]))
            for p in range(counts.size(0)) if frames[p] > 0]
