"""RESULTS.md as text: the paper-layout table with the paper's figures beside it, the domain-adaptation table, the
controls, the LM, everything else in results.tsv, the paired significance tests and the plots.

Pure formatting: every number comes from :class:`~phonasr.report.results.Results` or the caller, so the same
inputs always give the same document.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Union

from phonasr.report import paper
from phonasr.report.layout import COLUMNS, LM_SYSTEMS, TableRow, named_systems
from phonasr.report.results import Results
from phonasr.report.significance import BootstrapResult

MISSING = "–"


@dataclass(frozen=True)
class Comparison:
    """A paired test of ``system_b`` against ``system_a`` on ``test_set``: its result, or why there is none."""
    system_a: str
    system_b: str
    test_set: str
    metric: str
    outcome: Union[BootstrapResult, str]


@dataclass(frozen=True)
class Figure:
    title: str
    path: str  # relative to RESULTS.md
    note: str


def _number(value: Optional[float]) -> str:
    return MISSING if value is None else f"{value:.2f}"


def cell(results: Results, system: Optional[str], test_set: str, column: str) -> str:
    """PER for the PER column; ``WER / CER`` (or whichever exists) for the word columns; "–" when not run."""
    metrics = ("PER",) if column == "PER" else ("WER", "CER")
    found = [results.get(system, test_set, m) for m in metrics]
    return " / ".join(f"{r.value:.2f}" for r in found if r) or MISSING


def _has_any(results: Results, row: TableRow, test_set: str) -> bool:
    return any(cell(results, s, test_set, c) != MISSING for s, c in zip(row.systems(), COLUMNS))


def _table(header: Sequence[str], body: Sequence[Sequence[str]]) -> List[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + \
        ["| " + " | ".join(line) + " |" for line in body]


def rows_table(results: Results, rows: Sequence[TableRow], test_set: str,
               figures: Optional[Dict[str, paper.Figures]] = None, only_run: bool = False) -> List[str]:
    """Our PER / no LM / LM / MLS per row on ``test_set``, then the paper's four figures when ``figures`` is given;
    ``only_run`` drops rows with nothing on ``test_set``."""
    header = ["system", *COLUMNS] + ([f"paper {c}" for c in COLUMNS] if figures is not None else [])
    body = []
    for row in rows:
        if only_run and not _has_any(results, row, test_set):
            continue
        line = [f"★ {row.label}" if row.ours else row.label]
        line += [cell(results, s, test_set, c) for s, c in zip(row.systems(), COLUMNS)]
        if figures is not None:
            line += [_number(v) for v in figures.get(row.paper or "", (None,) * len(COLUMNS))]
        body.append(line)
    return _table(header, body)


def lm_tables(results: Results) -> List[str]:
    """A perplexity / OOV table per word LM of :data:`LM_SYSTEMS` that has rows (a heading each when several)."""
    present = [s for s in LM_SYSTEMS if results.test_sets([s])]
    if not present:
        return [f"No LM rows (systems {', '.join(f'`{s}`' for s in LM_SYSTEMS)}) in results.tsv."]
    out: List[str] = []
    for system in present:
        if len(present) > 1:
            out += [f"### `{system}`: trained on {LM_SYSTEMS[system]}", ""]
        body = []
        for test_set in results.test_sets([system]):
            ppl, oov = results.get(system, test_set, "PPL"), results.get(system, test_set, "OOV")
            body.append([test_set, _number(ppl.value if ppl else None), _number(oov.value if oov else None),
                         oov.errors_total if oov else MISSING])
        out += _table(["test set", "perplexity", "OOV %", "OOV words / words"], body) + [""]
    return out[:-1]


def leftover_table(results: Results, systems: Sequence[str]) -> List[str]:
    """Every (test set, metric) of ``systems`` as columns: rows that no other table shows."""
    columns = list(dict.fromkeys((r.test_set, r.metric) for r in results.rows() if r.system in systems))
    body = [[s] + [_number(r.value) if (r := results.get(s, t, m)) else MISSING for t, m in columns]
            for s in systems]
    return _table(["system"] + [f"{t} {m}" for t, m in columns], body)


def significance_table(comparisons: Sequence[Comparison]) -> List[str]:
    done = [(c, c.outcome) for c in comparisons if isinstance(c.outcome, BootstrapResult)]
    lines: List[str] = []
    if done:
        body = [[f"{c.system_b} vs {c.system_a}", c.test_set, str(r.utterances), f"{r.rate_a:.2f}", f"{r.rate_b:.2f}",
                 f"{r.delta:+.2f}", f"[{r.ci_low:+.2f}, {r.ci_high:+.2f}]", f"{r.p_b_better:.3f}"] for c, r in done]
        metric = done[0][0].metric
        lines += _table(["B vs A", "test set", "utts", f"{metric} A", f"{metric} B", "Δ = B − A", "95% CI of Δ",
                         "P(B better)"], body)
        lines += ["", f"{done[0][1].resamples} bootstrap resamples of the test set's utterances."]
    lines += [f"- {c.system_b} vs {c.system_a} on {c.test_set}: not computed ({c.outcome})."
              for c in comparisons if not isinstance(c.outcome, BootstrapResult)]
    return lines


def render(results: Results, exp_dir: str, test_set: str, main_rows: Sequence[TableRow],
           domain: Dict[str, List[TableRow]], controls: Dict[str, List[TableRow]], comparisons: Sequence[Comparison],
           figures: Sequence[Figure], notes: Sequence[str] = (), over_seeds: Sequence[str] = ()) -> str:
    """The whole document. ``domain`` / ``controls``: rows per test set (the caller picked the sets); ``notes``:
    plots that could not be drawn, and why; ``over_seeds``: the body of the "Over seeds" section (none: no such
    section), from :func:`phonasr.report.seeds.section`."""
    main_sets = [test_set] + [t for t in results.test_sets(named_systems(main_rows)) if t != test_set]
    out = [f"# Results of {exp_dir}", "",
           f"Made by `utils/make_report.sh` from `{exp_dir}/results.tsv` (the last row of each system, test set "
           "and metric). Word columns hold WER / CER (%), the PER column the S2P's phoneme error rate (%); "
           f"{MISSING} = not run. Every LM weight was chosen on dev. ★ = a row the paper does not have.", "",
           "## The paper's table", ""]
    for t in main_sets:
        figures_here = paper.IN_DOMAIN if t == test_set else None
        out += [f"### {t}" + (f" (paper: CommonVoice Polish test, {paper.SOURCE}, WER only)" if figures_here else ""),
                ""]
        out += rows_table(results, main_rows, t, figures_here) + [""]
    if over_seeds:
        out += ["## Over seeds", "", *over_seeds]
    out += ["## Significance (paired bootstrap over utterances)", "",
            "Δ < 0 and a CI below 0 mean B makes fewer errors than A; P(B better) is the share of resampled test "
            "sets on which B's error rate is lower (ties count half): near 1 (or 0) the difference is unlikely to be "
            "an accident of which sentences the test set holds, near 0.5 it may well be.", ""]
    out += significance_table(comparisons) or ["No headline pair has both systems scored."]
    out += ["", "## Language-domain adaptation", ""]
    if not domain:
        out += ["No domain-adaptation systems (`jsa_lda*`) and no other-domain test set in results.tsv.", ""]
    for t, rows in domain.items():
        other = paper.OTHER_DOMAIN if "other" in t else None
        out += [f"### {t}" + (f" (paper: Polish VoxPopuli test, {paper.SOURCE})" if other else
                              " (in-domain: no other-domain test set was scored)"), ""]
        out += rows_table(results, rows, t, other) + [""]
    out += ["## Controls", ""]
    if not controls:
        out += ["No control systems (`control_*`) in results.tsv yet.", ""]
    for t, rows in controls.items():
        out += [f"### {t}", ""] + rows_table(results, rows, t, only_run=True) + [""]
    out += ["## Word LM", ""] + lm_tables(results) + [""]
    shown = set(named_systems(main_rows)) | {s for rows in (*domain.values(), *controls.values())
                                             for s in named_systems(rows)} | set(LM_SYSTEMS)
    rest = [s for s in results.systems() if s not in shown]
    if rest:
        out += ["## Other rows of results.tsv", ""] + leftover_table(results, rest) + [""]
    if figures or notes:
        out += ["## Plots", ""]
    for f in figures:
        out += [f"### {f.title}", "", f"![{f.title}]({f.path})", ""] + ([f.note, ""] if f.note else [])
    out += [f"{note}\n" for note in notes]
    return "\n".join(out).rstrip() + "\n"
