"""RESULTS.md of a small constructed run: the cells, the last-row rule, "–", the sections, the plots, the CLI."""
from __future__ import annotations

import subprocess
import sys

import pytest

from phonasr.bin import make_report as cli
from phonasr.report.build import make_report
from phonasr.report.layout import rows_by_family
from phonasr.report.results import load_results

from .conftest import plain_row, write_results


def _line(text: str, label: str) -> str:
    """The table line of ``label`` (the first one, i.e. in the first table that has it)."""
    return next(line for line in text.splitlines() if line.startswith(f"| {label} |"))


def test_last_row_of_a_system_test_set_and_metric_wins(tmp_path):
    write_results(tmp_path / "exp", [plain_row("jsa", "test", "WER", 80), plain_row("jsa", "test", "CER", 30),
                                     plain_row("jsa", "test", "WER", 70)])
    results = load_results(tmp_path / "exp")
    assert results.get("jsa", "test", "WER").value == 70.0
    assert len(results.rows()) == 2 and results.get("jsa", "dev", "WER") is None


def test_report_cells(finished_run):
    root, exp = finished_run
    text = make_report(exp, root / "out" / "RESULTS.md", seed=3, resamples=200).read_text()
    # baseline: 4 of 12 words wrong (stale 99.00 replaced); CER as given; paper figures beside: 5.84 / 3.82
    assert _line(text, "subword FT") == "| subword FT | – | 33.33 / 22.47 | 33.33 | – | – | 5.84 | 3.82 | – |"
    # JSA-SPG + aug: PER, 1 of 12 words wrong without LM and with MLS, no LM row -> "–"
    assert _line(text, "JSA-SPG + aug") == "| JSA-SPG + aug | 4.27 | 8.33 | – | 8.33 | 17.35 | 4.64 | 4.37 | 3.64 |"
    assert _line(text, "JSA-SPG") == "| JSA-SPG | – | – | – | – | 17.35 | 8.19 | 4.65 | 3.93 |"
    assert "| ★ JSA S2P → lexicon-free phone HLG | – | – | – | – |" in text
    # domain adaptation on the other-domain set, with the paper's VoxPopuli figures
    assert "### test_other (paper: Polish VoxPopuli test" in text
    assert _line(text.split("### test_other")[1], "JSA-SPG + LDA") == \
        "| JSA-SPG + LDA | – | 30.00 | – | – | – | 28.87 | 23.84 | 20.57 |"
    # controls: one row per family (X, X_lm), the LM, and rows no table names
    assert _line(text.split("## Controls")[1], "control_longer_ft") == "| control_longer_ft | 3.50 | – | 70.00 | – |"
    assert _line(text, "test") == "| test | 776.45 | 40.50 | 1/1 |"
    assert _line(text, "s2p_pretrain") == "| s2p_pretrain | 11.15 |"


def test_significance_of_the_headline_pairs(finished_run):
    root, exp = finished_run
    text = make_report(exp, root / "RESULTS.md", seed=3, resamples=200).read_text()
    line = _line(text, "jsa_aug_mls vs s2p_ft_text_lm")
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[1:6] == ["test", "4", "33.33", "8.33", "-25.00"]
    assert float(cells[7]) > 0.9  # better on 3 of 4 utterances, never worse
    assert "| jsa_aug vs s2p_ft_text | test | 4 |" in text
    again = make_report(exp, root / "again.md", seed=3, resamples=200).read_text()
    assert again.split("## Plots")[0] == text.split("## Plots")[0]  # seeded: the same numbers


def test_a_missing_pair_is_explained_not_fatal(tmp_path):
    write_results(tmp_path / "exp", [plain_row("s2p_ft_text", "test", "WER", 50)])
    text = make_report(tmp_path / "exp", tmp_path / "RESULTS.md").read_text()
    assert "jsa_aug_mls vs s2p_ft_text_lm on test: not computed (no WER row for s2p_ft_text_lm and jsa_aug_mls)" in text
    assert "No control systems" in text and "No JSA training curves" in text


def test_plots_are_written_beside_the_report(finished_run):
    root, exp = finished_run
    out = make_report(exp, root / "r" / "RESULTS.md")
    for name in ("wer_bars.png", "jsa_curves.png"):
        png = root / "r" / "RESULTS_plots" / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert f"](RESULTS_plots/{name})" in out.read_text()
    assert "Not logged by this run, so not plotted: train/cache_per_unlabelled." in out.read_text()
    make_report(exp, out)  # a rerun replaces the folder and leaves nothing else behind
    assert sorted(p.name for p in (root / "r").iterdir()) == ["RESULTS.md", "RESULTS_plots"]


def test_families_group_decoders():
    rows = rows_by_family(["control_a", "control_a_lm", "control_a_mls", "control_b_lm"])
    assert [(r.label, r.per, r.no_lm, r.lm, r.mls) for r in rows] == [
        ("control_a", "control_a", "control_a", "control_a_lm", "control_a_mls"),
        ("control_b", None, None, "control_b_lm", None)]


def test_cli_names_a_missing_results_table_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--exp", str(tmp_path / "exp")])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {tmp_path}/exp/results.tsv does not exist: no scoring stage has run in "
                   f"{tmp_path}/exp (or wrong --exp)"]


def test_cli_writes_exp_results_md(finished_run, repo_root):
    root, exp = finished_run
    run = subprocess.run([sys.executable, "-m", "phonasr.bin.make_report", "--exp", "exp", "--bootstrap", "50"],
                         cwd=root, capture_output=True, text=True, env={"PYTHONPATH": str(repo_root)}, timeout=120)
    assert run.returncode == 0, run.stderr
    assert (exp / "RESULTS.md").is_file() and (exp / "RESULTS_plots" / "wer_bars.png").is_file()
    assert "50 bootstrap resamples" in (exp / "RESULTS.md").read_text()


def test_the_lda_comparison_and_both_word_lms(tmp_path):
    write_results(tmp_path / "exp", [
        plain_row("s2p_ft_text_lda_lm", "test_other", "WER", 40.0), plain_row("jsa_lda_mls", "test_other", "WER", 35.0),
        plain_row("lm", "test_other", "PPL", 900.0), plain_row("lm", "test_other", "OOV", 50.0),
        plain_row("lm_lda", "test_other", "PPL", 300.0), plain_row("lm_lda", "test_other", "OOV", 20.0)])
    text = make_report(tmp_path / "exp", tmp_path / "RESULTS.md").read_text()
    domain = text.split("## Language-domain adaptation")[1].split("## Controls")[0]
    # the paper's baseline: subword FT fused with an LM of the same adaptation text
    assert _line(domain, "subword FT (+ adaptation LM)").startswith("| subword FT (+ adaptation LM) | – | – | 40.00 |")
    assert "| lm" not in domain  # perplexity rows are no system of the domain table
    # the LDA pairs are bootstrapped on the other-domain set (these rows name no details file: explained, not fatal)
    assert "- jsa_lda_mls vs s2p_ft_text_lda_lm on test_other: not computed (" in text
    assert "- jsa_lda_lm vs s2p_ft_text_lda_lm on test_other: not computed (no WER row for jsa_lda_lm)" in text
    lms = text.split("## Word LM")[1]
    assert "### `lm_lda`: trained on the training transcripts + the adaptation text" in lms
    assert "| test_other | 900.00 | 50.00 |" in lms and "| test_other | 300.00 | 20.00 |" in lms
