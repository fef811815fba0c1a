"""Spot-the-word: pseudo-word rules on a constructed lexicon, real espeak-ng on two Polish words, pair files, and
the accuracy of a hand-built LM whose preferences are known."""
from __future__ import annotations

import dataclasses
import math
import subprocess
from pathlib import Path
from typing import List, Optional, Sequence

import pytest
import torch

from phonasr.bin import spot_the_word as scorer
from phonasr.models.stored import model_checkpoint
from phonasr.units.spot_the_word import (
    Lexicon,
    Pair,
    Phones,
    Voice,
    assign_voices,
    make_pairs,
    pseudo_candidates,
    read_pairs,
    substitutions,
    write_pairs,
)
from phonasr.units.store import save_arrays
from phonasr.units.unit_lm import METADATA_KEY, MODEL_NAME, UnitLmConfig, UnitLstmLm
from phonasr.utils.io import atomic_torch_save

LETTERS = "aiptkc"


def regular_spelling(spellings: Sequence[str]) -> List[Optional[Phones]]:
    """A mock espeak-ng: one phoneme per letter, ``c`` spoken as ``k`` (so ``cata`` sounds like ``kata``)."""
    return [tuple("k" if ch == "c" else ch for ch in s) for s in spellings]


def lexicon() -> Lexicon:
    training = {w: tuple(w) for w in ("pata", "tapa", "kata", "pika", "tiki")}
    return Lexicon.build(training, {"papa": tuple("papa")})


def test_only_edits_that_keep_the_structure_and_phonotactics_and_are_no_word_qualify():
    # pata's one-letter edits over a i p t k c, by hand: kata is a real spelling, cata a real pronunciation, papa
    # a real word of the other text; pita (it), paka and paca (ak) have a bigram no training word has; aata,
    # iata, ppta, ... put a vowel for a consonant or a consonant for a vowel. What is left:
    found = pseudo_candidates("pata", tuple("pata"), lexicon(), LETTERS, regular_spelling)
    assert found == [("tata", tuple("tata")), ("pati", tuple("pati"))]
    assert lexicon().rejects("cata", tuple("kata")) == "real pronunciation"
    assert lexicon().rejects("pita", tuple("pita")) == "unseen bigram"
    assert lexicon().rejects("papa", tuple("papa")) == "real spelling"


def test_substitutions_count_changes_of_the_same_syllable_structure():
    assert substitutions(tuple("pata"), tuple("tati")) == 2
    assert substitutions(tuple("pata"), tuple("pat")) is None        # another length
    assert substitutions(tuple("pata"), tuple("aata")) is None       # a vowel for a consonant
    assert substitutions(("ɔ", "k"), ("ɔ̃", "k")) == 1                 # a nasal vowel is a vowel


def test_max_changes_bounds_the_substitutions():
    def devoicing(spellings: Sequence[str]) -> List[Optional[Phones]]:  # "c" also turns the next "a" into "i"
        return [tuple(s.replace("ca", "ci").replace("c", "k")) for s in spellings]

    lex = Lexicon.build({w: tuple(w) for w in ("kiti", "taki", "pata", "kata")}, {})
    assert ("cata", tuple("kita")) in pseudo_candidates("pata", tuple("pata"), lex, LETTERS, devoicing, 2)
    assert all(c != "cata" for c, _ in pseudo_candidates("pata", tuple("pata"), lex, LETTERS, devoicing, 1))


def test_pairs_are_seeded_and_skip_short_words():
    candidates = {w: tuple(w) for w in ("pata", "tapa", "pika", "ta")}
    first = make_pairs(candidates, lexicon(), LETTERS, regular_spelling, num_pairs=10, seed=3)
    assert first == make_pairs(candidates, lexicon(), LETTERS, regular_spelling, num_pairs=10, seed=3)
    assert all(p.word != "ta" for p in first) and [p.pair_id for p in first][:1] == ["pair0001"]
    assert sorted(p.word for p in first) == ["pata", "pika", "tapa"]   # each has a pseudo-word (see above)
    for pair in first:
        assert substitutions(pair.word_phones, pair.pseudo_phones) in (1, 2)
    voices = [Voice("m1", 50, 165), Voice("f2", 35, 145)]
    spoken = assign_voices(first, voices, seed=3)
    assert sorted(p.speaker for p in spoken).count("m1:50:165") in (1, 2) and all(p.speaker for p in spoken)


