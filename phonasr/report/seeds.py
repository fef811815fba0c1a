"""The results over seeds: every seed's ``exp/results.tsv`` (``utils/run_seeds.sh`` runs one under
``<root>/seeds/<N>/`` per seed) as mean ± sample std per (system, test set, metric).

One run's number says little when the spread between seeds is as large as the gap between two systems; the
table shows both. Each number says how many seeds it rests on (n): a system that failed or was not run in a seed
is never averaged over fewer seeds silently. A row that the stages before ``--stage`` scored (the shared root's
``exp/results.tsv`` has it) was copied into every seed unchanged: it is marked shared, since its zero spread
says nothing about seeds.
"""
from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from phonasr.report.layout import COLUMNS, MAIN_ROWS, TableRow, named_systems
from phonasr.report.results import Key, Results, load_results
from phonasr.utils.io import atomic_write_text, tsv_text

logger = logging.getLogger(__name__)

SEEDS_TSV = "results_seeds.tsv"
SEEDS_MD = "RESULTS_seeds.md"
HEADER = ("system", "test_set", "metric", "mean", "std", "n", "min", "max", "shared")
SEED_PREFIX = "seed_"  # the per-seed value columns: seed_<N>, empty where that seed has no row
MISSING = "–"


@dataclass(frozen=True)
class SeedStat:
    """One (system, test set, metric) over the seeds: its value in each seed (None: no row there)."""
    system: str
    test_set: str
    metric: str
    values: Tuple[Optional[float], ...]
    shared: bool = False

    @property
    def present(self) -> List[float]:
        return [v for v in self.values if v is not None]

    @property
    def n(self) -> int:
        return len(self.present)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.present)

    @property
    def std(self) -> Optional[float]:
        """The sample standard deviation (n - 1); None for a single seed, where there is no spread to estimate."""
        return statistics.stdev(self.present) if self.n > 1 else None


def seed_dirs(seeds_dir: str | Path) -> Dict[str, Path]:
    """``seeds_dir``'s seed runs (sub-directories named by a whole number), by seed, in numeric order."""
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        raise FileNotFoundError(f"{seeds_dir} does not exist: run utils/run_seeds.sh first (or wrong dir)")
    dirs = sorted((d for d in seeds_dir.iterdir() if d.is_dir() and d.name.isdigit()), key=lambda d: int(d.name))
    if not dirs:
        raise FileNotFoundError(f"{seeds_dir} holds no seed run (a directory named by its seed)")
    return {d.name: d for d in dirs}


def load_seed_results(seeds_dir: str | Path) -> Dict[str, Results]:
    """Each seed's results (the last row of each key, as the report reads them); a seed that scored nothing yet
    has none, and still counts as a seed."""
    per_seed = {}
    for seed, path in seed_dirs(seeds_dir).items():
        if (path / "exp/results.tsv").is_file():
            per_seed[seed] = load_results(path / "exp")
        else:
            logger.warning("seed %s has no %s yet: it counts as a seed without any row", seed,
                           path / "exp/results.tsv")
            per_seed[seed] = Results([])
    return per_seed


def aggregate(per_seed: Dict[str, Results], shared: Optional[Results] = None) -> List[SeedStat]:
    """A stat per key that any seed scored, in first-seen order; ``shared``: the rows of the shared stages."""
    keys: Dict[Key, None] = {}
    for results in per_seed.values():
        keys.update(dict.fromkeys((r.system, r.test_set, r.metric) for r in results.rows()))
    stats = []
    for key in keys:
        found = [results.get(*key) for results in per_seed.values()]
        stats.append(SeedStat(*key, tuple(r.value if r else None for r in found),
                              shared=shared is not None and shared.get(*key) is not None))
    return stats


def _number(value: Optional[float]) -> str:
    return "" if value is None else f"{value:.2f}"


def stats_text(seeds: Sequence[str], stats: Sequence[SeedStat]) -> str:
    """results_seeds.tsv: the header, then a line per stat with its value in each seed (seed_<N> columns)."""
    lines = [(*HEADER, *(SEED_PREFIX + s for s in seeds))]
    for s in stats:
        lines.append((s.system, s.test_set, s.metric, _number(s.mean), _number(s.std), s.n, _number(min(s.present)),
                      _number(max(s.present)), str(s.shared).lower(), *(_number(v) for v in s.values)))
    return tsv_text(lines)


