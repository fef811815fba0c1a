"""Loading a cut's samples the way every fbank backend expects them: mono, 16 kHz, int16 range.

Resampling is lhotse's own (``cut.resample``, scipy underneath), so no torchaudio is needed. A clip that cannot
be read raises :class:`AudioLoadError` naming the cut and the file, so callers can reject that one cut.
"""
from __future__ import annotations

from pathlib import Path
from typing import List

import numpy as np
from lhotse.cut import Cut

from phonasr.features.config import INT16_SCALE

_LHOTSE_HINT = "Set LHOTSE_AUDIO_LOADING_EXCEPTION_VERBOSE=1 environment variable for full stack traces."


class AudioLoadError(RuntimeError):
    """A cut's audio is missing, unreadable or not usable speech samples."""


def audio_source(cut: Cut) -> str:
    """The file (or URL/command) a cut's audio comes from, for error messages and reject lists."""
    recording = getattr(cut, "recording", None)
    if recording is None or not recording.sources:
        return "<no recording>"
    return " ".join(str(s.source) for s in recording.sources)


def _missing_files(cut: Cut) -> List[str]:
    recording = getattr(cut, "recording", None)
    sources = recording.sources if recording is not None else []
    return [str(s.source) for s in sources if s.type == "file" and not Path(s.source).is_file()]


def _short_reason(error: Exception) -> str:
    """One line out of lhotse's multi-backend report: drop its call-site dumps and hints, cap the length."""
    text = str(error).split("[extra info]")[0].replace(_LHOTSE_HINT, "")
    text = " ".join(text.split())
    return f"{type(error).__name__}: {text[:400]}{'...' if len(text) > 400 else ''}"


def load_samples(cut: Cut, sample_rate: int) -> np.ndarray:
    """Mono float32 samples of ``cut`` at ``sample_rate``, scaled to int16 range (Kaldi's convention)."""
    missing = _missing_files(cut)
    if missing:
        raise AudioLoadError(f"cut {cut.id}: audio file {' '.join(missing)} does not exist")
    if cut.sampling_rate != sample_rate:
        cut = cut.resample(sample_rate)
    try:
        audio = cut.load_audio()
    except Exception as e:  # lhotse/soundfile raise many types for one cause: this file cannot be decoded
        raise AudioLoadError(f"cut {cut.id}: cannot load audio from {audio_source(cut)}: {_short_reason(e)}") from e
    if audio is None:
        raise AudioLoadError(f"cut {cut.id} has no recording attached")
    if audio.ndim != 2 or audio.shape[0] != 1:
        raise AudioLoadError(f"cut {cut.id}: expected mono audio, got shape {tuple(audio.shape)} "
                             f"from {audio_source(cut)}; select one channel in the manifest")
    samples = audio[0]
    if not np.all(np.isfinite(samples)):
        raise AudioLoadError(f"cut {cut.id}: non-finite samples in {audio_source(cut)}")
    return (samples * INT16_SCALE).astype(np.float32, copy=False)
