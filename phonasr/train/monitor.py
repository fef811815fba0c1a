"""Training curves: TensorBoard scalars and a PNG plot, both fed from one history that checkpoints carry.

The history (a list of plain dicts) is part of ``last.pt``, so the plot of a resumed run still shows the curves
from before the interruption.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Mapping

import matplotlib

matplotlib.use("Agg")  # no display on training nodes
import matplotlib.pyplot as plt  # noqa: E402
from torch.utils.tensorboard import SummaryWriter  # noqa: E402

from phonasr.utils.io import atomic_path  # noqa: E402

log = logging.getLogger(__name__)


class TrainingMonitor:
    """Records ``train`` and ``dev`` points, mirrors them to TensorBoard and redraws ``curves.png``."""

    def __init__(self, exp_dir: str | Path, history: List[Dict[str, Any]] | None = None) -> None:
        self.exp_dir = Path(exp_dir)
        self.history: List[Dict[str, Any]] = list(history or [])
        self.writer = SummaryWriter(log_dir=str(self.exp_dir / "tensorboard"))

    def record(self, split: str, step: int, values: Mapping[str, float]) -> None:
        """``split`` is ``train`` or ``dev``; every value goes to TensorBoard as ``<split>/<name>``."""
        self.history.append({"split": split, "step": int(step), **{k: float(v) for k, v in values.items()}})
        for name, value in values.items():
            self.writer.add_scalar(f"{split}/{name}", float(value), step)
        self.writer.flush()

    def plot(self, error_name: str = "error_rate") -> Path:
        """Draw train/dev loss, dev error rate and learning rate against the step into ``curves.png``."""
        panels = [("loss", [("train", "loss"), ("dev", "loss")]),
                  (error_name, [("dev", error_name)]),
                  ("learning rate", [("train", "lr")])]
        fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6))
        for ax, (title, series) in zip(axes, panels):
            for split, key in series:
                points = [(h["step"], h[key]) for h in self.history if h["split"] == split and key in h]
                if points:
                    steps, values = zip(*points)
                    ax.plot(steps, values, marker="." if split == "dev" else None, label=f"{split} {key}")
            ax.set_title(title)
            ax.set_xlabel("step")
            ax.grid(alpha=0.3)
            if ax.lines:
                ax.legend(fontsize="small")
        fig.tight_layout()
        out = self.exp_dir / "curves.png"
        with atomic_path(out) as tmp:
            fig.savefig(tmp, dpi=80, format="png")
        plt.close(fig)
        return out

    def close(self) -> None:
        self.writer.close()
