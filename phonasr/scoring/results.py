"""A recipe's results table ``exp/results.tsv``: one row per (system, test set, metric).

Every scoring stage appends its number here, so the table is the recipe's summary. Rescoring the same
system/test set/metric replaces its row (a rerun must not leave two different numbers for one experiment).
Writers hold an exclusive lock on ``results.tsv.lock`` while they read, modify and atomically replace the
file, so parallel decoding jobs do not lose each other's rows.
"""
from __future__ import annotations

import contextlib
import fcntl
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

from phonasr.scoring.details import display_width
from phonasr.utils.io import atomic_write_text

COLUMNS = ("system", "test_set", "metric", "value", "errors/total", "details")
HEADER = "\t".join(COLUMNS)

Row = Dict[str, str]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_results(path: str | Path) -> List[Row]:
    """Rows of a results TSV (empty list when the file does not exist yet)."""
    path = Path(path)
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0] != HEADER:
        raise ValueError(f"{path} is not a phonasr results table (first line must be {HEADER!r})")
    rows = []
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != len(COLUMNS):
            raise ValueError(f"{path}:{lineno}: expected {len(COLUMNS)} tab-separated fields, got {len(fields)}")
        rows.append(dict(zip(COLUMNS, fields)))
    return rows


def _key(row: Row) -> Tuple[str, str, str]:
    return row["system"], row["test_set"], row["metric"]


def append_results(results_tsv: str | Path, system: str, test_set: str, metric: str, value: float, errors: int,
                   total: int, details_path: str | Path) -> None:
    """Add a row to ``results_tsv`` (created with its header if missing); an existing row with the same
    system, test set and metric is replaced in place."""
    for label, text in (("system", system), ("test_set", test_set), ("metric", metric),
                        ("details", str(details_path))):
        if not text or any(c in text for c in "\t\n"):
            raise ValueError(f"results {label} '{text}' must be non-empty and hold no tab or newline")
    new = dict(zip(COLUMNS, (system, test_set, metric.upper(), f"{value:.2f}", f"{errors}/{total}",
                             str(details_path))))
    path = Path(results_tsv)
    with _locked(path):
        rows = read_results(path)
        for i, row in enumerate(rows):
            if _key(row) == _key(new):
                rows[i] = new
                break
        else:
            rows.append(new)
        atomic_write_text(path, "\n".join([HEADER] + ["\t".join(r[c] for c in COLUMNS) for r in rows]) + "\n")


def _align(table: List[List[str]], right: List[bool]) -> str:
    widths = [max(display_width(row[i]) for row in table) for i in range(len(table[0]))]

    def cell(text: str, i: int) -> str:
        pad = " " * (widths[i] - display_width(text))
        return pad + text if right[i] else text + pad

    return "\n".join("  ".join(cell(t, i) for i, t in enumerate(row)).rstrip() for row in table) + "\n"


def format_wide(rows: List[Row]) -> str:
    """Systems as rows, one column per ``<test_set> <metric>`` (first-seen order, i.e. stage order)."""
    if not rows:
        return "(no results yet)\n"
    columns = list(dict.fromkeys((r["test_set"], r["metric"]) for r in rows))
    systems = list(dict.fromkeys(r["system"] for r in rows))
    values = {(r["system"], r["test_set"], r["metric"]): r["value"] for r in rows}
    table = [["system"] + [f"{t} {m}" for t, m in columns]]
    table += [[s] + [values.get((s, t, m), "-") for t, m in columns] for s in systems]
    return _align(table, [False] + [True] * len(columns))


def format_long(rows: List[Row]) -> str:
    """The TSV itself with aligned columns: includes error counts and where the details are."""
    if not rows:
        return "(no results yet)\n"
    table = [list(COLUMNS)] + [[r[c] for c in COLUMNS] for r in rows]
    return _align(table, [False, False, False, True, True, False])
