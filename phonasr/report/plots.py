"""The report's PNGs: WER per system and decoder as grouped bars, and the JSA run's training curves."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")  # reports are made on machines without a display
import matplotlib.pyplot as plt  # noqa: E402

from phonasr.report.curves import Curve  # noqa: E402
from phonasr.utils.io import atomic_path  # noqa: E402

Bars = Tuple[str, Sequence[Optional[float]]]  # system label, one value per decoder (None: not run)


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)


def grouped_bars(groups: Sequence[Bars], decoders: Sequence[str], path: str | Path, title: str,
                 ylabel: str) -> None:
    """One group of bars per system, one bar per decoder, its value printed on top; missing values leave a gap."""
    fig, ax = plt.subplots(figsize=(max(6.0, 1.5 * len(groups)), 4.0))
    width = 0.8 / len(decoders)
    for j, decoder in enumerate(decoders):
        xs = [i + (j - (len(decoders) - 1) / 2) * width for i, (_, values) in enumerate(groups)
              if values[j] is not None]
        ys = [values[j] for _, values in groups if values[j] is not None]
        bars = ax.bar(xs, ys, width, label=decoder)
        ax.bar_label(bars, fmt="%.1f", fontsize=7)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([label for label, _ in groups], rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, Path(path))


def curve_panels(panels: Sequence[Tuple[str, Sequence[str]]], curves: Dict[str, Curve], path: str | Path,
                 title: str) -> None:
    """One panel per (title, tags) against the training step; a tag without points is named in its panel."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.4), squeeze=False)
    for ax, (panel, tags) in zip(axes[0], panels):
        for tag in tags:
            if tag in curves:
                steps, values = curves[tag]
                ax.plot(steps, values, marker="." if len(steps) < 30 else None, label=tag)
        missing = [tag for tag in tags if tag not in curves]
        if missing:
            ax.text(0.5, 0.5, "not logged:\n" + "\n".join(missing), transform=ax.transAxes, ha="center",
                    va="center", fontsize=8, color="gray")
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    _save(fig, Path(path))
