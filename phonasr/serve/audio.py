"""Reading one audio file of any sample rate and channel count as the model's mono samples.

Decoding: soundfile (libsndfile: WAV, FLAC, OGG/Opus, MP3 and the rest of its formats), no torchaudio.
Channels: averaged into one (a stereo recording of one speaker keeps both microphones' energy; use
``--channel N`` of ``phonasr transcribe`` for one channel of a multi-speaker recording).
Resampling: ``scipy.signal.resample_poly`` (polyphase FIR, Kaiser window with beta 5, scipy's default), by the
reduced ratio of the two rates, e.g. 8 kHz -> 16 kHz upsamples by 2/1, 44.1 kHz -> 16 kHz by 160/441.

A file that cannot be read, holds no samples or holds non-finite ones raises :class:`AudioInputError`, which the
batch driver reports for that file alone.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import numpy as np


class AudioInputError(ValueError):
    """One input's audio is missing, unreadable or empty; the message says which and why (one line)."""


def mix_channels(audio: np.ndarray, channel: Optional[int] = None) -> np.ndarray:
    """(samples, channels) -> (samples,): the mean of the channels, or channel ``channel`` (0-based)."""
    if audio.ndim == 1:
        return audio
    if channel is None:
        return audio.mean(axis=1)
    if not 0 <= channel < audio.shape[1]:
        raise AudioInputError(f"has {audio.shape[1]} channel(s); --channel {channel} does not exist")
    return audio[:, channel]


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """``samples`` at ``from_rate`` Hz resampled to ``to_rate`` Hz (polyphase FIR, see the module doc)."""
    if from_rate == to_rate:
        return samples
    from scipy.signal import resample_poly

    g = math.gcd(int(from_rate), int(to_rate))
    return resample_poly(samples, to_rate // g, from_rate // g).astype(np.float32, copy=False)


def read_audio(path: str | Path, sample_rate: int, channel: Optional[int] = None) -> np.ndarray:
    """Mono float32 samples in [-1, 1] of the file ``path`` at ``sample_rate`` Hz."""
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise AudioInputError("file does not exist" if not path.exists() else "is not a file")
    try:
        audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:  # libsndfile reports every unreadable file through one of several error types
        reason = " ".join(str(e).split())
        raise AudioInputError(f"cannot decode audio ({reason[:200]})") from None
    return prepare(audio, rate, sample_rate, channel)


def prepare(audio: np.ndarray, rate: int, sample_rate: int, channel: Optional[int] = None) -> np.ndarray:
    """(samples, channels) or (samples,) float audio at ``rate`` -> mono float32 at ``sample_rate``, checked."""
    if audio.size == 0:
        raise AudioInputError("holds no samples (zero-length audio)")
    samples = np.ascontiguousarray(mix_channels(np.asarray(audio, dtype=np.float32), channel))
    if not np.all(np.isfinite(samples)):
        raise AudioInputError("holds non-finite samples (NaN or inf)")
    return resample(samples, int(rate), sample_rate)
