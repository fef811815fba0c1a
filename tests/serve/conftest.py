"""A toy trained system (random tiny S2P, P2G and G2P with real lang dirs), laid out as a recipe leaves it,
and its packed model directory: what the model-directory, transcription and ONNX tests run on in seconds."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from phonasr.lm.arpa import read_arpa
from phonasr.models import build_model
from phonasr.models.stored import ModelSpec, model_checkpoint, specs_metadata
from phonasr.serve.pack import Source, pack_system
from phonasr.tokenizers import CharTokenizer, PhonemeTokenizer, load_tokenizer, save_tokenizer
from phonasr.utils.io import atomic_torch_save
from phonasr.wfst.fsts import WordTable
from phonasr.wfst.graph import make_graph_dir
from phonasr.wfst.lexicon import Pronunciation

S2P = {"type": "conformer", "d_model": 32, "num_blocks": 1, "num_heads": 2, "ffn_dim": 64, "conv_kernel": 7,
       "subsampling_channels": 8, "dropout": 0.0}
TOKEN = {"type": "transformer", "d_model": 16, "num_layers": 2, "num_heads": 2, "ffn_dim": 32, "dropout": 0.0,
         "upsample": 2, "copy_index": True}  # the ONNX export must carry the copy-index embedding
PHONES = ["a", "b", "d", "e", "i", "k", "o", "s", "t"]
TEXTS = ["kot i pies", "dom to dom", "a b c d e"]


@pytest.fixture(scope="session")
def toy_recipe(tmp_path_factory) -> Path:
    """A recipe output root with data/lang_* and exp/jsa/final.pt (s2p, p2g, g2p), and a results.tsv."""
    root = tmp_path_factory.mktemp("toy_recipe")
    phones, chars = PhonemeTokenizer.from_units(PHONES), CharTokenizer.from_texts(TEXTS)
    save_tokenizer(phones, root / "data/lang_phone")
    save_tokenizer(chars, root / "data/lang_char")
    torch.manual_seed(0)
    s2p = build_model(S2P, phones.vocab_size)
    p2g = build_model(TOKEN, chars.vocab_size, phones.vocab_size)
    g2p = build_model(TOKEN, phones.vocab_size, chars.vocab_size)
    with torch.no_grad():  # blank less dominant than at random init, so the toy S2P emits phonemes
        s2p.output.bias[0] = -2.0
        p2g.output.bias[0] = -2.0
    ph, ch = ("data/lang_phone", list(phones.symbols)), ("data/lang_char", list(chars.symbols))
    specs = {"s2p": ModelSpec(S2P, *ph), "p2g": ModelSpec(TOKEN, *ch, *ph), "g2p": ModelSpec(TOKEN, *ph, *ch)}
    atomic_torch_save(model_checkpoint({"s2p": s2p, "p2g": p2g, "g2p": g2p}, {"data": {"train": str(root)}},
                                       specs_metadata(specs)), root / "exp/jsa/final.pt")
    (root / "exp/results.tsv").write_text("system\ttest_set\tmetric\tvalue\terrors/total\tdetails\n"
                                          "toy\ttest\tWER\t99.00\t99/100\texp/toy/errs.txt\n")
    return root


def pack_toy(root: Path, out: Path) -> Path:
    ckpt = str(root / "exp/jsa/final.pt")
    return pack_system(out, system="toy", language="pl", s2p=Source(ckpt, "s2p"), p2g=Source(ckpt, "p2g"),
                       g2p=Source(ckpt, "g2p"), root=root, results=str(root / "exp/results.tsv"),
                       results_systems=["toy"])


@pytest.fixture(scope="session")
def toy_model(toy_recipe) -> Path:
    """The packed toy system (exp/toy/model); tests that change it work on a copy."""
    return pack_toy(toy_recipe, toy_recipe / "exp/toy/model")


# A tiny phone-level graph over PHONES: seven words, a unigram LM with two bigrams.
LEXICON = [Pronunciation("kot", ("k", "o", "t")), Pronunciation("i", ("i",)), Pronunciation("das", ("d", "a", "s")),
           Pronunciation("test", ("t", "e", "s", "t")), Pronunciation("bok", ("b", "o", "k")),
           Pronunciation("tak", ("t", "a", "k")), Pronunciation("sad", ("s", "a", "d"))]
WORDS = [p.word for p in LEXICON]
ARPA = ("\\data\\\nngram 1=10\nngram 2=2\n\n\\1-grams:\n-1.5\t<unk>\t0\n-99\t<s>\t-0.3\n-1.0\t</s>\t0\n"
        + "".join(f"-0.9\t{w}\t-0.2\n" for w in WORDS) + "\n\\2-grams:\n-0.2\tkot i\n-0.3\ti das\n\n\\end\\\n")
LM_WEIGHT = 0.5


def build_graph(root: Path, lang: str, out: str) -> Path:
    """The phone-level graph of LEXICON and ARPA over the lang dir ``lang`` of ``root``, as the recipe's stage 14
    leaves it (graph.yaml names the lang dir relative to the recipe root)."""
    (root / "lm.arpa").write_text(ARPA, encoding="utf-8")
    tokenizer = load_tokenizer(str(root / lang))
    make_graph_dir(root / out, LEXICON, tokenizer, lang, root / "lm.arpa",
                   WordTable(read_arpa(root / "lm.arpa").vocabulary))
    return root / out


def pack_with_graph(root: Path, out: Path, graph: Path, **kwargs) -> Path:
    ckpt = str(root / "exp/jsa/final.pt")
    return pack_system(out, system="toy", language="pl", s2p=Source(ckpt, "s2p"), p2g=Source(ckpt, "p2g"),
                       root=root, graph=str(graph), **kwargs)


@pytest.fixture(scope="session")
def lm_model(toy_recipe) -> Path:
    """The toy system packed with a graph over its phonemes and an LM weight file (exp/toy_lm/model)."""
    graph = build_graph(toy_recipe, "data/lang_phone", "exp/graph_phone_g2p")
    weight = toy_recipe / "exp/jsa_phone_g2p_lm/lmwt/weight.txt"
    weight.parent.mkdir(parents=True, exist_ok=True)
    weight.write_text(f"{LM_WEIGHT}\n")
    return pack_with_graph(toy_recipe, toy_recipe / "exp/toy_lm/model", graph, lm_weight_file=str(weight))


def write_wav(path: Path, seconds: float, rate: int = 16000, channels: int = 1, seed: int = 0) -> Path:
    """Speech-like test audio: a few harmonic tones with an amplitude envelope, and pauses, plus a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = 120 + 40 * np.sin(2 * np.pi * 0.7 * t)
    voiced = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / rate) / k for k in range(1, 6))
    envelope = np.clip(np.sin(2 * np.pi * 0.4 * t), 0, None)
    signal = 0.3 * voiced * envelope + 0.003 * rng.standard_normal(len(t))
    audio = np.stack([signal * (1 - 0.2 * c) for c in range(channels)], axis=1).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio, rate, subtype="PCM_16")
    return path
