"""serve.onnx_export: S2P, P2G and G2P exported with dynamic batch and length axes give torch's log-posteriors
(1e-4) on padded batches of several lengths, the same transcripts, and an int8 copy that runs."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
import yaml

from phonasr.serve.audio import read_audio
from phonasr.serve.model_dir import MANIFEST, load_model_dir
from phonasr.serve.networks import load_network
from phonasr.serve.onnx_export import ExportableTokenModel, export_model_dir
from phonasr.serve.recognizer import load_recognizer

from .conftest import write_wav

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def exported(toy_model, tmp_path_factory):
    copy = tmp_path_factory.mktemp("onnx") / "model"
    shutil.copytree(toy_model, copy)
    added = export_model_dir(load_model_dir(copy), ["s2p", "p2g", "g2p"], int8=True)
    assert set(added) == {"s2p", "p2g", "g2p", "s2p.int8", "p2g.int8", "g2p.int8"}
    return load_model_dir(copy)  # verifies the new files' sha256 too


def max_diff(a, b, lengths) -> float:
    return max(float((a[i, :n] - b[i, :n]).abs().max()) for i, n in enumerate(lengths.tolist()))


def test_manifest_records_the_exports(exported):
    manifest = yaml.safe_load((exported.path / MANIFEST).read_text())
    assert manifest["onnx"]["p2g"] == "onnx/p2g.onnx" and "onnx/s2p.int8.onnx" in manifest["files"]


@pytest.mark.parametrize("kind", ["p2g", "g2p"])
def test_token_models_match_torch_on_padded_batches(exported, kind):
    torch_net, onnx_net = load_network(exported, kind), load_network(exported, kind, backend="onnx")
    rng = np.random.default_rng(0)
    for batch, longest in [(1, 3), (4, 37), (3, 120)]:
        lengths = np.sort(rng.integers(1, longest + 1, batch))[::-1].copy()
        lengths[0] = longest
        ids = rng.integers(1, torch_net.inputs.vocab_size, (batch, longest))
        (a, la), (b, lb) = torch_net.run(ids, lengths), onnx_net.run(ids, lengths)
        assert la.tolist() == lb.tolist() == (lengths * 2).tolist()
        assert max_diff(a, b, la) < 1e-4


def test_the_exportable_token_model_is_the_torch_model(exported):
    network = load_network(exported, "p2g")
    model = network.run.model
    ids, lengths = torch.randint(1, network.inputs.vocab_size, (3, 15)), torch.tensor([15, 9, 2])
    with torch.no_grad():
        a, la = model(ids, lengths)
        b, lb = ExportableTokenModel(model).eval()(ids, lengths)
    assert torch.equal(la, lb) and max_diff(a, b, la) < 1e-5


def test_s2p_and_transcripts_match(exported, tmp_path):
    wavs = [write_wav(tmp_path / f"{i}.wav", seconds, seed=i) for i, seconds in enumerate([0.4, 1.3, 2.9])]
    samples = [read_audio(w, 16000) for w in wavs]
    names = [w.stem for w in wavs]
    greedy = {"decoder": "greedy"}  # the random toy networks emit long outputs, whose beam search is slow
    by_torch, by_onnx = load_recognizer(exported, overrides=greedy), load_recognizer(exported, "onnx", overrides=greedy)
    feats = by_torch.features(samples)
    for a, b in zip(by_torch.s2p_log_probs(feats), by_onnx.s2p_log_probs(feats)):
        assert a.shape == b.shape and float((a - b).abs().max()) < 1e-4
    assert [t.text for t in by_torch.recognize(names, samples)] == [t.text for t in by_onnx.recognize(names, samples)]
    int8 = load_recognizer(exported, "onnx", int8=True, overrides=greedy).recognize(names, samples)
    assert [t.name for t in int8] == names
