"""Training curves: TensorBoard scalars and a PNG plot, both fed from one history that checkpoints carry.

The history (a list of plain dicts) is part of ``last.pt``, so the plot of a resumed run still shows the curves
from before the interruption. Besides loss, error rate and learning rate, a task may add panels of its own
statistics (:meth:`phonasr.train.task.Task.plot_panels`), e.g. JSA's sampler health.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")  # no display on training nodes
import matplotlib.pyplot as plt  # noqa: E402
from torch.utils.tensorboard import SummaryWriter  # noqa: E402

from phonasr.train.task import PlotPanel  # noqa: E402
from phonasr.utils.io import atomic_path  # noqa: E402

log = logging.getLogger(__name__)

Series = Tuple[str, List[int], List[float]]  # label, steps, values


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

    def series(self, panels: Sequence[PlotPanel]) -> List[Tuple[str, List[Series]]]:
        """Per panel, its title and the (label, steps, values) of each of its series that has points."""
        out = []
        for title, wanted in panels:
            lines = []
            for split, key in wanted:
                points = [(h["step"], h[key]) for h in self.history if h["split"] == split and key in h]
                if points:
                    steps, values = zip(*points)
                    lines.append((f"{split} {key}", list(steps), list(values)))
            out.append((title, lines))
        return out

    @staticmethod
    def panels(error_title: str = "error rate", extra_panels: Sequence[PlotPanel] = ()) -> List[PlotPanel]:
        """Train/dev loss, the dev ``error_rate`` (every task reports it under that key; ``error_title`` names it,
        e.g. PER or WER), the learning rate, then the task's ``extra_panels``."""
        return [("loss", [("train", "loss"), ("dev", "loss")]),
                (error_title, [("dev", "error_rate")]),
                ("learning rate", [("train", "lr")]),
                *extra_panels]

    def plot(self, error_title: str = "error rate", extra_panels: Sequence[PlotPanel] = ()) -> Path:
        """Draw :meth:`panels` against the step into ``curves.png`` (rows of at most four panels)."""
        panels = self.panels(error_title, extra_panels)
        cols = min(len(panels), 4)
        rows = math.ceil(len(panels) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
        for ax in axes.flat[len(panels):]:
            ax.set_visible(False)
        for ax, (title, lines) in zip(axes.flat, self.series(panels)):
            for label, steps, values in lines:
                ax.plot(steps, values, marker="." if label.startswith("dev") else None, label=label)
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
