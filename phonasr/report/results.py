"""A run's results as they stand: ``exp/results.tsv`` with the last row of each (system, test set, metric) kept.

Scoring stages append rows, and a stage that re-ran may leave its old row above the new one in a table that was
edited or concatenated by hand; the newest number is the one a report must show.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from phonasr.scoring.results import read_results

Key = Tuple[str, str, str]  # system, test set, metric (upper case: WER, CER, PER, PPL, OOV)


@dataclass(frozen=True)
class Result:
    system: str
    test_set: str
    metric: str
    value: float
    errors_total: str
    details: Path  # resolved against the recipe's output root (the parent of exp/)


class Results:
    """The final rows of one results table, looked up by (system, test set, metric)."""

    def __init__(self, rows: List[Result]) -> None:
        self._rows: Dict[Key, Result] = {}
        for row in rows:  # later rows replace earlier ones
            self._rows.pop((row.system, row.test_set, row.metric), None)
            self._rows[(row.system, row.test_set, row.metric)] = row

    def get(self, system: Optional[str], test_set: str, metric: str) -> Optional[Result]:
        return self._rows.get((system, test_set, metric)) if system else None

    def rows(self) -> List[Result]:
        """Final rows in the order of their last appearance (stage order for a clean run)."""
        return list(self._rows.values())

    def systems(self) -> List[str]:
        return list(dict.fromkeys(r.system for r in self.rows()))

    def test_sets(self, systems: Optional[List[str]] = None) -> List[str]:
        """Test sets in first-seen order, of ``systems`` only when given."""
        return list(dict.fromkeys(r.test_set for r in self.rows() if systems is None or r.system in systems))


def load_results(exp_dir: str | Path) -> Results:
    """``exp_dir/results.tsv``; details paths in it are relative to ``exp_dir``'s parent (the recipe root)."""
    exp_dir = Path(exp_dir)
    path = exp_dir / "results.tsv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: no scoring stage has run in {exp_dir} (or wrong --exp)")
    rows = []
    for row in read_results(path):
        try:
            value = float(row["value"])
        except ValueError:
            raise ValueError(f"{path}: value {row['value']!r} of {row['system']}/{row['test_set']} is no number") \
                from None
        details = Path(row["details"])
        rows.append(Result(row["system"], row["test_set"], row["metric"].upper(), value, row["errors/total"],
                           details if details.is_absolute() else exp_dir.parent / details))
    return Results(rows)
