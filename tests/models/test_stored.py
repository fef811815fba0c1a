"""models.stored: a trained model rebuilt from a checkpoint, with and without model_specs, checked against its
tokenizers."""
from __future__ import annotations

import pytest
import torch

from phonasr.models import build_model
from phonasr.models.stored import ModelSpec, load_stored_model, model_checkpoint, specs_metadata
from phonasr.tokenizers import PhonemeTokenizer, save_tokenizer
from phonasr.utils.io import atomic_torch_save

UNITS = ["a", "b", "d", "e"]
TOKEN_MODEL = {"type": "transformer", "preset": "tiny", "num_layers": 1, "d_model": 16, "num_heads": 2,
               "ffn_dim": 32, "dropout": 0.0}


@pytest.fixture
def lang(tmp_path):
    tokenizer = PhonemeTokenizer.from_units(UNITS)
    save_tokenizer(tokenizer, tmp_path / "lang")
    return tmp_path / "lang", tokenizer


def test_a_token_model_is_rebuilt_with_the_weights_it_was_saved_with(lang, tmp_path):
    lang_dir, tokenizer = lang
    torch.manual_seed(0)
    model = build_model(TOKEN_MODEL, tokenizer.vocab_size, tokenizer.vocab_size).eval()
    spec = ModelSpec(TOKEN_MODEL, str(lang_dir), list(tokenizer.symbols), str(lang_dir), list(tokenizer.symbols))
    metadata = specs_metadata({"p2g": spec, "g2p": spec})
    atomic_torch_save(model_checkpoint({"g2p": model, "p2g": model}, {}, metadata), tmp_path / "two.pt")
    stored = load_stored_model(tmp_path / "two.pt", prefer="p2g")
    assert stored.name == "p2g" and stored.lang_dir("input") == str(lang_dir)
    assert stored.tokenizer("input", str(lang_dir)).symbols == tokenizer.symbols
    tokens, lengths = torch.tensor([[1, 2, 3]]), torch.tensor([3])
    with torch.no_grad():
        torch.testing.assert_close(stored.build()(tokens, lengths)[0], model(tokens, lengths)[0])
    with pytest.raises(ValueError, match="holds models g2p, p2g: name the one to use"):
        load_stored_model(tmp_path / "two.pt")


def test_a_file_without_specs_is_described_by_config_model_and_its_tokenizer(lang, tmp_path):
    lang_dir, tokenizer = lang
    model = build_model({"type": "conformer", "preset": "tiny"}, tokenizer.vocab_size)
    atomic_torch_save(model_checkpoint({"s2p": model}, {"model": {"type": "conformer", "preset": "tiny"}},
                                       {"tokenizer_dir": str(lang_dir), "symbols": list(reversed(tokenizer.symbols))}),
                      tmp_path / "old.pt")
    stored = load_stored_model(tmp_path / "old.pt")
    assert stored.spec.config == {"type": "conformer", "preset": "tiny"} and stored.vocab_size("input") is None
    assert stored.build().vocab_size == tokenizer.vocab_size
    with pytest.raises(ValueError, match="records no input lang dir"):
        stored.lang_dir("input")
    with pytest.raises(ValueError, match="trained with output symbols of .*lang, which differ"):
        stored.tokenizer("output", stored.lang_dir("output"))
    smaller = tmp_path / "smaller"
    save_tokenizer(PhonemeTokenizer.from_units(UNITS[:-1]), smaller)
    with pytest.raises(ValueError, match=f"tokenizer {smaller} has {tokenizer.vocab_size - 1} tokens but model 's2p' "
                                         f"outputs {tokenizer.vocab_size}"):
        stored.tokenizer("output", str(smaller))
