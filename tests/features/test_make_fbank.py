"""steps/make_fbank.sh end to end from a recipe-like directory: 2 jobs, bad audio reported, resumable, speed
perturbation."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest
import yaml
from lhotse import CutSet

from phonasr.features import FbankConfig, create_backend, load_samples
from phonasr.features.storage import read_rejects

pytestmark = pytest.mark.slow


@pytest.fixture()
def recipe_dir(tmp_path, repo_root):
    recipe = tmp_path / "recipe"
    recipe.mkdir()
    for name in ("steps", "utils"):
        (recipe / name).symlink_to(repo_root / name)
    return recipe


def make_fbank(recipe, *args):
    return subprocess.run(["bash", "steps/make_fbank.sh", *args], cwd=recipe, capture_output=True, text=True)


def test_make_fbank_two_jobs_rejects_and_resumes(recipe_dir, manifest_with_bad_audio, monkeypatch):
    args = ["--nj", "2", "--backend", "kaldi-native-fbank", str(manifest_with_bad_audio), "data/fbank"]
    run = make_fbank(recipe_dir, *args)
    assert run.returncode == 0, run.stderr
    out = recipe_dir / "data/fbank"
    cuts = CutSet.from_file(out / "cuts_test.jsonl.gz")
    assert len(cuts) == 5 and all(c.has_features for c in cuts)
    monkeypatch.chdir(recipe_dir)  # storage paths are relative to the recipe, like every path of a recipe
    assert cuts[0].load_features().shape == (cuts[0].num_frames, 80)
    assert {r[0] for r in read_rejects(out / "rejects_test.tsv")} == {"bad-corrupt", "bad-missing"}
    info = yaml.safe_load((out / "fbank_test.config.yaml").read_text())
    assert info["backend"] == "kaldi-native-fbank" and info["fbank"]["snip_edges"] is False
    assert info["counts"]["total"] == 7 == info["counts"]["kept"] + info["counts"]["rejected"]
    assert sorted(p.name for p in (out / "log").iterdir()) == ["fbank_test.1.log", "fbank_test.2.log"]

    manifest_mtime = (out / "cuts_test.jsonl.gz").stat().st_mtime_ns
    rerun = make_fbank(recipe_dir, *args)
    assert rerun.returncode == 0, rerun.stderr
    assert "already done" in rerun.stderr
    assert (out / "cuts_test.jsonl.gz").stat().st_mtime_ns == manifest_mtime

    # A run killed after job 1 finished: only job 2 is recomputed.
    work = out / "storage_test/split2"
    (out / ".fbank_test.done").unlink()
    (out / "cuts_test.jsonl.gz").unlink()
    (work / "feats.2.config.yaml").unlink()
    piece1_mtime, piece2_mtime = ((work / f"feats.{i}.lca").stat().st_mtime_ns for i in (1, 2))
    resumed = make_fbank(recipe_dir, *args)
    assert resumed.returncode == 0, resumed.stderr
    assert (work / "feats.1.lca").stat().st_mtime_ns == piece1_mtime
    assert (work / "feats.2.lca").stat().st_mtime_ns != piece2_mtime
    assert len(CutSet.from_file(out / "cuts_test.jsonl.gz")) == 5


def test_make_fbank_refuses_missing_input(recipe_dir):
    run = make_fbank(recipe_dir, "--nj", "2", "data/none/cuts_dev.jsonl.gz", "data/fbank")
    assert run.returncode != 0
    assert "data/none/cuts_dev.jsonl.gz does not exist" in run.stderr


def test_speed_perturbation_stores_features_of_the_perturbed_audio(recipe_dir, speech_cuts, monkeypatch):
    manifest = recipe_dir / "data/manifests/cuts_train.jsonl.gz"
    manifest.parent.mkdir(parents=True)
    CutSet.from_cuts(speech_cuts).to_file(manifest)
    run = make_fbank(recipe_dir, "--nj", "2", "--backend", "kaldi-native-fbank", "--speed-perturb", "true",
                     "data/manifests/cuts_train.jsonl.gz", "data/fbank")
    assert run.returncode == 0, run.stderr
    out = recipe_dir / "data/fbank"
    cuts = {c.id: c for c in CutSet.from_file(out / "cuts_train.jsonl.gz")}
    assert sorted(cuts) == sorted(f"{c.id}{s}" for c in speech_cuts for s in ("", "_sp0.9", "_sp1.1"))
    info = yaml.safe_load((out / "fbank_train.config.yaml").read_text())
    assert info["speed_perturb"] == [0.9, 1.1] and info["counts"]["kept"] == info["counts"]["total"] == len(cuts)

    monkeypatch.chdir(recipe_dir)  # storage paths are relative to the recipe
    config = FbankConfig()
    knf = create_backend("kaldi-native-fbank", config)
    for original in speech_cuts:
        frames = cuts[original.id].num_frames
        for factor in (0.9, 1.1):
            cut = cuts[f"{original.id}_sp{factor}"]
            samples = load_samples(cut, config.sample_rate)  # the perturbed audio, resampled by lhotse
            assert cut.duration == pytest.approx(original.duration / factor, abs=1e-3)
            assert cut.num_frames == config.num_frames(len(samples))
            assert abs(cut.num_frames - frames / factor) <= 2
            stored = cut.load_features()
            assert stored.shape == (cut.num_frames, 80)
            # lilcom storage is lossy (~1e-2 on log-mel); features of the unperturbed audio would differ by far more
            assert np.abs(stored - knf.compute([samples])[0]).max() < 0.1
