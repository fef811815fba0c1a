"""Planning the synthetic corpus: the dev/test vocabulary limit (languages.<code>.max_unseen_words)."""
from __future__ import annotations

import random

import pytest

from phonasr.data.synth.config import parse_config
from phonasr.data.synth.plan import plan_language, training_vocabulary, unseen_words

WORDS = ["kot", "pies", "dom", "las", "woda", "chleb", "mleko", "okno", "drzwi", "stół", "ptak", "ryba", "góra",
         "rzeka", "miasto", "droga", "szkoła", "książka", "lampa", "krzesło"]


def _config(tmp_path, limit):
    rng = random.Random(0)
    # 600 sentences of 3-5 words over 20 words (and a rare word in some), so most are covered by the training ones
    sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 5))) for _ in range(600)]
    rare = [f"zeta{a}{b}" for a in "abcdefghij" for b in "abcdefghijklmnopqrst"]  # 200 words seen once
    sentences = [s + (f" {rare[i // 3]}" if i % 3 == 0 else "") for i, s in enumerate(sentences)]
    (tmp_path / "pl.txt").write_text("\n\n".join(s.capitalize() + "." for s in sentences), encoding="utf-8")
    pl = {"voice": "pl", "minutes": 6, "text": [f"file:{tmp_path}/pl.txt"], "max_unseen_words": limit}
    return parse_config({"seed": 3, "languages": {"pl": pl}, "dev_fraction": 0.2, "test_fraction": 0.2,
                         "speakers": {"variants": ["m1", "f1"], "pitches": [40, 60], "rates": [150, 180],
                                      "dev_speakers": 1, "test_speakers": 1}})


@pytest.mark.parametrize("limit", [0, 1])
def test_dev_and_test_sentences_have_at_most_the_limit_of_unseen_words(tmp_path, limit):
    cfg = _config(tmp_path, limit)
    clips, _ = plan_language(cfg, cfg.language("pl"))
    seen = training_vocabulary(clips, "pl")
    held_out = [c for c in clips if c.split != "train"]
    assert {c.split for c in held_out} == {"dev", "test"}
    counts = [unseen_words(c.sentence, "pl", seen) for c in held_out]
    assert max(counts) == limit  # the limit holds, and with 1 some sentence uses it (a third have a rare word)
    assert not {c.sentence for c in held_out} & {c.sentence for c in clips if c.split == "train"}


def test_without_a_limit_dev_and_test_hold_unseen_words(tmp_path):
    cfg = _config(tmp_path, None)
    clips, _ = plan_language(cfg, cfg.language("pl"))
    seen = training_vocabulary(clips, "pl")
    assert sum(unseen_words(c.sentence, "pl", seen) for c in clips if c.split != "train") > 5


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_a_bad_limit_is_a_clear_error(tmp_path, bad):
    with pytest.raises(ValueError, match="languages.pl.max_unseen_words must be a whole number"):
        _config(tmp_path, bad)
