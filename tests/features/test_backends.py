"""The fbank backends agree with each other on real espeak-ng speech, under one framing convention."""
from __future__ import annotations

import os

import numpy as np
import pytest

from phonasr.features import (
    INT16_SCALE,
    LOG_FLOOR,
    FbankConfig,
    available_backends,
    backends,
    create_backend,
    load_samples,
    resolve_backend,
)
from phonasr.features.backends import is_available

from .conftest import speech_cut

# CI sets this where kaldifeat must have been built: a missing kaldifeat then fails the agreement test instead of
# skipping it (a skip would hide a broken build behind a green run).
REQUIRE_KALDIFEAT = os.environ.get("PHONASR_REQUIRE_KALDIFEAT") == "1"


def assert_same_fbank(a: np.ndarray, b: np.ndarray) -> None:
    """Same features up to float32 rounding: 99.5% of values within 1e-3 (typically 99.9%, varying a little
    from run to run with torch's kernels); the log amplifies rounding only in near-silent mel bins, which stay
    within 1e-2. A different mel layout, window or sample scaling would be off by far more than that."""
    assert a.shape == b.shape
    diff = np.abs(a - b)
    assert (diff <= 1e-3).mean() >= 0.995
    assert diff.max() < 1e-2
    assert diff.mean() < 1e-4


@pytest.fixture(scope="module")
def waves(speech_cuts):
    return [load_samples(cut, 16000) for cut in speech_cuts]


def test_load_samples_are_in_int16_range_and_resampled(espeak_wavs):
    wav16, lang, text = espeak_wavs[0]
    wav22 = wav16.with_name(wav16.stem + ".22k.wav")  # the fixture's espeak-ng original, 22.05 kHz
    cut22 = speech_cut(wav22, lang, text)
    samples = load_samples(cut22, 16000)
    assert cut22.sampling_rate == 22050
    assert abs(len(samples) - round(cut22.duration * 16000)) <= 1
    peak = np.abs(samples).max()
    assert 1000 < peak <= INT16_SCALE  # int16 range, not [-1, 1]


@pytest.mark.parametrize("backend", available_backends())
def test_shape_dtype_and_frame_count(backend, waves):
    config = FbankConfig()
    feats = create_backend(backend, config).compute(waves)
    assert len(feats) == len(waves)
    for wave, f in zip(waves, feats):
        assert f.dtype == np.float32
        assert f.shape == (config.num_frames(len(wave)), 80)
        assert np.isfinite(f).all() and f.min() >= LOG_FLOOR - 1e-4


def test_lhotse_matches_kaldi_native_fbank(waves):
    config = FbankConfig()
    knf = create_backend("kaldi-native-fbank", config).compute(waves)
    lhotse = create_backend("lhotse", config).compute(waves)
    for a, b in zip(knf, lhotse):
        assert_same_fbank(a, b)


def skip_or_fail_without_kaldifeat() -> None:
    """Skip without kaldifeat, or fail when PHONASR_REQUIRE_KALDIFEAT=1 says it must be there."""
    if is_available("kaldifeat"):
        return
    reason = ("kaldifeat is not importable in this environment (`bash utils/install.sh --kaldifeat true` builds it "
              "from its sdist; without it phonasr uses kaldi-native-fbank)")
    if REQUIRE_KALDIFEAT:
        pytest.fail(f"{reason}, and PHONASR_REQUIRE_KALDIFEAT=1 requires it")
    pytest.skip(reason)


@pytest.mark.parametrize("snip_edges", [False, True])
def test_kaldifeat_matches_kaldi_native_fbank(waves, snip_edges):
    skip_or_fail_without_kaldifeat()
    config = FbankConfig(snip_edges=snip_edges)
    kaldifeat = create_backend("kaldifeat", config, device="cpu").compute(waves)
    knf = create_backend("kaldi-native-fbank", config).compute(waves)
    for a, b in zip(kaldifeat, knf):
        assert_same_fbank(a, b)


def test_frame_count_difference_is_snip_edges(waves):
    """kaldi-native-fbank with its default snip_edges=True vs lhotse's default snip_edges=False: the counts differ
    exactly as the two framing formulas say, and agree once both use the same convention."""
    snip, no_snip = FbankConfig(snip_edges=True), FbankConfig(snip_edges=False)
    knf_snip = create_backend("kaldi-native-fbank", snip).compute(waves)
    lhotse_no_snip = create_backend("lhotse", no_snip).compute(waves)
    lhotse_snip = create_backend("lhotse", snip).compute(waves)
    for wave, k, ln, ls in zip(waves, knf_snip, lhotse_no_snip, lhotse_snip):
        n = len(wave)
        assert len(k) == 1 + (n - 400) // 160  # only frames that fit entirely in the signal
        assert len(ln) == (n + 80) // 160  # one frame per shift, signal reflected at the edges
        assert len(ln) - len(k) in (2, 3)
        assert len(ls) == len(k)


def test_without_kaldifeat_auto_falls_back_and_asking_for_it_says_how_to_build_it(monkeypatch):
    """What a machine whose kaldifeat build failed gets (README: the toolkit carries on with kaldi-native-fbank)."""
    monkeypatch.setattr(backends, "is_available", lambda name: name != "kaldifeat")
    assert resolve_backend("auto") == "kaldi-native-fbank"
    with pytest.raises(ImportError, match="utils/install.sh.*--backend kaldi-native-fbank"):
        create_backend("kaldifeat")
    with pytest.raises(ValueError, match="unknown fbank backend 'torchaudio'"):
        resolve_backend("torchaudio")
