"""The paired bootstrap on cases checked by hand: no difference, a difference on every utterance, a seed."""
from __future__ import annotations

import pytest

from phonasr.report.significance import paired_bootstrap
from phonasr.scoring import score_texts, write_details
from phonasr.scoring.details import read_utterance_counts
from phonasr.scoring.error_rate import ErrorCounts


def counts(errors, ref_len=10):
    return {f"u{i}": ErrorCounts(ref_len=ref_len, subs=e) for i, e in enumerate(errors)}


def test_identical_systems_give_no_difference():
    a = counts([1, 3, 0, 5, 2, 7, 1, 0])
    r = paired_bootstrap(a, dict(a), resamples=300, seed=1)
    assert r.delta == 0 and r.ci_low == r.ci_high == 0
    assert r.p_b_better == 0.5  # every resample ties: half
    assert r.rate_a == r.rate_b == pytest.approx(100 * 19 / 80)


def test_better_on_every_utterance_is_certain():
    a, b = counts([3, 4, 2, 5, 6, 3]), counts([1, 2, 1, 2, 3, 0])
    r = paired_bootstrap(a, b, resamples=500, seed=0)
    assert r.p_b_better == 1.0
    assert r.rate_a == pytest.approx(100 * 23 / 60) and r.rate_b == pytest.approx(100 * 9 / 60)
    assert r.delta == pytest.approx(100 * (9 - 23) / 60) and r.ci_high < 0
    assert paired_bootstrap(b, a, resamples=500, seed=0).p_b_better == 0.0


def test_a_seed_fixes_the_result():
    a, b = counts([3, 0, 2, 5, 1, 3, 4, 0, 1]), counts([2, 1, 2, 3, 1, 4, 2, 0, 2])
    first, again = paired_bootstrap(a, b, 1000, seed=7), paired_bootstrap(a, b, 1000, seed=7)
    assert first == again
    assert paired_bootstrap(a, b, 1000, seed=8) != first
    assert first.ci_low <= first.delta <= first.ci_high and 0 < first.p_b_better < 1


def test_different_utterances_are_refused_by_name():
    a, b = counts([1, 2, 3]), counts([1, 2])
    b["extra"] = ErrorCounts(ref_len=10)
    with pytest.raises(ValueError, match=r"only in A 1 \(u2\), only in B 1 \(extra\)"):
        paired_bootstrap(a, b)


def test_counts_read_back_from_the_details_writer(tmp_path):
    refs = {"a": "x y z", "b": "p q", "c": "r"}
    score = score_texts(refs, {"a": "x z w v", "b": "p q"}, "wer")  # c has no hypothesis: all deletions
    write_details(tmp_path / "errs.txt", score, "sys/test")
    back = read_utterance_counts(tmp_path / "errs.txt")
    assert back == {u.utt_id: u.counts for u in score.utts}
    assert (back["a"].subs, back["a"].dels, back["a"].ins, back["c"].dels) == (0, 1, 2, 1)  # y deleted; w v in


def test_a_file_without_scores_is_refused(tmp_path):
    (tmp_path / "x.txt").write_text("hello\n")
    with pytest.raises(ValueError, match="not a phonasr details file"):
        read_utterance_counts(tmp_path / "x.txt")