def read_stats(path: str | Path) -> Tuple[List[str], List[SeedStat]]:
    """The seeds and stats of a results_seeds.tsv (mean, std, ... are recomputed from the per-seed values)."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t") if lines else []
    if tuple(header[:len(HEADER)]) != HEADER or not all(h.startswith(SEED_PREFIX) for h in header[len(HEADER):]):
        raise ValueError(f"{path} is not a results-over-seeds table (its header must start {' '.join(HEADER)})")
    seeds = [h[len(SEED_PREFIX):] for h in header[len(HEADER):]]
    stats = []
    for lineno, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != len(header):
            raise ValueError(f"{path}:{lineno}: expected {len(header)} tab-separated fields, got {len(fields)}")
        try:
            values = tuple(float(v) if v else None for v in fields[len(HEADER):])
        except ValueError:
            raise ValueError(f"{path}:{lineno}: a seed's value is no number") from None
        stats.append(SeedStat(*fields[:3], values, shared=fields[8] == "true"))
    return seeds, stats


def _cell(stat: Optional[SeedStat]) -> str:
    """``mean ± std (n)``; a shared row's single value; "–" where no seed scored it."""
    if stat is None or stat.n == 0:
        return MISSING
    if stat.shared:
        return f"{stat.mean:.2f} (shared)"
    return f"{stat.mean:.2f} ± {_number(stat.std) or MISSING} ({stat.n})"


def section(seeds: Sequence[str], stats: Sequence[SeedStat], test_set: str = "test",
            rows: Sequence[TableRow] = MAIN_ROWS) -> List[str]:
    """Markdown: the report's rows and columns per test set (``test_set`` first), each cell over the seeds."""
    by_key = {(s.system, s.test_set, s.metric): s for s in stats}
    systems = set(named_systems(rows))
    sets = list(dict.fromkeys([test_set] + [s.test_set for s in stats if s.system in systems]))
    intro = [f"Over {len(seeds)} seeds ({', '.join(seeds)}; `utils/run_seeds.sh`): mean ± sample standard deviation "
           "(n = the seeds that scored the system) of the WER (%; the PER column: the S2P's PER). \"shared\": "
           "scored once by the stages before the seeded ones and copied into every seed, so no spread over seeds.",
           ""]
    tables: List[str] = []
    for t in sets:
        body = []
        for row in rows:
            cells = [_cell(by_key.get((s, t, "PER" if c == "PER" else "WER")) if s else None)
                     for s, c in zip(row.systems(), COLUMNS)]
            if any(c != MISSING for c in cells):
                body.append([f"★ {row.label}" if row.ours else row.label, *cells])
        if not body:
            continue
        tables += [f"### {t}", "", "| " + " | ".join(["system", *COLUMNS]) + " |", "|" + "---|" * (len(COLUMNS) + 1)]
        tables += ["| " + " | ".join(line) + " |" for line in body] + [""]
    return intro + (tables or ["No system of the paper's table was scored in any seed.", ""])


def write_aggregate(seeds_dir: str | Path, test_set: str = "test") -> Tuple[Path, Path]:
    """``seeds_dir/results_seeds.tsv`` and ``seeds_dir/RESULTS_seeds.md`` from every seed run under ``seeds_dir``;
    the shared stages' rows are those of ``seeds_dir/../exp/results.tsv`` (when it exists)."""
    seeds_dir = Path(seeds_dir)
    per_seed = load_seed_results(seeds_dir)
    shared_exp = seeds_dir.parent / "exp"
    shared = load_results(shared_exp) if (shared_exp / "results.tsv").is_file() else None
    stats = aggregate(per_seed, shared)
    tsv, md = seeds_dir / SEEDS_TSV, seeds_dir / SEEDS_MD
    atomic_write_text(tsv, stats_text(list(per_seed), stats))
    atomic_write_text(md, "\n".join([f"# Results over seeds of {seeds_dir}", "",
                                     *section(list(per_seed), stats, test_set)]).rstrip() + "\n")
    return tsv, md
