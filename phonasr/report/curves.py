"""The JSA run's training curves, read from what the trainer writes: its TensorBoard event files.

:class:`phonasr.train.monitor.TrainingMonitor` mirrors every logged value to ``<exp>/tensorboard`` as
``<split>/<name>``. A resumed training appends a new event file, so all files are read in the order of the creation
time in their names (``events.out.tfevents.<time>.<host>...``; a copy keeps it, unlike mtimes) and a step written
again by a later file replaces the earlier point.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence, Tuple

Curve = Tuple[List[int], List[float]]  # steps, values

# (panel title, scalar tags): what the report plots of a JSA run (the sampler's health and what it learns)
JSA_PANELS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("MIS acceptance rate", ("train/accept_rate",)),
    ("cache PER vs truth (%)", ("train/cache_per", "train/cache_per_unlabelled")),
    ("dev error rate (%)", ("dev/wer", "dev/cer", "dev/per")),
)


def _created(path: Path) -> Tuple[int, str]:
    stamp = path.name.split(".")[3]
    return (int(stamp) if stamp.isdigit() else 0), path.name


def read_scalars(run_dir: str | Path, tags: Sequence[str]) -> Dict[str, Curve]:
    """The ``tags`` that ``run_dir/tensorboard`` holds (absent ones are left out), each sorted by step."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    files = sorted(Path(run_dir, "tensorboard").glob("events.out.tfevents.*"), key=_created)
    points: Dict[str, Dict[int, float]] = {}
    for path in files:
        events = EventAccumulator(str(path), size_guidance={"scalars": 0})  # 0: keep every point, no sampling
        events.Reload()
        available = set(events.Tags()["scalars"])
        for tag in tags:
            if tag in available:
                points.setdefault(tag, {}).update({e.step: e.value for e in events.Scalars(tag)})
    return {tag: (sorted(p), [p[s] for s in sorted(p)]) for tag, p in points.items()}
