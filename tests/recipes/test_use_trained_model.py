"""The quick recipe's packed system, used as a person who was handed it would: copied to another directory
(a path with spaces and non-ASCII characters), transcribing espeak-ng speech of a sentence it never saw, bad
inputs reported one by one, and its ONNX export equal to torch on real test utterances in one padded batch."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from lhotse import CutSet

ROOT = Path(__file__).resolve().parents[2]
UNSEEN = "kot siedzi na oknie i patrzy na ptaki w ogrodzie"  # not in the quick corpus's sentences


def transcribe(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "phonasr.command", "transcribe", *args], capture_output=True,
                          text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def handed_over(quick_run, tmp_path_factory) -> Path:
    """exp/jsa_aug/model (stage 17) copied elsewhere, after the recipe directory is out of reach."""
    packed = quick_run / "exp/jsa_aug/model"
    assert (packed / "model.yaml").is_file(), "stage 17 left no packed model"
    copy = tmp_path_factory.mktemp("handed") / "mój model pl"
    shutil.copytree(packed, copy)
    return copy


@pytest.mark.slow
def test_the_sentence_is_not_in_the_corpus(quick_run):
    text = " ".join(p.read_text(encoding="utf-8").lower() for p in (quick_run / "corpus/pl").glob("*.tsv"))
    assert UNSEEN not in text


@pytest.mark.slow
def test_packed_model_transcribes_unseen_speech_and_bad_inputs(handed_over, tmp_path):
    raw = tmp_path / "raw.wav"
    subprocess.run(["espeak-ng", "-v", "pl", "-w", str(raw), UNSEEN], check=True)
    good = tmp_path / "zdanie ąę ćwiczenie.wav"  # espeak-ng's own 22.05 kHz, spaces and non-ASCII in the name
    shutil.copy(raw, good)
    stereo = tmp_path / "stereo8k.wav"
    subprocess.run(["sox", str(raw), "-r", "8000", "-c", "2", str(stereo)], check=True)
    empty = tmp_path / "empty.wav"
    sf.write(str(empty), np.zeros((0, 1), np.float32), 16000)
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"\x00\x01 not an mp3 at all " * 50)
    run = transcribe("--output-format", "json", str(handed_over), str(good), str(empty), str(stereo), str(junk))
    assert run.returncode == 2, run.stderr[-3000:]
    records = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["name"] for r in records] == ["zdanie ąę ćwiczenie", "stereo8k"]
    for r in records:
        assert len(r["phonemes"].split()) >= 15, r  # the S2P hears the ~35 phonemes of the sentence
        assert r["duration"] > 2.0 and all(0 <= w["start"] <= w["end"] <= r["duration"] + 0.1 for w in r["words"])
    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2 and "Traceback" not in run.stderr
    assert "empty" in errors[0] and "no samples" in errors[0] and "junk" in errors[1]


@pytest.mark.slow
def test_onnx_export_matches_torch_on_real_test_utterances(quick_run, handed_over, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    from phonasr.serve.model_dir import load_model_dir
    from phonasr.serve.networks import load_network
    from phonasr.serve.onnx_export import export_model_dir
    from phonasr.serve.recognizer import load_recognizer

    model_dir = tmp_path / "model"
    shutil.copytree(handed_over, model_dir)
    export_model_dir(load_model_dir(model_dir), ["s2p", "p2g", "g2p"])
    loaded = load_model_dir(model_dir)
    monkeypatch.chdir(quick_run)  # the manifest's feature and audio paths are relative to the recipe root
    cuts = sorted(CutSet.from_file(quick_run / "data/fbank/pl/cuts_test.jsonl.gz"), key=lambda c: c.duration)[:4]
    assert len({c.num_frames for c in cuts}) == len(cuts) > 1, "need several lengths in one batch"
    feats = [c.load_features() for c in cuts]
    lengths = np.array([f.shape[0] for f in feats], dtype=np.int64)
    batch = np.zeros((len(feats), lengths.max(), feats[0].shape[1]), dtype=np.float32)
    for i, f in enumerate(feats):
        batch[i, : len(f)] = f
    torch_s2p, onnx_s2p = load_network(loaded, "s2p"), load_network(loaded, "s2p", backend="onnx")
    (a, la), (b, lb) = torch_s2p.run(batch, lengths), onnx_s2p.run(batch, lengths)
    assert la.tolist() == lb.tolist()
    assert max(float((a[i, :n] - b[i, :n]).abs().max()) for i, n in enumerate(la.tolist())) < 1e-4
    phones = [torch.argmax(a[i, :n], -1) for i, n in enumerate(la.tolist())]
    ids = [[int(x) for x in p.unique_consecutive() if x != 0] for p in phones]
    tok_lengths = np.array([max(len(x), 1) for x in ids], dtype=np.int64)
    tokens = np.zeros((len(ids), tok_lengths.max()), dtype=np.int64)
    for i, x in enumerate(ids):
        tokens[i, : len(x)] = x
    (c, lc), (d, _) = load_network(loaded, "p2g").run(tokens, tok_lengths), \
        load_network(loaded, "p2g", backend="onnx").run(tokens, tok_lengths)
    assert max(float((c[i, :n] - d[i, :n]).abs().max()) for i, n in enumerate(lc.tolist())) < 1e-4
    samples = [c.resample(16000).load_audio()[0] for c in cuts]
    names = [c.id for c in cuts]
    by_torch = load_recognizer(loaded).recognize(names, samples)
    by_onnx = load_recognizer(loaded, backend="onnx").recognize(names, samples)
    assert [t.text for t in by_torch] == [t.text for t in by_onnx]
    assert [t.phonemes for t in by_torch] == [t.phonemes for t in by_onnx]
