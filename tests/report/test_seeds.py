"""Results over seeds: hand-checked mean / sample std, the last-row rule, n where a seed lacks a system, shared
rows, the Markdown cells, the report's section and the CLI's error line."""
from __future__ import annotations

from pathlib import Path

import pytest

from phonasr.bin import aggregate_seeds as cli
from phonasr.report.build import make_report
from phonasr.report.seeds import read_stats, write_aggregate

from .conftest import plain_row, write_results


def _line(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"| {label} |"))


@pytest.fixture
def seeds_root(tmp_path) -> Path:
    """Seeds 1, 2, 3 scored, seed 11 not yet; s2p_ft_text comes from the shared stages (the root's exp/)."""
    shared = plain_row("s2p_ft_text", "test", "WER", 30.0)
    write_results(tmp_path / "exp", [shared])
    mls = {"1": 10.0, "2": 12.0, "3": 14.0}
    per = {"1": 4.0, "2": 5.0, "3": 6.0}
    subword_lm = {"1": 20.0, "2": 21.0}  # seed 3 never scored it
    for seed in mls:
        lines = [shared, plain_row("jsa_aug_mls", "test", "WER", 99.0)] if seed == "1" else [shared]  # 99: stale
        lines += [plain_row("jsa_aug_mls", "test", "WER", mls[seed]), plain_row("jsa_aug", "test", "PER", per[seed])]
        if seed in subword_lm:
            lines.append(plain_row("s2p_ft_text_lm", "test", "WER", subword_lm[seed]))
        write_results(tmp_path / "seeds" / seed / "exp", lines)
    (tmp_path / "seeds/11/exp").mkdir(parents=True)
    (tmp_path / "seeds/not_a_seed").mkdir()
    return tmp_path


def _tsv_rows(path: Path) -> dict:
    lines = [line.split("\t") for line in path.read_text().splitlines()]
    return {tuple(f[:3]): f[3:] for f in lines[1:]}, lines[0]


def test_mean_std_n_and_each_seed(seeds_root):
    tsv, _ = write_aggregate(seeds_root / "seeds")
    rows, header = _tsv_rows(tsv)
    assert header == ["system", "test_set", "metric", "mean", "std", "n", "min", "max", "shared",
                      "seed_1", "seed_2", "seed_3", "seed_11"]  # numeric order; the unscored seed 11 counts
    # (10 + 12 + 14) / 3 = 12; sample std sqrt((4 + 0 + 4) / 2) = 2; seed 1's stale 99 above its 10 is not read
    assert rows[("jsa_aug_mls", "test", "WER")] == ["12.00", "2.00", "3", "10.00", "14.00", "false",
                                                    "10.00", "12.00", "14.00", ""]
    # seeds 1 and 2 only: n = 2, mean 20.5, std sqrt((0.25 + 0.25) / 1) = 0.71
    assert rows[("s2p_ft_text_lm", "test", "WER")] == ["20.50", "0.71", "2", "20.00", "21.00", "false",
                                                      "20.00", "21.00", "", ""]
    assert rows[("s2p_ft_text", "test", "WER")][:6] == ["30.00", "0.00", "3", "30.00", "30.00", "true"]


def test_markdown_cells_and_read_back(seeds_root):
    tsv, md = write_aggregate(seeds_root / "seeds")
    text = md.read_text()
    assert "Over 4 seeds (1, 2, 3, 11;" in text
    assert _line(text, "JSA-SPG + aug") == "| JSA-SPG + aug | 5.00 ± 1.00 (3) | – | – | 12.00 ± 2.00 (3) |"
    assert _line(text, "subword FT") == "| subword FT | – | 30.00 (shared) | 20.50 ± 0.71 (2) | – |"
    assert "| SPG init |" not in text  # no seed scored it
    seeds, stats = read_stats(tsv)
    assert seeds == ["1", "2", "3", "11"]
    one = next(s for s in stats if s.system == "s2p_ft_text_lm")
    assert (one.n, one.mean, one.values) == (2, 20.5, (20.0, 21.0, None, None))


def test_one_seed_has_no_spread(tmp_path):
    write_results(tmp_path / "seeds/5/exp", [plain_row("jsa_aug_mls", "test", "WER", 8.0)])
    _, md = write_aggregate(tmp_path / "seeds")
    assert _line(md.read_text(), "JSA-SPG + aug") == "| JSA-SPG + aug | – | – | – | 8.00 ± – (1) |"


def test_the_report_shows_the_seeds_beside_exp(seeds_root):
    exp = seeds_root / "exp"
    assert "## Over seeds" not in make_report(exp, seeds_root / "plain.md", resamples=50).read_text()
    write_aggregate(seeds_root / "seeds")
    text = make_report(exp, seeds_root / "RESULTS.md", resamples=50).read_text()
    over = text.split("## Over seeds")[1].split("## Significance")[0]
    assert _line(over, "JSA-SPG + aug") == "| JSA-SPG + aug | 5.00 ± 1.00 (3) | – | – | 12.00 ± 2.00 (3) |"


def test_cli_missing_dir_is_one_error_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main([str(tmp_path / "nope")])
    assert stop.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {tmp_path / 'nope'} does not exist: run utils/run_seeds.sh first (or wrong dir)"]


def test_cli_writes_both_files(seeds_root):
    cli.main([str(seeds_root / "seeds")])
    assert (seeds_root / "seeds/results_seeds.tsv").is_file() and (seeds_root / "seeds/RESULTS_seeds.md").is_file()
