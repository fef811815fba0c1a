"""K-means units: seeded determinism, the clamp of k, nearest-centroid assignment on a constructed case, the file."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict

import numpy as np
import pytest
import torch
from lhotse import CutSet, Features, MonoCut, NumpyFilesWriter

from phonasr.bin import make_units
from phonasr.models import build_model
from phonasr.models.conformer import subsampled_lengths
from phonasr.models.stored import model_checkpoint
from phonasr.tokenizers import PhonemeTokenizer, save_tokenizer
from phonasr.units.kmeans import KMeans, assign, deduplicate, fit_kmeans, load_kmeans, nearest, save_kmeans
from phonasr.units.layers import encoder_layers
from phonasr.units.store import load_arrays
from phonasr.utils.io import atomic_torch_save


def blobs(seed: int = 0) -> torch.Tensor:
    """300 frames around 6 well separated points in 4 dimensions."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(6, 4, generator=g) * 10
    return centres.repeat(50, 1) + torch.randn(300, 4, generator=g) * 0.1


def test_same_seed_same_centroids_other_seed_differs():
    x = blobs()
    a, b = fit_kmeans(x, 8, seed=3), fit_kmeans(x, 8, seed=3)
    assert torch.equal(a.centroids, b.centroids) and a.meta == b.meta
    assert a.centroids.shape == (8, 4) and a.centroids.dtype == torch.float32
    assert not torch.equal(a.centroids, fit_kmeans(x, 8, seed=4).centroids)


def test_separated_blobs_are_found_and_the_frame_cap_subsamples_by_seed():
    x = blobs()
    model = fit_kmeans(x, 6, seed=0, max_frames=120)
    assert model.meta["frames_used"] == 120 and model.meta["k"] == 6
    ids = assign(x, model.centroids)
    # every blob is one unit: the 50 copies of a centre share an id, and the 6 centres have distinct ids
    per_blob = ids.view(50, 6)
    assert (per_blob == per_blob[0]).all() and per_blob[0].unique().numel() == 6
    assert model.meta["inertia"] < 0.1


def test_k_is_lowered_to_the_distinct_frames(caplog):
    x = torch.tensor([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [5.0, 5.0]])
    with caplog.at_level(logging.WARNING):
        model = fit_kmeans(x, 10, seed=0)
    assert model.k == 3 and model.meta["k"] == 3 and "k lowered from 10 to 3" in caplog.text
    assert sorted(model.centroids.sum(1).tolist()) == [0.0, 2.0, 10.0]


def test_assign_picks_the_nearest_centroid_in_any_batch_size():
    centroids = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    frames = torch.tensor([[1.0, 1.0], [9.0, -1.0], [-1.0, 8.0], [6.0, 0.0], [5.0, 5.0]], dtype=torch.float16)
    for batch in (1, 2, 100):
        ids, dists = nearest(frames, centroids, batch_frames=batch)
        assert ids.tolist() == [0, 1, 2, 1, 0]  # (5, 5) is as far from all three: the first wins ties
        assert dists.tolist() == [2.0, 2.0, 5.0, 16.0, 50.0]
    with pytest.raises(ValueError, match="same D"):
        assign(torch.zeros(2, 3), centroids)


def test_deduplicate_keeps_the_run_lengths():
    runs, lengths = deduplicate(torch.tensor([4, 4, 1, 1, 1, 4, 2]))
    assert runs.tolist() == [4, 1, 4, 2] and lengths.tolist() == [2, 3, 1, 1]


