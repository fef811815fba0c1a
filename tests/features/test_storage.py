"""Stored features, rejects of bad audio, speed perturbation and on-the-fly extraction."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from lhotse import CutSet

from phonasr.bin import compute_fbank
from phonasr.features import (
    LOG_FLOOR,
    FbankConfig,
    OnTheFlyFbank,
    compute_and_store,
    create_backend,
    load_samples,
    speed_perturbed,
)
from phonasr.features.audio import AudioLoadError
from phonasr.features.storage import read_rejects

from .conftest import broken_cut


def test_bad_audio_is_rejected_not_fatal(tmp_path, manifest_with_bad_audio, corrupt_wav):
    backend = create_backend("kaldi-native-fbank")
    counts = compute_and_store(CutSet.from_jsonl_lazy(manifest_with_bad_audio), backend, tmp_path / "feats.lca",
                               tmp_path / "feats.jsonl.gz", tmp_path / "rejects.tsv", batch_duration=3.0)
    assert (counts.total, counts.kept, counts.rejected) == (7, 5, 2)
    rejects = {cut_id: (audio, reason) for cut_id, audio, reason in read_rejects(tmp_path / "rejects.tsv")}
    assert set(rejects) == {"bad-corrupt", "bad-missing"}
    assert rejects["bad-corrupt"][0] == str(corrupt_wav)
    assert "cut bad-corrupt" in rejects["bad-corrupt"][1] and str(corrupt_wav) in rejects["bad-corrupt"][1]
    assert "no_such_file.wav" in rejects["bad-missing"][1]

    stored = CutSet.from_file(tmp_path / "feats.jsonl.gz")
    assert len(stored) == 5
    for cut in stored:
        feats = cut.load_features()
        direct = backend.compute([load_samples(cut, 16000)])[0]
        assert feats.shape == direct.shape == (cut.num_frames, 80)  # lhotse's frame count: snip_edges=False
        assert np.abs(feats - direct).max() < 0.05  # lilcom's lossy compression


def test_unreadable_audio_message_names_cut_and_file(tmp_path, corrupt_wav):
    with pytest.raises(AudioLoadError, match=re.escape(f"cut x1: cannot load audio from {corrupt_wav}: ")):
        load_samples(broken_cut("x1", corrupt_wav), 16000)
    with pytest.raises(AudioLoadError, match=re.escape(f"cut x2: audio file {tmp_path / 'gone.wav'} does not exist")):
        load_samples(broken_cut("x2", tmp_path / "gone.wav"), 16000)


def test_speed_perturbation_adds_renamed_copies(speech_cuts):
    cut = speech_cuts[0]
    out = list(speed_perturbed([cut], (0.9, 1.1)))
    assert [c.id for c in out] == [cut.id, f"{cut.id}_sp0.9", f"{cut.id}_sp1.1"]
    assert out[1].duration == pytest.approx(cut.duration / 0.9, abs=1e-3)
    samples = [len(load_samples(c, 16000)) for c in out]
    assert samples[1] > samples[0] > samples[2]


def test_on_the_fly_matches_backend_and_pads_with_floor(speech_cuts):
    fbank = OnTheFlyFbank(backend="kaldi-native-fbank")
    feats, lens = fbank(speech_cuts[:3])
    assert feats.dtype == torch.float32 and lens.dtype == torch.int64
    assert feats.shape == (3, int(lens.max()), 80)
    direct = create_backend("kaldi-native-fbank").compute([load_samples(c, 16000) for c in speech_cuts[:3]])
    for i, d in enumerate(direct):
        assert lens[i] == len(d) == FbankConfig().num_frames(len(load_samples(speech_cuts[i], 16000)))
        assert torch.equal(feats[i, : len(d)], torch.from_numpy(d))
        assert (feats[i, len(d):] == LOG_FLOOR).all()


@pytest.fixture()
def keep_torch_threads():
    """The worker pins torch to one thread (one job = one CPU); do not leak that into later tests."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_worker_skips_finished_piece_and_combine_checks_settings(tmp_path, speech_cuts, capsys, keep_torch_threads):
    pieces = []
    for i, cuts in enumerate((speech_cuts[:2], speech_cuts[2:]), start=1):
        CutSet.from_cuts(cuts).to_file(tmp_path / f"cuts.{i}.jsonl.gz")
        pieces.append(str(tmp_path / f"feats.{i}"))
    compute_fbank.main(["compute", "--backend", "kaldi-native-fbank", str(tmp_path / "cuts.1.jsonl.gz"), pieces[0]])
    before = (tmp_path / "feats.1.lca").stat().st_mtime_ns
    compute_fbank.main(["compute", "--backend", "kaldi-native-fbank", str(tmp_path / "cuts.1.jsonl.gz"), pieces[0]])
    assert (tmp_path / "feats.1.lca").stat().st_mtime_ns == before
    assert "piece already done, skipping" in capsys.readouterr().err

    combine = ["combine", "--group", str(tmp_path / "all.jsonl.gz"), str(tmp_path / "rejects.tsv"),
               str(tmp_path / "fbank_all"), ",".join(pieces)]
    with pytest.raises(SystemExit, match="pieces not finished"):
        compute_fbank.main(combine)
    compute_fbank.main(["compute", "--backend", "lhotse", str(tmp_path / "cuts.2.jsonl.gz"), pieces[1]])
    with pytest.raises(SystemExit, match="different settings"):
        compute_fbank.main(combine)
