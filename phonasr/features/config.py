"""The one fbank configuration every backend honours.

Backends disagree on defaults (kaldifeat and kaldi-native-fbank: ``snip_edges=True``, mel ``high_freq=0``;
lhotse: ``snip_edges=False``, ``high_freq=-400``), so phonasr never relies on a library default: each backend
is built from this dataclass and all of them produce the same frames for the same samples.

Framing convention: ``snip_edges=False``. Then a cut of N samples has ``(N + shift // 2) // shift`` frames,
exactly lhotse's ``compute_num_frames(duration, ...)``; lhotse's collation (``K2SpeechRecognitionDataset``,
supervision frame spans) assumes that count, and with ``snip_edges=True`` it would be two or three frames off.
``snip_edges=True`` (Kaldi's default, frames that fit entirely in the signal) stays available for comparisons
with Kaldi-dumped features but is not used for stored or on-the-fly training features.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Dict

import numpy as np

# Kaldi computes fbank on samples in int16 range; lhotse loads audio as floats in [-1, 1]. Every backend is fed
# float samples multiplied by this factor so that all of them match Kaldi's numbers.
INT16_SCALE = 32768.0

# Kaldi's floor for log mel energies (FLT_EPSILON); lhotse's own Fbank floors at 1e-10 instead, which only
# matters for digitally silent frames (espeak-ng writes exact zeros) but must match across backends.
LOG_FLOOR = float(np.log(np.finfo(np.float32).eps))


@dataclass(frozen=True)
class FbankConfig:
    sample_rate: int = 16000
    num_mel_bins: int = 80
    frame_length_ms: float = 25.0
    frame_shift_ms: float = 10.0
    low_freq: float = 20.0
    high_freq: float = -400.0  # <= 0 means "Nyquist + high_freq"; -400 keeps 7.6 kHz at 16 kHz (lhotse/icefall)
    dither: float = 0.0  # no dither: a rerun reproduces the features bit for bit
    snip_edges: bool = False

    @property
    def frame_shift_s(self) -> float:
        return self.frame_shift_ms / 1000.0

    @property
    def window_samples(self) -> int:
        return int(self.sample_rate * self.frame_length_ms / 1000.0)

    @property
    def shift_samples(self) -> int:
        return int(self.sample_rate * self.frame_shift_ms / 1000.0)

    def num_frames(self, num_samples: int) -> int:
        """Frames Kaldi produces for ``num_samples`` samples under this config's framing convention."""
        if self.snip_edges:
            if num_samples < self.window_samples:
                return 0
            return 1 + (num_samples - self.window_samples) // self.shift_samples
        return (num_samples + self.shift_samples // 2) // self.shift_samples

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)
