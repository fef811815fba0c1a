"""Fbank backends behind one interface: kaldifeat, kaldi-native-fbank and lhotse's own Fbank.

All three compute Kaldi's log-mel filterbank. They differ in speed and availability: kaldifeat is batched and
runs on a GPU but must be built from source; kaldi-native-fbank has CPU wheels everywhere; lhotse's Fbank is
pure torch. Each is configured from the same :class:`FbankConfig`, takes float samples already in int16 range
(:data:`INT16_SCALE`) and returns float32 ``(T, num_mel_bins)`` matrices, so a recipe can switch backend
without changing its numbers beyond float rounding (~1e-3).
"""
from __future__ import annotations

import abc
import importlib.util
import warnings
from typing import List, Sequence

import numpy as np
import torch

from phonasr.features.config import LOG_FLOOR, FbankConfig
from phonasr.utils.device import choose_device

BACKENDS = ("kaldifeat", "kaldi-native-fbank", "lhotse")


class FbankBackend(abc.ABC):
    """Turns waveforms (1-D float arrays in int16 range at ``config.sample_rate``) into log-mel matrices."""

    name: str
    device = torch.device("cpu")  # where the computation runs; only kaldifeat can use a GPU

    def __init__(self, config: FbankConfig) -> None:
        self.config = config

    @abc.abstractmethod
    def compute(self, waves: Sequence[np.ndarray]) -> List[np.ndarray]:
        """Return one float32 ``(num_frames, num_mel_bins)`` matrix per wave, in order."""


class KaldifeatBackend(FbankBackend):
    """kaldifeat: one batched call per list of waves, on the GPU when ``device`` is a CUDA device."""

    name = "kaldifeat"

    def __init__(self, config: FbankConfig, device: str = "auto") -> None:
        super().__init__(config)
        import kaldifeat

        self.device = choose_device(device)
        opts = kaldifeat.FbankOptions()
        opts.device = self.device
        _fill_kaldi_options(opts, config)
        self._fbank = kaldifeat.Fbank(opts)

    def compute(self, waves: Sequence[np.ndarray]) -> List[np.ndarray]:
        if not waves:
            return []
        tensors = [torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)).to(self.device) for w in waves]
        with torch.no_grad():
            feats = self._fbank(tensors)
        if isinstance(feats, torch.Tensor):  # kaldifeat returns a bare tensor for a single-element list
            feats = [feats]
        return [f.cpu().numpy().astype(np.float32, copy=False) for f in feats]


class KaldiNativeFbankBackend(FbankBackend):
    """kaldi-native-fbank: the portable CPU reference; one utterance at a time."""

    name = "kaldi-native-fbank"

    def __init__(self, config: FbankConfig) -> None:
        super().__init__(config)
        import kaldi_native_fbank as knf

        self._knf = knf
        self._opts = knf.FbankOptions()
        _fill_kaldi_options(self._opts, config)

    def compute(self, waves: Sequence[np.ndarray]) -> List[np.ndarray]:
        out = []
        for wave in waves:
            fbank = self._knf.OnlineFbank(self._opts)
            fbank.accept_waveform(float(self.config.sample_rate), np.asarray(wave, dtype=np.float32))
            fbank.input_finished()
            frames = [fbank.get_frame(i) for i in range(fbank.num_frames_ready)]
            out.append(np.asarray(frames, dtype=np.float32).reshape(len(frames), self.config.num_mel_bins))
        return out


class LhotseBackend(FbankBackend):
    """lhotse's torch Fbank with Kaldi's settings (mel scale, window) and Kaldi's log floor."""

    name = "lhotse"

    def __init__(self, config: FbankConfig) -> None:
        super().__init__(config)
        from lhotse.features.kaldi.extractors import Fbank
        from lhotse.features.kaldi.extractors import FbankConfig as LhotseFbankConfig

        with warnings.catch_warnings():  # lhotse warns about snip_edges=True, which we only use for comparisons
            warnings.simplefilter("ignore", UserWarning)
            self._fbank = Fbank(LhotseFbankConfig(
                sampling_rate=config.sample_rate, frame_length=config.frame_length_ms / 1000.0,
                frame_shift=config.frame_shift_s, dither=config.dither, snip_edges=config.snip_edges,
                low_freq=config.low_freq, high_freq=config.high_freq, num_filters=config.num_mel_bins,
            ))

    def compute(self, waves: Sequence[np.ndarray]) -> List[np.ndarray]:
        out = []
        for wave in waves:
            feats = self._fbank.extract(np.asarray(wave, dtype=np.float32), self.config.sample_rate)
            out.append(np.maximum(feats, LOG_FLOOR).astype(np.float32, copy=False))
        return out


def _fill_kaldi_options(opts, config: FbankConfig) -> None:
    """Set kaldifeat / kaldi-native-fbank options (same field names in both) from ``config``."""
    frame = opts.frame_opts
    frame.samp_freq = float(config.sample_rate)
    frame.frame_length_ms = config.frame_length_ms
    frame.frame_shift_ms = config.frame_shift_ms
    frame.dither = config.dither
    frame.snip_edges = config.snip_edges
    opts.mel_opts.num_bins = config.num_mel_bins
    opts.mel_opts.low_freq = config.low_freq
    opts.mel_opts.high_freq = config.high_freq


_MODULES = {"kaldifeat": "kaldifeat", "kaldi-native-fbank": "kaldi_native_fbank", "lhotse": "lhotse"}


def is_available(backend: str) -> bool:
    return importlib.util.find_spec(_MODULES[backend]) is not None


def available_backends() -> List[str]:
    return [b for b in BACKENDS if is_available(b)]


def resolve_backend(name: str) -> str:
    """Map ``auto`` to kaldifeat when importable, else kaldi-native-fbank; check that a named one exists."""
    if name == "auto":
        return "kaldifeat" if is_available("kaldifeat") else "kaldi-native-fbank"
    if name not in BACKENDS:
        raise ValueError(f"unknown fbank backend '{name}'; choose one of auto, {', '.join(BACKENDS)}")
    if not is_available(name):
        hint = ("build it with `bash utils/install.sh --kaldifeat true` (kaldifeat 1.24 from its sdist) or use "
                "--backend kaldi-native-fbank"
                if name == "kaldifeat" else "run utils/install.sh to install the pinned requirements")
        raise ImportError(f"fbank backend '{name}' is not importable here; {hint}")
    return name


def create_backend(name: str = "auto", config: FbankConfig | None = None, device: str = "auto") -> FbankBackend:
    """Build a backend by name (``auto``, ``kaldifeat``, ``kaldi-native-fbank``, ``lhotse``).

    ``device`` only matters for kaldifeat (``auto`` = CUDA when present); the others run on the CPU.
    """
    config = config or FbankConfig()
    name = resolve_backend(name)
    if name == "kaldifeat":
        return KaldifeatBackend(config, device=device)
    if name == "kaldi-native-fbank":
        return KaldiNativeFbankBackend(config)
    return LhotseBackend(config)
