"""The ARPA scorer: the backoff rule by hand, KenLM's own scores for an lmplz model, bad files, perplexity/OOV."""
from __future__ import annotations

import math
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from phonasr.lm.arpa import LN10, read_arpa
from phonasr.lm.evaluate import score_sentences
from phonasr.lm.train import find_lmplz, train_arpa
from tests.wfst import toy


@pytest.fixture
def toy_lm(tmp_path):
    path = tmp_path / "lm.arpa"
    path.write_text(toy.ARPA, encoding="utf-8")
    return read_arpa(path)


def test_backoff_walk_by_hand(toy_lm):
    # <s> a: listed bigram; a d | <s> a: listed trigram; </s> | a d: backoff(a d) + bigram d </s>
    expected = -0.3 + -0.1 + (-0.2 + -0.2)
    assert toy_lm.sentence_log_prob(["a", "d"]) == pytest.approx(expected * LN10)
    # ac | <s>: backoff(<s>) + unigram; unknown word -> <unk>; </s> | ac zzz: no listed context, unigram
    expected = (-0.4 - 1.1) + (-0.3 - 1.2) + -0.9
    assert toy_lm.sentence_log_prob(["ac", "zzz"]) == pytest.approx(expected * LN10)
    assert toy_lm.order == 3 and "abb" in toy_lm.vocabulary


def test_toy_lm_is_interpolated(toy_lm):
    """Every listed n-gram beats its backoff route: what makes G's best path equal the ARPA score."""
    for ngram, (prob, _) in toy_lm.ngrams.items():
        if len(ngram) > 1 and ngram[-1] != "<s>":
            backoff = toy_lm.ngrams.get(ngram[:-1], (0.0, 0.0))[1] * LN10
            assert prob * LN10 > backoff + toy_lm.word_log_prob(ngram[1:-1], ngram[-1]), ngram


def test_malformed_arpa_names_file_and_fix(tmp_path):
    path = tmp_path / "bad.arpa"
    path.write_text(toy.ARPA.replace("ngram 2=6", "ngram 2=7"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.arpa: the header announces .* truncated or corrupt"):
        read_arpa(path)
    path.write_text(toy.ARPA.replace("-0.3\tab d\t0", "x\tab d"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.arpa:\d+: not a number"):
        read_arpa(path)
    with pytest.raises(FileNotFoundError, match="steps/make_lm.sh"):
        read_arpa(tmp_path / "missing.arpa")


def test_perplexity_and_oov_rate(toy_lm):
    score = score_sentences(toy_lm, ["a d", "", "ac zzz"])
    assert (score.sentences, score.words, score.oov_words) == (2, 4, 1)
    assert score.oov_rate == pytest.approx(0.25)
    total = toy_lm.sentence_log_prob(["a", "d"]) + toy_lm.sentence_log_prob(["ac", "zzz"])
    assert score.perplexity == pytest.approx(math.exp(-total / 6))


def _kenlm_program(name: str) -> str:
    found = Path(sys.executable).parent / name
    if not found.is_file() and not shutil.which(name):
        pytest.skip(f"KenLM's {name} is not built; run `bash utils/install.sh --kenlm true`")
    return str(found) if found.is_file() else shutil.which(name)


def test_scores_equal_kenlm_query_on_an_lmplz_model(tmp_path):
    _kenlm_program("lmplz")
    query = _kenlm_program("query")
    rng = random.Random(0)
    vocab = ["ala", "ma", "kota", "psa", "dom", "jest", "tu", "i", "nie", "tak"]
    train = tmp_path / "train.txt"
    train.write_text("".join(" ".join(rng.choices(vocab, k=rng.randint(2, 7))) + "\n" for _ in range(200)))
    arpa = train_arpa([train], tmp_path / "lm.arpa", order=4)
    lm = read_arpa(arpa)
    tests = [" ".join(rng.choices(vocab + ["obcy"], k=rng.randint(1, 8))) for _ in range(30)]
    out = subprocess.run([query, "-v", "sentence", str(arpa)], input="\n".join(tests) + "\n", capture_output=True,
                         text=True, check=True).stdout
    totals = [float(line.split("Total:")[1].split()[0]) for line in out.splitlines() if "Total:" in line]
    assert len(totals) == len(tests)
    for sentence, total in zip(tests, totals):
        assert lm.sentence_log_prob(sentence.split()) == pytest.approx(total * LN10, abs=1e-4), sentence


def test_lmplz_missing_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    with pytest.raises(FileNotFoundError, match="utils/install.sh --kenlm true"):
        find_lmplz()
