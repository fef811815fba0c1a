"""Fbank computed inside the training data pipeline instead of read from disk.

Useful when audio is augmented per epoch (speed perturbation, noise) or when storing features is not worth it
for a small corpus. A training dataset holds one :class:`OnTheFlyFbank` and calls it on each sampled batch::

    class MyDataset(torch.utils.data.Dataset):
        def __init__(self, fbank: OnTheFlyFbank):
            self.fbank = fbank

        def __getitem__(self, cuts: CutSet) -> dict:
            cuts = cuts.sort_by_duration(ascending=False)
            feats, feat_lens = self.fbank(cuts)          # (B, T, 80) float32, (B,) int64
            return {"inputs": feats, "input_lens": feat_lens, "cuts": cuts}

The result has the same numbers and framing (``FbankConfig.snip_edges``) as features stored by
``steps/make_fbank.sh`` with the same backend, so a model trained one way decodes the other. Run it inside
DataLoader workers (``num_workers > 0``) so extraction overlaps training. phonasr's own training and decoding
datasets (``data.on_the_fly_fbank``, :class:`phonasr.batching.cuts.CutFeatures`) take the unpadded matrices of
:meth:`OnTheFlyFbank.features` and pad them exactly as they pad stored features, so both give the same batches.
"""
from __future__ import annotations

from typing import Iterable, List, Tuple

import numpy as np
import torch
from lhotse.cut import Cut

from phonasr.features.audio import load_samples
from phonasr.features.backends import create_backend
from phonasr.features.config import LOG_FLOOR, FbankConfig


class OnTheFlyFbank:
    """Callable: cuts -> ``(features (B, T, num_mel_bins), lengths (B,))``, padded with the log floor.

    Padding uses the log-energy floor (what a digitally silent frame looks like) rather than 0, so padded
    frames do not look like loud speech to a model that ignores the lengths. Unreadable audio raises
    :class:`phonasr.features.audio.AudioLoadError` naming the cut and file: in training there is no place
    to silently drop a cut, so the manifest must be cleaned (``steps/make_fbank.sh`` reports such cuts).
    """

    def __init__(self, backend: str = "auto", config: FbankConfig | None = None, device: str = "cpu") -> None:
        self.config = config or FbankConfig()
        self.backend = create_backend(backend, self.config, device=device)

    def features(self, cuts: Iterable[Cut]) -> List[np.ndarray]:
        """One unpadded ``(frames, num_mel_bins)`` float32 matrix per cut, in order: for callers that pad batches
        their own way (phonasr's training and decoding datasets pad stored and on-the-fly features alike)."""
        return self.backend.compute([load_samples(cut, self.config.sample_rate) for cut in cuts])

    def __call__(self, cuts: Iterable[Cut]) -> Tuple[torch.Tensor, torch.Tensor]:
        feats = self.features(cuts)
        lengths = torch.tensor([f.shape[0] for f in feats], dtype=torch.int64)
        batch = torch.full((len(feats), int(lengths.max()) if feats else 0, self.config.num_mel_bins), LOG_FLOOR,
                           dtype=torch.float32)
        for i, f in enumerate(feats):
            batch[i, : f.shape[0]] = torch.from_numpy(f)
        return batch, lengths
