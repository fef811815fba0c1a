"""A tiny Polish JSA setup shared by the JSA tests: lang dirs, feature cuts with true phonemes, init checkpoints."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
import torch
from lhotse import CutSet, Features, MonoCut, NumpyFilesWriter, SupervisionSegment

from phonasr.models import build_model
from phonasr.models.stored import model_checkpoint
from phonasr.tokenizers import BpeTokenizer, CharTokenizer, PhonemeTokenizer, save_tokenizer
from phonasr.utils.io import atomic_torch_save

SENTENCES = [("ala ma kota", "a l a m a k o t a"), ("to jest dom", "t o j ɛ s t d o m"),
             ("kot ma ale", "k o t m a a l ɛ"), ("dom jest tu", "d o m j ɛ s t t u"),
             ("mama ma kota", "m a m a m a k o t a"), ("tata je", "t a t a j ɛ")]
LABELLED = ["pl-000", "pl-001"]
TINY_TOKEN_MODEL = {"type": "transformer", "preset": "tiny", "upsample": 2}


def _write_cuts(path: Path, storage: Path, items: List[tuple]) -> None:
    rng = np.random.default_rng(0)
    cuts = []
    with NumpyFilesWriter(storage) as writer:
        for utt, text, phones in items:
            feats = rng.standard_normal((160, 80)).astype(np.float32)
            feat = Features(type="fbank", num_frames=160, num_features=80, frame_shift=0.01, sampling_rate=16000,
                            start=0.0, duration=1.6, storage_type=writer.name,
                            storage_path=str(writer.storage_path), storage_key=writer.write(utt, feats))
            sup = SupervisionSegment(id=utt, recording_id=utt, start=0.0, duration=1.6, text=text, language="pl",
                                     custom={"phones": phones})
            cuts.append(MonoCut(id=utt, start=0.0, duration=1.6, channel=0, supervisions=[sup], features=feat))
    CutSet.from_cuts(cuts).to_file(path)


def _save_model(path: Path, name: str, cfg: dict, vocab: int, in_vocab=None, symbols=None) -> None:
    model = build_model(cfg, vocab, in_vocab)
    meta = {"symbols": symbols} if symbols else {}
    atomic_torch_save(model_checkpoint({name: model}, {"model": cfg}, meta), path)


@pytest.fixture(scope="module")
def jsa_corpus(tmp_path_factory) -> Dict:
    root = tmp_path_factory.mktemp("jsa")
    texts = [t for t, _ in SENTENCES]
    phone_tok = PhonemeTokenizer.from_units(sorted({u for _, p in SENTENCES for u in p.split()}))
    save_tokenizer(phone_tok, root / "lang_phone")
    save_tokenizer(CharTokenizer.from_texts(texts), root / "lang_char")
    bpe = BpeTokenizer.train(texts, 20, root / "lang_bpe")
    save_tokenizer(bpe, root / "lang_bpe")
    items = [(f"pl-{i:03d}", t, p) for i, (t, p) in enumerate(SENTENCES)]
    _write_cuts(root / "train.jsonl.gz", root / "storage", items)
    _write_cuts(root / "dev.jsonl.gz", root / "storage", items[:2])
    _write_cuts(root / "subset.jsonl.gz", root / "storage", [i for i in items if i[0] in LABELLED])
    torch.manual_seed(0)
    phones = phone_tok.vocab_size
    chars = CharTokenizer.from_texts(texts).vocab_size
    _save_model(root / "s2p.pt", "s2p", {"type": "conformer", "preset": "tiny"}, phones,
                symbols=list(phone_tok.symbols))
    _save_model(root / "p2g.pt", "p2g", TINY_TOKEN_MODEL, bpe.vocab_size, phones)
    _save_model(root / "g2p.pt", "g2p", TINY_TOKEN_MODEL, phones, chars)
    config = {
        "task": "jsa", "seed": 3,
        "tokenizers": {"phone": str(root / "lang_phone"), "text": str(root / "lang_bpe"),
                       "char": str(root / "lang_char")},
        "init": {"s2p": str(root / "s2p.pt"), "p2g": str(root / "p2g.pt"), "g2p": str(root / "g2p.pt")},
        "jsa": {"num_samples": 4, "labelled": str(root / "subset.jsonl.gz"), "labelled_weight": 2},
        "data": {"train": str(root / "train.jsonl.gz"), "dev": str(root / "dev.jsonl.gz"), "max_duration": 5.0,
                 "num_buckets": 2, "num_workers": 0},
        "optim": {"name": "adam", "lr": 3e-4},
        "train": {"max_epochs": 1, "max_steps": 2, "log_every_steps": 1, "device": "cpu", "keep_best": 1,
                  "average_best": 1},
    }
    return {"root": root, "config": config, "phone_tok": phone_tok, "items": items, "labelled": LABELLED,
            "token_model": TINY_TOKEN_MODEL}