def test_pairs_file_round_trips_and_a_hand_edit_is_caught(tmp_path: Path):
    pairs = [Pair("pair0001", "pata", "pati", tuple("pata"), tuple("pati"), "m1:50:165")]
    write_pairs(tmp_path / "pairs.tsv", pairs)
    assert read_pairs(tmp_path / "pairs.tsv") == pairs
    text = (tmp_path / "pairs.tsv").read_text(encoding="utf-8").replace("pair0001_pseudo", "pair0002_pseudo")
    (tmp_path / "pairs.tsv").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"pairs.tsv:2: cuts pair0001_word/pair0002_pseudo"):
        read_pairs(tmp_path / "pairs.tsv")


def test_real_espeak_ng_changes_one_phoneme_of_a_polish_word():
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (bash utils/install.sh installs it)")
    from phonasr.phonemes import IpaSegmenter
    from phonasr.units.spot_the_word import espeak_pronouncer

    segmenter = IpaSegmenter.for_language("pl")
    word, pseudo = espeak_pronouncer("pl", segmenter.segment)(["kobieta", "kopieta"])
    assert word == ("k", "ɔ", "b", "j", "ɛ", "t", "a") and substitutions(word, pseudo) == 1 and pseudo[2] == "p"
    # the library call speaks as the command line does: espeak-ng -q --ipa -v pl
    cli = subprocess.run(["espeak-ng", "-q", "--ipa", "-v", "pl", "kopieta"], capture_output=True, check=True)
    assert tuple(segmenter.segment(cli.stdout.decode().strip())) == pseudo


# ------------------------------------------------------------------------------------------------- scoring
K = 3
# a context-free LM: next-token probabilities 0.7 / 0.1 / 0.1 for units 0 / 1 / 2, 0.1 for </s>, ~0 for <s>
PROBS = [0.7, 0.1, 0.1, 1e-9, 0.1]


def fixed_lm_checkpoint(path: Path) -> None:
    config = UnitLmConfig(num_units=K, embed_dim=4, hidden_dim=4, num_layers=1, dropout=0.0)
    model = UnitLstmLm(config)
    with torch.no_grad():
        model.output.weight.zero_()
        model.output.bias.copy_(torch.log(torch.tensor(PROBS)))
    atomic_torch_save(model_checkpoint({MODEL_NAME: model}, {"task": "unit_lm"},
                                       {METADATA_KEY: {"model": dataclasses.asdict(config), "deduplicate": False,
                                                       "units_meta": {"k": K}}}), path)


def test_accuracy_by_sum_and_by_mean_of_a_known_lm(tmp_path: Path, capsys):
    fixed_lm_checkpoint(tmp_path / "lm.pt")
    pairs = [Pair(f"p{i}", f"w{i}", f"x{i}", ("a",), ("b",)) for i in range(3)]
    units = {"p0_word": [0, 0], "p0_pseudo": [1, 1],          # word more probable: 1 by either scoring
             "p1_word": [2, 0], "p1_pseudo": [2, 0],          # the same units: a tie, 0.5
             "p2_word": [0] * 10, "p2_pseudo": [2]}           # word less probable in sum, more per token
    save_arrays(tmp_path / "units.pt", "units", {c: torch.tensor(u) for c, u in units.items()}, {"k": K})
    write_pairs(tmp_path / "pairs.tsv", pairs)
    scorer.main([str(tmp_path / "lm.pt"), str(tmp_path / "units.pt"), str(tmp_path / "pairs.tsv"),
                 str(tmp_path / "out"), "--device", "cpu"])
    summary = (tmp_path / "out" / "spot_the_word.tsv").read_text().splitlines()
    assert summary == ["scoring\tpairs\taccuracy", "sum\t3\t50.00", "mean\t3\t83.33"]
    details = [line.split("\t") for line in (tmp_path / "out" / "spot_the_word.details.tsv").read_text().splitlines()]
    p2 = dict(zip(details[0], details[3]))
    assert float(p2["word_logprob"]) == pytest.approx(10 * math.log(0.7) + math.log(0.1), abs=1e-3)
    assert (p2["word_tokens"], p2["pseudo_tokens"], p2["credit_sum"], p2["credit_mean"]) == ("11", "2", "0.0", "1.0")

    del units["p2_pseudo"]
    save_arrays(tmp_path / "units.pt", "units", {c: torch.tensor(u) for c, u in units.items()}, {"k": K})
    with pytest.raises(SystemExit):
        scorer.main([str(tmp_path / "lm.pt"), str(tmp_path / "units.pt"), str(tmp_path / "pairs.tsv"),
                     str(tmp_path / "out2"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("error: ") and "lacks 1 cuts of the pairs (e.g. ['p2_pseudo'])" in err
