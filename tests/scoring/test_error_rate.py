"""Error rates checked against hand-computed examples and against kaldialign's own edit distance."""
from __future__ import annotations

import random

import kaldialign
import pytest

from phonasr.scoring import ErrorCounts, align_tokens, format_details, score_texts, tokenize
from phonasr.scoring.details import display_width
from phonasr.scoring.error_rate import EPS


def test_wer_hand_example():
    # the cat sat on the mat  ->  the cat sit on the mat here : 1 substitution, 1 insertion over 6 words
    score = score_texts({"u1": "the cat sat on the mat"}, {"u1": "the cat sit on the mat here"}, "wer")
    c = score.counts
    assert (c.ref_len, c.subs, c.dels, c.ins, c.errors) == (6, 1, 0, 1, 2)
    assert c.rate == pytest.approx(100 * 2 / 6)
    assert c.summary_line("wer") == "%WER 33.33 [ 2 / 6, 1 ins, 0 del, 1 sub ]"


def test_per_counts_multi_codepoint_phonemes_as_one_unit():
    # t͡ɕ a ɕ ɛ -> t ɕ ɛ : t͡ɕ->t substituted, a deleted; 2 errors over 4 phonemes
    score = score_texts({"u1": "t͡ɕ a ɕ ɛ"}, {"u1": "t ɕ ɛ"}, "per")
    c = score.counts
    assert (c.ref_len, c.subs, c.dels, c.ins) == (4, 1, 1, 0)
    assert c.summary_line("per") == "%PER 50.00 [ 2 / 4, 0 ins, 1 del, 1 sub ]"


def test_cer_ignores_spaces():
    assert tokenize("ab c", "cer") == ["a", "b", "c"]
    # "ab c" vs "abd": only c->d differs once spaces are dropped
    c = score_texts({"u1": "ab c"}, {"u1": "abd"}, "cer").counts
    assert (c.ref_len, c.subs, c.dels, c.ins) == (3, 1, 0, 0)
    assert c.summary_line("cer") == "%CER 33.33 [ 1 / 3, 0 ins, 0 del, 1 sub ]"


def test_corpus_rate_pools_counts_not_utterance_rates():
    # u1: 1 error / 1 word (100%), u2: 0 errors / 4 words  -> 1/5 = 20%, not the 50% mean of utterance rates
    score = score_texts({"u1": "a", "u2": "b c d e"}, {"u1": "x", "u2": "b c d e"}, "wer")
    assert score.counts.rate == pytest.approx(20.0)


def test_missing_hypotheses_are_all_deletions_and_listed():
    score = score_texts({"u1": "a b", "u2": "c d e", "u3": "f"}, {"u1": "a b", "u3": "f"}, "wer")
    c = score.counts
    assert (c.ref_len, c.dels, c.errors) == (6, 3, 3)
    assert c.rate == pytest.approx(50.0)
    assert score.missing == ["u2"]
    details = format_details(score, "sys/test")
    assert "Utterances without a hypothesis (scored as all deletions): 1" in details
    assert details.rstrip().endswith("MISSING HYPOTHESES:\nu2")


def test_empty_hypothesis_text_is_not_missing():
    score = score_texts({"u1": "a b"}, {"u1": ""}, "wer")
    assert score.counts.dels == 2 and score.missing == []


def test_unknown_hypothesis_ids_are_an_error_naming_them():
    with pytest.raises(ValueError, match="not in the reference: zz1, zz2"):
        score_texts({"u1": "a"}, {"u1": "a", "zz1": "b", "zz2": "c"}, "wer")


def test_empty_references_are_an_error():
    with pytest.raises(ValueError, match="no units to score"):
        score_texts({"u1": ""}, {"u1": "a"}, "wer")


def test_counts_match_kaldialign_edit_distance():
    rng = random.Random(0)
    for _ in range(200):
        ref = [rng.choice("abcd") for _ in range(rng.randint(0, 8))]
        hyp = [rng.choice("abcde") for _ in range(rng.randint(0, 8))]
        _, counts = align_tokens(ref, hyp)
        expected = kaldialign.edit_distance(ref, hyp)
        assert (counts.ins, counts.dels, counts.subs) == (expected["ins"], expected["del"], expected["sub"])


def test_error_counts_add_up():
    total = ErrorCounts()
    total += ErrorCounts(ref_len=3, ins=1, dels=0, subs=1)
    total += ErrorCounts(ref_len=2, ins=0, dels=2, subs=0)
    assert (total.ref_len, total.errors, total.correct) == (5, 4, 2)


def test_details_block_is_aligned_by_display_width():
    score = score_texts({"u1": "t͡ɕ a ɕ ɛ"}, {"u1": "t ɕ ɛ x"}, "per")
    details = format_details(score, "sys/test")
    block = details.split("PER-UTTERANCE DETAILS:\n")[1].split("\n\n")[0]
    assert block == ("id: (u1)\n"
                     "Scores: (#C #S #D #I) 2 1 1 1\n"
                     "REF:  t͡ɕ a   ɕ ɛ ***\n"
                     "HYP:  t  *** ɕ ɛ x\n"
                     "Eval: S  D       I")
    ref_line, hyp_line = block.splitlines()[2:4]
    # the tie bar of t͡ɕ takes no column, so "ɕ ɛ" starts at the same screen column in both lines
    assert display_width(ref_line[: ref_line.index("ɕ ɛ")]) == display_width(hyp_line[: hyp_line.index("ɕ ɛ")])
    assert "     1  t͡ɕ -> t" in details and "     1  a\n" in details and "     1  x\n" in details
    assert EPS not in details
