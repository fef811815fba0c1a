"""exp/RESULTS_units.md: each table from the files its stage wrote, nothing invented for what has not run."""
from __future__ import annotations

import pytest

from phonasr.scoring.results import append_results
from phonasr.units.report import units_report


def write(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_tables_come_from_the_stage_files(tmp_path):
    exp = tmp_path / "exp"
    write(exp / "units/s2p_pretrain/abx_test/abx.tsv",
          "layer\tcontext\tspeaker\terror\ttriples\tcells\n"
          "2\twithin\twithin\t0.0243\t10\t2\n2\tany\tacross\t0.0370\t10\t2\n1\tany\tacross\t0.0427\t10\t2\n")
    write(exp / "units/frame_ce/purity_test/purity.tsv",
          "phone_purity\tcluster_purity\tpnmi\tframes\tk\tsilence_excluded\n0.6110\t0.2690\t0.5940\t12420\t100\tfalse\n")
    write(exp / "unit_lm_frame_ce_centroids/spot_the_word/spot_the_word.tsv",
          "scoring\tpairs\taccuracy\nsum\t100\t62.00\nmean\t100\t56.00\n")
    for system, cer in (("token_asr_s2p_pretrain_l2", 20.0), ("token_asr_s2p_ft_phone_l2", 15.0),
                        ("fbank_asr", 13.1)):
        append_results(exp / "results.tsv", system, "test", "cer", cer, 1, 10, "x")
    report = units_report(exp, "test")
    lines = report.splitlines()
    assert "| pretrained multilingual S2P | 1 | – | – | – | 4.27 |" in lines      # a condition not run: a dash
    assert "| pretrained multilingual S2P | 2 | 2.43 | – | – | 3.70 |" in lines
    assert "| phoneme classification FT, ~10 min | 100 | 0.611 | 0.269 | 0.594 | 12420 |" in lines
    assert "| phoneme classification FT, ~10 min | centroids | 62.00 | 56.00 | 100 |" in lines
    rows = [line for line in lines if line.startswith(("| fbank", "| units of "))]
    assert rows[0] == "| fbank (the same encoder size, from scratch) | – | 13.10 |"   # the baseline first
    assert "Two steps vs one: best CER 15.00 vs 20.00, +25% relative reduction." in lines


def test_nothing_measured_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no units results yet"):
        units_report(tmp_path, "test")
