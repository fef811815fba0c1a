"""Fixtures of the P2G/G2P tool tests: lang dirs, a cut manifest and checkpoints in the formats the trainer writes
(a token-task P2G and G2P, and a JSA final.pt holding s2p, p2g and g2p)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict

import pytest
import torch

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the tests import p2g_data by module name
    sys.path.insert(0, str(HERE))

from p2g_data import SENTENCES, UTTS, write_cuts  # noqa: E402

from phonasr.jsa.task import JsaTask  # noqa: E402
from phonasr.models import build_model  # noqa: E402
from phonasr.models.stored import model_checkpoint  # noqa: E402
from phonasr.tokenizers import BpeTokenizer, CharTokenizer, PhonemeTokenizer, save_tokenizer  # noqa: E402
from phonasr.train.token_task import TokenCtcTask  # noqa: E402
from phonasr.utils.io import atomic_torch_save  # noqa: E402

TOKEN_MODEL = {"type": "transformer", "preset": "tiny", "num_layers": 1, "d_model": 32, "num_heads": 2,
               "ffn_dim": 64, "dropout": 0.0, "upsample": 2}


def _save_token_model(root: Path, name: str, in_dir: Path, out_dir: Path) -> Path:
    """A freshly initialised P2G/G2P saved with the token task's own checkpoint metadata."""
    config = {"task": "token_ctc", "model_name": name, "input_tokenizer": str(in_dir),
              "output_tokenizer": str(out_dir), "model": TOKEN_MODEL}
    task = TokenCtcTask(config, torch.device("cpu"))
    path = root / f"{name}.pt"
    atomic_torch_save(model_checkpoint(task.build_models(), config, task.checkpoint_metadata()), path)
    return path


@pytest.fixture(scope="session")
def p2g_setup(tmp_path_factory) -> Dict:
    root = tmp_path_factory.mktemp("p2g")
    texts = [t for t, _ in SENTENCES]
    phones = PhonemeTokenizer.from_units(sorted({u for _, p in SENTENCES for u in p.split()}))
    dirs = {"phone": root / "lang_phone", "text": root / "lang_bpe", "char": root / "lang_char"}
    save_tokenizer(phones, dirs["phone"])
    save_tokenizer(CharTokenizer.from_texts(texts), dirs["char"])
    save_tokenizer(BpeTokenizer.train(texts, 20, dirs["text"]), dirs["text"])

    torch.manual_seed(0)
    p2g = _save_token_model(root, "p2g", dirs["phone"], dirs["text"])
    g2p = _save_token_model(root, "g2p", dirs["char"], dirs["phone"])
    s2p_cfg = {"type": "conformer", "preset": "tiny"}
    s2p = root / "s2p.pt"
    atomic_torch_save(model_checkpoint({"s2p": build_model(s2p_cfg, phones.vocab_size)}, {"model": s2p_cfg},
                                       {"tokenizer_dir": str(dirs["phone"]), "symbols": phones.symbols}), s2p)
    # a JSA final.pt as the trainer writes it, its models initialised from the three checkpoints above
    jsa_config = {"task": "jsa", "tokenizers": {k: str(d) for k, d in dirs.items()},
                  "init": {"s2p": str(s2p), "p2g": str(p2g), "g2p": str(g2p)}}
    task = JsaTask(jsa_config, torch.device("cpu"))
    models = task.initialize(task.build_models())
    jsa = root / "jsa_final.pt"
    atomic_torch_save(model_checkpoint(models, jsa_config, task.checkpoint_metadata()), jsa)

    cuts = write_cuts(root / "cuts_test.jsonl.gz", list(zip(UTTS, texts)))
    return {"root": root, "dirs": dirs, "p2g": p2g, "g2p": g2p, "s2p": s2p, "jsa": jsa, "cuts": cuts}
