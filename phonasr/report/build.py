"""One finished run's ``exp/`` into RESULTS.md and a folder of PNGs beside it (``RESULTS_plots/``), atomically:
a report is either the old one or the new one, never half of each, so a stage killed mid-way can simply rerun.
Where utils/run_seeds.sh left ``seeds/results_seeds.tsv`` beside ``exp/``, the report shows it too ("Over seeds").
"""
from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

from phonasr.report.curves import JSA_PANELS, read_scalars
from phonasr.report.layout import (
    CONTROL_PREFIX,
    DOMAIN_PAIRS,
    DOMAIN_ROWS,
    DOMAIN_SYSTEM_PREFIX,
    HEADLINE_PAIRS,
    LM_SYSTEMS,
    MAIN_ROWS,
    OTHER_DOMAIN_MARK,
    TableRow,
    named_systems,
    rows_by_family,
)
from phonasr.report.markdown import Comparison, Figure, render
from phonasr.report.plots import curve_panels, grouped_bars
from phonasr.report.results import Results, load_results
from phonasr.report.seeds import SEEDS_TSV, read_stats, section
from phonasr.report.significance import paired_bootstrap
from phonasr.scoring.details import read_utterance_counts
from phonasr.utils.io import atomic_write_text

logger = logging.getLogger(__name__)

DECODERS = (("no LM", "no_lm"), ("LM", "lm"), ("MLS", "mls"))


def compare(results: Results, system_a: str, system_b: str, test_set: str, metric: str, resamples: int,
            seed: int) -> Comparison:
    """The paired bootstrap of two systems' details files, or the reason it cannot be run."""
    found = [results.get(s, test_set, metric) for s in (system_a, system_b)]
    missing = [s for s, r in zip((system_a, system_b), found) if r is None]
    if missing:
        return Comparison(system_a, system_b, test_set, metric, f"no {metric} row for {' and '.join(missing)}")
    try:
        counts = [read_utterance_counts(r.details) for r in found if r]
        outcome = paired_bootstrap(counts[0], counts[1], resamples, seed)
    except (OSError, ValueError) as e:
        return Comparison(system_a, system_b, test_set, metric, str(e))
    return Comparison(system_a, system_b, test_set, metric, outcome)


def domain_tables(results: Results) -> Dict[str, List[TableRow]]:
    """Per test set of the domain-adaptation systems or with "other" in its name: the fixed rows, and on other-domain
    sets every further system scored there (by its paper-table row when it has one)."""
    lda = [s for s in results.systems() if s.startswith(DOMAIN_SYSTEM_PREFIX)]
    sets = [t for t in results.test_sets() if OTHER_DOMAIN_MARK in t or t in results.test_sets(lda)]
    tables = {}
    for t in sets:
        rows = list(DOMAIN_ROWS)
        if OTHER_DOMAIN_MARK in t:
            here = {r.system for r in results.rows() if r.test_set == t}
            rows += [row for row in MAIN_ROWS if here & set(row.systems()) and row not in rows]
            rows += rows_by_family(s for s in results.systems()
                                   if s in here and s not in named_systems(rows) and s not in LM_SYSTEMS)
        tables[t] = rows
    return tables


def control_tables(results: Results) -> Dict[str, List[TableRow]]:
    controls = [s for s in results.systems() if s.startswith(CONTROL_PREFIX)]
    return {t: rows_by_family(controls) for t in results.test_sets(controls)}


def _wer_bars(results: Results, test_set: str, path: Path, link: str) -> Optional[Figure]:
    groups: List[Tuple[str, List[Optional[float]]]] = []
    for row in MAIN_ROWS:
        found = [results.get(getattr(row, field), test_set, "WER") for _, field in DECODERS]
        if any(found):
            groups.append((row.label, [r.value if r else None for r in found]))
    if not groups:
        return None
    grouped_bars(groups, [name for name, _ in DECODERS], path, f"WER on {test_set} per system and decoder",
                 "WER (%)")
    return Figure(f"WER per system and decoder ({test_set})", link, "")


def _jsa_curves(jsa_dir: Path, path: Path, link: str) -> Union[Figure, str]:
    """The curves figure (its note names the scalars the run did not log), or why there is none."""
    tags = [tag for _, panel_tags in JSA_PANELS for tag in panel_tags]
    curves = read_scalars(jsa_dir, tags) if (jsa_dir / "tensorboard").is_dir() else {}
    if not curves:
        return f"No JSA training curves: {jsa_dir}/tensorboard holds none of {', '.join(tags)}."
    curve_panels(JSA_PANELS, curves, path, f"JSA training ({jsa_dir})")
    missing = [t for t in tags if t not in curves]
    return Figure("JSA training curves", link, f"From the TensorBoard scalars of {jsa_dir}." +
                  (f" Not logged by this run, so not plotted: {', '.join(missing)}." if missing else ""))


def make_report(exp_dir: str | Path, out: str | Path, test_set: str = "test", resamples: int = 1000, seed: int = 0,
                jsa_dir: Optional[str | Path] = None) -> Path:
    """Write ``out`` (RESULTS.md) and ``<out stem>_plots/`` beside it from ``exp_dir``; returns ``out``."""
    exp_dir, out = Path(exp_dir), Path(out)
    results = load_results(exp_dir)
    jsa_dir = Path(jsa_dir) if jsa_dir else exp_dir / "jsa"
    out.parent.mkdir(parents=True, exist_ok=True)
    plots_dir = out.parent / f"{out.stem}_plots"
    tmp = Path(tempfile.mkdtemp(prefix=f".{plots_dir.name}.", dir=out.parent))
    old = out.parent / f".{plots_dir.name}.old"
    try:
        tmp.chmod(0o755)
        comparisons = [compare(results, a, b, test_set, "WER", resamples, seed) for a, b in HEADLINE_PAIRS]
        comparisons += [compare(results, a, b, other, "WER", resamples, seed) for other in results.test_sets()
                        if OTHER_DOMAIN_MARK in other for a, b in DOMAIN_PAIRS]
        bars = _wer_bars(results, test_set, tmp / "wer_bars.png", f"{plots_dir.name}/wer_bars.png")
        curves = _jsa_curves(jsa_dir, tmp / "jsa_curves.png", f"{plots_dir.name}/jsa_curves.png")
        figures = [f for f in (bars, curves) if isinstance(f, Figure)]
        notes = [n for n in (curves,) if isinstance(n, str)]
        if bars is None:
            notes.insert(0, f"No WER bars: no system of the paper's table has a WER row on {test_set}.")
        for note in notes:
            logger.warning("%s", note)
        seeds_tsv = exp_dir.parent / "seeds" / SEEDS_TSV
        over_seeds = section(*read_stats(seeds_tsv), test_set) if seeds_tsv.is_file() else []
        text = render(results, str(exp_dir), test_set, MAIN_ROWS, domain_tables(results), control_tables(results),
                      comparisons, figures, notes, over_seeds)
        shutil.rmtree(old, ignore_errors=True)
        if plots_dir.exists():
            plots_dir.rename(old)
        tmp.rename(plots_dir)
        atomic_write_text(out, text)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