def test_file_round_trip_and_checks(tmp_path):
    model = KMeans(torch.randn(3, 2), {"k": 3, "seed": 0, "frames_used": 9, "inertia": 1.5})
    with pytest.raises(ValueError, match=r"lacks \['layer', 'checkpoint'\]"):
        save_kmeans(tmp_path / "km.pt", model)
    model.meta.update(layer=2, checkpoint="exp/s2p/final.pt")
    save_kmeans(tmp_path / "km.pt", model)
    loaded = load_kmeans(tmp_path / "km.pt")
    assert torch.equal(loaded.centroids, model.centroids) and loaded.meta == model.meta
    torch.save({"model": {}}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a k-means file"):
        load_kmeans(tmp_path / "other.pt")


# ------------------------------------------------------------------------------------------------- make_units
FRAMES = {"u1": 160, "u2": 97, "u3": 45}  # fbank frames; the encoder keeps about a quarter


def write_feature_cuts(path: Path, storage: Path) -> Dict[str, torch.Tensor]:
    """A manifest of random 80-dim fbank cuts of :data:`FRAMES` lengths; returns the features by cut id."""
    rng = np.random.default_rng(0)
    feats, cuts = {}, []
    with NumpyFilesWriter(storage) as writer:
        for cut_id, frames in FRAMES.items():
            feats[cut_id] = rng.standard_normal((frames, 80)).astype(np.float32)
            duration = frames / 100
            features = Features(type="fbank", num_frames=frames, num_features=80, frame_shift=0.01,
                                sampling_rate=16000, start=0.0, duration=duration, storage_type=writer.name,
                                storage_path=str(writer.storage_path), storage_key=writer.write(cut_id, feats[cut_id]))
            cuts.append(MonoCut(id=cut_id, start=0.0, duration=duration, channel=0, features=features))
    CutSet.from_cuts(cuts).to_file(path)
    return {k: torch.from_numpy(v) for k, v in feats.items()}


@pytest.fixture(scope="module")
def tiny_s2p(tmp_path_factory):
    """A random tiny conformer S2P saved as training saves checkpoints, and a manifest of feature cuts."""
    root = tmp_path_factory.mktemp("units")
    tokenizer = PhonemeTokenizer.from_units(["a", "b", "k"])
    save_tokenizer(tokenizer, root / "lang_phone")
    torch.manual_seed(0)
    config = {"type": "conformer", "preset": "tiny"}
    model = build_model(config, tokenizer.vocab_size, None)
    atomic_torch_save(model_checkpoint({"s2p": model}, {"model": config},
                                       {"tokenizer_dir": str(root / "lang_phone"),
                                        "symbols": list(tokenizer.symbols)}), root / "s2p.pt")
    feats = write_feature_cuts(root / "cuts_test.jsonl.gz", root / "storage")
    return root, model, feats


def test_make_units_round_trip_has_the_encoders_frames(tiny_s2p):
    root, model, feats = tiny_s2p
    ckpt, cuts, kmeans = str(root / "s2p.pt"), str(root / "cuts_test.jsonl.gz"), str(root / "km" / "kmeans.pt")
    make_units.main(["fit", "--layer", "1", "--k", "5", "--seed", "7", "--device", "cpu", ckpt, cuts, kmeans])
    km = load_kmeans(kmeans)
    assert km.k == 5 and km.meta["layer"] == 1 and km.meta["checkpoint"] == ckpt and km.meta["seed"] == 7
    assert km.meta["frames_used"] == int(subsampled_lengths(torch.tensor(list(FRAMES.values()))).sum())
    make_units.main(["assign", "--dedup", "true", "--save-features", "true", "--device", "cpu", ckpt, kmeans,
                     str(root / "units"), cuts])
    units, meta = load_arrays(root / "units" / "units_test.pt", "units")
    features, _ = load_arrays(root / "units" / "features_test.pt", "features")
    runs, dedup_meta = load_arrays(root / "units" / "units_dedup_test.pt", "units")
    assert meta["k"] == 5 and meta["layer"] == 1 and meta["frame_shift"] == pytest.approx(0.04)
    assert dedup_meta["deduplicated"] and not meta.get("deduplicated")
    assert sorted(units) == sorted(FRAMES)
    for cut_id, x in feats.items():
        hidden, lengths = encoder_layers(model, x[None], torch.tensor([x.size(0)]), [1])
        assert units[cut_id].shape == (int(lengths[0]),) and units[cut_id].dtype == torch.int64
        assert features[cut_id].shape == (int(lengths[0]), model.encoder.config.d_model)
        assert torch.allclose(features[cut_id].float(), hidden[1][0], atol=1e-2)
        assert torch.equal(units[cut_id], assign(features[cut_id], km.centroids))
        assert torch.equal(runs[cut_id], deduplicate(units[cut_id])[0])


def test_make_units_user_errors_are_one_line(tiny_s2p, capsys):
    root, _, _ = tiny_s2p
    with pytest.raises(SystemExit, match=r"^error: .*not a k-means file"):
        make_units.main(["assign", "--device", "cpu", str(root / "s2p.pt"), str(root / "s2p.pt"),
                         str(root / "out"), str(root / "cuts_test.jsonl.gz")])
    with pytest.raises(SystemExit, match=r"^error: .*layers \[9\] do not exist"):
        make_units.main(["fit", "--layer", "9", "--device", "cpu", str(root / "s2p.pt"),
                         str(root / "cuts_test.jsonl.gz"), str(root / "km.pt")])


def test_set_name():
    assert make_units.set_name("data/fbank/pl/cuts_test.jsonl.gz") == "test"
    assert make_units.set_name("x/dev_cs.jsonl") == "dev_cs"
