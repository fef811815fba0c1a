"""Labelled-subset selection: coverage, priority, budgets, determinism, and reporting of unusable cuts."""
from __future__ import annotations

import random

import pytest
from lhotse import CutSet

from phonasr.data.subset import (
    SubsetConfig,
    greedy_select,
    resolve_priority,
    select_labelled_subset,
)
from phonasr.phonemes import EspeakG2P, IpaSegmenter, Lexicon, load_inventory
from tests.subset.synthetic_cuts import make_cut, polish_cuts

PL = load_inventory("pl")


def hand_made():
    phones = {"A": "a a a a", "B": "a tɕ", "C": "b", "D": "tɕ tɕ dʑ"}
    seconds = {"A": 1.0, "B": 1.0, "C": 1.0, "D": 2.0}
    return {k: v.split() for k, v in phones.items()}, seconds


def test_greedy_covers_first_then_favours_priority():
    phones, seconds = hand_made()
    config = SubsetConfig(minutes=None, count=3, priority=["tɕ", "dʑ"])
    # Round 0 (one of each): D adds tɕ + dʑ (weight 10 each) = 20, B only 11; then a and b (gain 1 each) from
    # A and C, the smaller id first (B would also add a, but A comes first among equals).
    assert greedy_select(phones, seconds, config) == ["D", "A", "C"]
    # Round 1 asks 5 tɕ: B is the only cut left with one.
    assert greedy_select(phones, seconds, SubsetConfig(minutes=None, count=4, priority=["tɕ", "dʑ"]))[3] == "B"


def test_minutes_budget_skips_cuts_that_do_not_fit():
    phones, seconds = hand_made()
    config = SubsetConfig(minutes=1.5 / 60, priority=["tɕ", "dʑ"])
    assert greedy_select(phones, seconds, config) == ["B"]  # D (2 s) does not fit; then 0.5 s left


def test_without_priority_plain_coverage_per_second():
    phones, seconds = hand_made()
    chosen = greedy_select(phones, seconds, SubsetConfig(minutes=None, count=3))
    assert set(chosen) >= {"B", "C"} and {u for c in chosen for u in phones[c]} == {"a", "b", "tɕ", "dʑ"}


def test_budget_larger_than_the_pool_takes_everything():
    phones, seconds = hand_made()
    assert sorted(greedy_select(phones, seconds, SubsetConfig(minutes=10))) == ["A", "B", "C", "D"]


def test_subset_covers_all_phonemes_and_priority_counts():
    cuts = CutSet.from_cuts(polish_cuts(60))  # 1.5 minutes
    priority, _ = resolve_priority("pl", PL)
    half = select_labelled_subset(cuts, "pl", PL, SubsetConfig(minutes=0.5, priority=priority))
    assert 0.4 < half.minutes <= 0.5 and len(half.cuts) < 60
    assert all(r.subset > 0 for r in half.coverage if r.full > 0)
    assert all(c.supervisions[0].custom["phones"] for c in half.cuts)
    share = {flag: sum(r.subset for r in half.coverage if r.priority == flag) /
             sum(r.full for r in half.coverage if r.priority == flag) for flag in (True, False)}
    assert share[True] > share[False]  # priority phonemes are over-represented

    rows = {r.phoneme: r for r in select_labelled_subset(cuts, "pl", PL, SubsetConfig(
        minutes=1.0, priority=priority)).coverage}
    for unit in priority:
        assert rows[unit].priority and rows[unit].subset >= min(rows[unit].full, 5)
    assert list(rows)[:len(priority)] == sorted(priority, key=lambda u: (-rows[u].full, u))  # table order


def test_selection_is_deterministic_and_order_independent():
    cuts = polish_cuts(60)
    config = SubsetConfig(minutes=None, count=12, priority=resolve_priority("pl", PL)[0])
    first = [c.id for c in select_labelled_subset(CutSet.from_cuts(cuts), "pl", PL, config).cuts]
    random.Random(3).shuffle(cuts)
    again = [c.id for c in select_labelled_subset(CutSet.from_cuts(cuts), "pl", PL, config).cuts]
    assert first == again and len(first) == 12


def test_paper_priority_mapped_to_espeak_spelling():
    assert resolve_priority("pl", PL) == (["dʑ", "tɕ", "dʒ", "tʃ", "ŋ", "ʑ", "f"], ["dz"])
    assert resolve_priority("id", load_inventory("id")) == (["ç", "z", "v", "x"], ["q", "ɣ"])
    assert resolve_priority("pl", PL, ["ʂ", "ɕ", "ɕ"]) == (["ɕ"], ["ʂ"])


def test_cuts_without_phones_are_pronounced_or_reported(tmp_path):
    lexicon_file = tmp_path / "lexicon.txt"
    lexicon_file.write_text("dom\td ɔ m\nkot\tk ɔ t\nma\tm a\n", encoding="utf-8")
    lexicon = Lexicon.from_file(lexicon_file, IpaSegmenter(PL))
    cuts = CutSet.from_cuts([
        make_cut(0, "dom kot", "pl"), make_cut(1, "kot ma dom", "pl"), make_cut(2, "ala ma kota", "pl"),
        make_cut(3, "pies", "pl", phones=["p", "j", "ɛ", "s"]), make_cut(4, "kot", "pl", phones=["k", "θ"]),
    ])
    result = select_labelled_subset(cuts, "pl", PL, SubsetConfig(minutes=None, count=10), lexicon)
    assert sorted(c.id for c in result.cuts) == ["utt000", "utt001", "utt003"]
    assert dict(result.missing_words) == {"ala": 1, "kota": 1}
    reasons = dict(result.rejected)
    assert reasons["utt002"] == "no pronunciation for: ala kota"
    assert "θ" in reasons["utt004"]
    by_id = {c.id: c.supervisions[0].custom["phones"] for c in result.cuts}
    assert by_id["utt001"] == "k ɔ t m a d ɔ m" and by_id["utt003"] == "p j ɛ s"


def test_espeak_pronounces_cuts_without_manifest_phones():
    cuts = CutSet.from_cuts(polish_cuts(10, with_phones=False))
    expected = {c.id: c.supervisions[0].custom["phones"] for c in polish_cuts(10)}
    result = select_labelled_subset(cuts, "pl", PL, SubsetConfig(minutes=None, count=10), EspeakG2P("pl",
                                    IpaSegmenter(PL)))
    assert {c.id: c.supervisions[0].custom["phones"] for c in result.cuts} == expected


def test_no_usable_cut_is_an_error():
    cuts = CutSet.from_cuts([make_cut(0, "dom", "pl")])
    with pytest.raises(ValueError, match="utt000: no phones in the manifest and no pronunciation source"):
        select_labelled_subset(cuts, "pl", PL, SubsetConfig())


def test_config_needs_exactly_one_budget():
    with pytest.raises(ValueError, match="exactly one budget"):
        SubsetConfig(minutes=10, count=5)
    with pytest.raises(ValueError, match="positive"):
        SubsetConfig(minutes=0)
