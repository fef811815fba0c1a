"""steps/make_fbank.sh end to end from a recipe-like directory: 2 jobs, bad audio reported, resumable."""
from __future__ import annotations

import subprocess

import pytest
import yaml
from lhotse import CutSet

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
