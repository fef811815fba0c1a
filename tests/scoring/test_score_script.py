"""steps/score.sh and utils/show_results.sh from a recipe-like directory."""
from __future__ import annotations

import subprocess

import pytest

from phonasr.bin import score
from phonasr.scoring import read_results


@pytest.fixture()
def recipe(tmp_path, repo_root):
    for name in ("steps", "utils"):
        (tmp_path / name).symlink_to(repo_root / name)
    (tmp_path / "ref.txt").write_text("u1\tthe cat sat on the mat\nu2\thello world\nu3\tgood day\n", encoding="utf-8")
    (tmp_path / "hyp.txt").write_text("u1\tthe cat sit on the mat here\nu3\tgood day\n", encoding="utf-8")
    return tmp_path


def run(recipe, *cmd):
    return subprocess.run(list(cmd), cwd=recipe, capture_output=True, text=True)


def test_score_sh_writes_details_summary_and_results(recipe):
    out = run(recipe, "bash", "steps/score.sh", "--metric", "wer", "ref.txt", "hyp.txt", "exp/s2p_ft/decode_test")
    assert out.returncode == 0, out.stderr
    # u1: 1 sub + 1 ins, u2 missing: 2 del, u3 correct -> 4 errors over 10 words
    assert out.stdout.strip() == "s2p_ft test %WER 40.00 [ 4 / 10, 1 ins, 2 del, 1 sub ]"
    assert "1 of 3 utterances have no hypothesis" in out.stderr and "u2" in out.stderr
    decode = recipe / "exp/s2p_ft/decode_test"
    assert (decode / "summary-test-wer.txt").read_text() == "%WER 40.00 [ 4 / 10, 1 ins, 2 del, 1 sub ]\n"
    errs = (decode / "errs-test-wer.txt").read_text(encoding="utf-8")
    assert "id: (u2)  (no hypothesis: scored as all deletions)" in errs
    [row] = read_results(recipe / "exp/results.tsv")
    assert row == {"system": "s2p_ft", "test_set": "test", "metric": "WER", "value": "40.00",
                   "errors/total": "4/10", "details": "exp/s2p_ft/decode_test/errs-test-wer.txt"}

    # CER: 34 reference characters (spaces dropped); u1 1 sub + 4 ins ("here"), u2 10 del -> 15/34 = 44.12
    score.main(["compute", "--metric", "cer", "--system", "other", "--results", str(recipe / "exp/results.tsv"),
                str(recipe / "ref.txt"), str(recipe / "hyp.txt"), str(recipe / "exp/s2p_ft/decode_test")])
    table = run(recipe, "bash", "utils/show_results.sh")
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines() == ["system  test WER  test CER",
                                         "s2p_ft     40.00         -",
                                         "other          -     44.12"]


def test_score_sh_rejects_hypotheses_of_unknown_utterances(recipe):
    (recipe / "bad_hyp.txt").write_text("u1\tthe cat\nstranger\tx\n", encoding="utf-8")
    out = run(recipe, "bash", "steps/score.sh", "ref.txt", "bad_hyp.txt", "exp/x/decode_test")
    assert out.returncode != 0
    assert "not in the reference: stranger" in out.stderr
    assert not (recipe / "exp/results.tsv").exists()
