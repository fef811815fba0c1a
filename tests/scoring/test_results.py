"""exp/results.tsv: created with its header, rows replaced not duplicated, safe under parallel writers."""
from __future__ import annotations

import multiprocessing

import pytest

from phonasr.scoring import append_results, format_long, format_wide, read_results
from phonasr.scoring.results import HEADER


def test_created_with_header_and_rows_appended(tmp_path):
    tsv = tmp_path / "exp" / "results.tsv"
    append_results(tsv, "s2p_ft", "test", "per", 12.345, 123, 1000, "exp/s2p_ft/decode_test/errs-test-per.txt")
    append_results(tsv, "s2p_ft", "test", "wer", 40.0, 40, 100, "exp/s2p_ft/decode_test/errs-test-wer.txt")
    lines = tsv.read_text().splitlines()
    assert lines[0] == HEADER == "system\ttest_set\tmetric\tvalue\terrors/total\tdetails"
    assert lines[1] == "s2p_ft\ttest\tPER\t12.35\t123/1000\texp/s2p_ft/decode_test/errs-test-per.txt"
    assert len(lines) == 3


def test_rescoring_replaces_the_row_in_place(tmp_path):
    tsv = tmp_path / "results.tsv"
    append_results(tsv, "a", "test", "per", 30.0, 30, 100, "d1")
    append_results(tsv, "b", "test", "per", 20.0, 20, 100, "d2")
    append_results(tsv, "a", "test", "per", 25.0, 25, 100, "d3")
    rows = read_results(tsv)
    assert [(r["system"], r["value"], r["errors/total"], r["details"]) for r in rows] == [
        ("a", "25.00", "25/100", "d3"), ("b", "20.00", "20/100", "d2")]


def _append_one(args):
    tsv, i = args
    append_results(tsv, f"sys{i}", "test", "wer", float(i), i, 100, f"d{i}")


def test_parallel_writers_lose_no_rows(tmp_path):
    tsv = tmp_path / "results.tsv"
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.map(_append_one, [(tsv, i) for i in range(16)])
    assert sorted(r["system"] for r in read_results(tsv)) == sorted(f"sys{i}" for i in range(16))


def test_bad_table_and_bad_fields_are_errors(tmp_path):
    tsv = tmp_path / "results.tsv"
    tsv.write_text("something else\n")
    with pytest.raises(ValueError, match="not a phonasr results table"):
        read_results(tsv)
    with pytest.raises(ValueError, match="no tab or newline"):
        append_results(tmp_path / "new.tsv", "a\tb", "test", "wer", 1.0, 1, 100, "d")


def test_wide_and_long_tables():
    rows = [
        {"system": "s2p_ft", "test_set": "test", "metric": "PER", "value": "12.30", "errors/total": "123/1000",
         "details": "e1"},
        {"system": "s2p_ft", "test_set": "test", "metric": "WER", "value": "45.10", "errors/total": "451/1000",
         "details": "e2"},
        {"system": "jsa_spg", "test_set": "test", "metric": "WER", "value": "9.05", "errors/total": "90/1000",
         "details": "e3"},
    ]
    assert format_wide(rows) == ("system   test PER  test WER\n"
                                 "s2p_ft      12.30     45.10\n"
                                 "jsa_spg         -      9.05\n")
    long = format_long(rows).splitlines()
    assert long[0].split() == ["system", "test_set", "metric", "value", "errors/total", "details"]
    assert long[3] == "jsa_spg  test      WER      9.05       90/1000  e3"
    assert format_wide([]) == "(no results yet)\n"
