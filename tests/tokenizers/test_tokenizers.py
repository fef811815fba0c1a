"""Phoneme, character and BPE tokenizers saved to and loaded from lang dirs: blank 0, round trips, unknowns."""
from __future__ import annotations

import pytest
import yaml

from phonasr.phonemes import IpaSegmenter, espeak_ipa, load_inventory
from phonasr.tokenizers import (
    BpeTokenizer,
    CharTokenizer,
    PhonemeTokenizer,
    UnknownSymbolError,
    load_tokenizer,
    save_tokenizer,
)

TEXTS = ["dzień dobry wszystkim", "to jest bardzo ładny dom", "w czwartek pójdziemy do kina",
         "ala ma kota a kot ma alę", "źdźbło trawy drży na wietrze"]


def test_phoneme_tokenizer_round_trip_on_espeak_phones(tmp_path):
    save_tokenizer(PhonemeTokenizer.from_units(load_inventory("pl"), "pl"), tmp_path)
    tok = load_tokenizer(tmp_path)
    assert isinstance(tok, PhonemeTokenizer) and tok.blank_id == 0 and tok.symbols[0] == "<blk>"
    assert tok.vocab_size == len(load_inventory("pl")) + 1
    segmenter = IpaSegmenter(load_inventory("pl"))
    for ipa in espeak_ipa(TEXTS, "pl"):
        phones = " ".join(segmenter.segment(ipa))
        ids = tok.encode(phones)
        assert 0 not in ids and tok.decode(ids) == phones
    assert tok.decode([0, tok.encode("tɕ")[0], 0, 0]) == "tɕ"


def test_phoneme_tokenizer_names_the_unknown_symbol(tmp_path):
    save_tokenizer(PhonemeTokenizer.from_units(["a", "tɕ"]), tmp_path)
    tok = load_tokenizer(tmp_path)
    with pytest.raises(UnknownSymbolError, match=r"'t͡ɕ' is not in the token table") as info:
        tok.encode("a t͡ɕ")
    assert info.value.symbol == "t͡ɕ"
    with pytest.raises(UnknownSymbolError):
        tok.encode("<blk>")


def test_char_tokenizer_round_trip_and_unknown_count(tmp_path):
    save_tokenizer(CharTokenizer.from_texts(TEXTS), tmp_path)
    tok = load_tokenizer(tmp_path)
    assert isinstance(tok, CharTokenizer) and tok.symbols[:3] == ["<blk>", "<unk>", "▁"]
    for text in TEXTS:
        assert tok.decode(tok.encode(text)) == text
    ids = tok.encode("  ala   ma  ")
    assert tok.decode(ids) == "ala ma" and ids.count(tok.table.id("▁")) == 1
    ids = tok.encode("qax ęa")
    assert ids.count(tok.unk_id) == 2 and dict(tok.unknown) == {"q": 1, "x": 1}


def test_bpe_caps_vocabulary_on_tiny_corpus_and_round_trips(tmp_path):
    tok = BpeTokenizer.train(TEXTS, 500, tmp_path)
    save_tokenizer(tok, tmp_path)
    config = yaml.safe_load((tmp_path / "tokenizer.yaml").read_text(encoding="utf-8"))
    assert config["type"] == "bpe" and config["requested_vocab_size"] == 500
    assert config["vocab_size"] < 500
    loaded = load_tokenizer(tmp_path)
    assert loaded.vocab_size == config["vocab_size"] == len((tmp_path / "tokens.txt").read_text().splitlines())
    assert loaded.blank_id == 0 and loaded.symbols[:2] == ["<blk>", "<unk>"]
    for text in TEXTS:
        ids = loaded.encode(text)
        assert 0 not in ids and loaded.decode(ids) == text
    assert loaded.decode([0] + loaded.encode("dom") + [0]) == "dom"


def test_bpe_keeps_the_requested_size_when_the_text_allows(tmp_path):
    assert BpeTokenizer.train(TEXTS, 40, tmp_path).vocab_size == 40


def test_bpe_grows_to_hold_every_character(tmp_path):
    tok = BpeTokenizer.train(TEXTS, 5, tmp_path)
    assert tok.vocab_size == CharTokenizer.from_texts(TEXTS).vocab_size and tok.requested_size == 5
    assert all(tok.decode(tok.encode(t)) == t for t in TEXTS)


def test_bad_tokenizer_yaml(tmp_path):
    with pytest.raises(FileNotFoundError, match="make_lang"):
        load_tokenizer(tmp_path)
    (tmp_path / "tokenizer.yaml").write_text("type: words\n")
    with pytest.raises(ValueError, match="'type' must be one of"):
        load_tokenizer(tmp_path)


def test_inconsistent_lang_dir_is_detected(tmp_path):
    save_tokenizer(PhonemeTokenizer.from_units(["a", "b"]), tmp_path)
    (tmp_path / "tokens.txt").write_text("<blk> 0\na 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="vocab_size 3 but the files hold 2"):
        load_tokenizer(tmp_path)
