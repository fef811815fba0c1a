"""80-dim log-mel fbank: one interface over kaldifeat, kaldi-native-fbank and lhotse, stored with lhotse.

- :class:`FbankConfig`: the settings every backend honours (16 kHz, 80 bins, no dither, ``snip_edges=False``).
- :func:`create_backend`: ``auto`` = kaldifeat when importable (GPU when present), else kaldi-native-fbank.
- :func:`compute_and_store`: stream cuts into a lilcom feature file and a cut manifest, rejecting bad audio.
- :class:`OnTheFlyFbank`: the same features computed inside a training dataset.
"""
from __future__ import annotations

from phonasr.features.audio import AudioLoadError, load_samples
from phonasr.features.backends import BACKENDS, FbankBackend, available_backends, create_backend, resolve_backend
from phonasr.features.config import INT16_SCALE, LOG_FLOOR, FbankConfig
from phonasr.features.onthefly import OnTheFlyFbank
from phonasr.features.storage import ExtractionCounts, combine_pieces, compute_and_store, speed_perturbed

__all__ = [
    "BACKENDS", "INT16_SCALE", "LOG_FLOOR", "AudioLoadError", "ExtractionCounts", "FbankBackend", "FbankConfig",
    "OnTheFlyFbank", "available_backends", "combine_pieces", "compute_and_store", "create_backend",
    "load_samples", "resolve_backend", "speed_perturbed",
]
