"""The S2P encoder's per-layer outputs for a cut manifest: what ABX, k-means units and token ASR read.

Layer 0 is the subsampled input (after the convolutional front end, before any block); layer n (1..N) is the
output of block n; the last block's output is what the CTC output layer reads. Forward hooks on the blocks capture
them in one eval-mode pass, so any conformer checkpoint works without a second model class. Frames are the
encoder's (4x subsampled: 40 ms at a 10 ms fbank shift), the rate of frame labels and units too.
"""
from __future__ import annotations

import logging
import time
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from lhotse import CutSet
from lhotse.cut import Cut

from phonasr.batching.cuts import CutFeatures
from phonasr.decode.ctc import AcousticModel, batches, load_acoustic_model, load_batch
from phonasr.features.config import FbankConfig
from phonasr.models import CtcModel

logger = logging.getLogger(__name__)

SUBSAMPLING = 4  # fbank frames per encoder frame: phonasr.models.conformer.subsampled_lengths


def num_layers(model: CtcModel) -> int:
    """The deepest layer index: the number of encoder blocks."""
    return len(model.encoder.blocks)


def check_layers(model: CtcModel, layers: Sequence[int], where: str) -> None:
    deepest = num_layers(model)
    bad = [n for n in layers if not 0 <= n <= deepest]
    if bad:
        raise ValueError(f"{where}: layers {bad} do not exist; the encoder has layers 0 (front end) .. {deepest}")


@torch.no_grad()
def encoder_layers(model: CtcModel, feats: torch.Tensor, lengths: torch.Tensor,
                   layers: Sequence[int]) -> Tuple[Dict[int, torch.Tensor], torch.Tensor]:
    """``{layer: (B, T', D)}`` outputs of the requested layers and the (B,) frame counts, in eval mode."""
    check_layers(model, layers, "encoder_layers")
    captured: Dict[int, torch.Tensor] = {}
    hooks = []
    if 0 in layers:
        hooks.append(model.encoder.input_dropout.register_forward_hook(
            lambda _m, _i, out: captured.__setitem__(0, out)))
    for n, block in enumerate(model.encoder.blocks, start=1):
        if n in layers:
            hooks.append(block.register_forward_hook(lambda _m, _i, out, n=n: captured.__setitem__(n, out)))
    training = model.training
    model.eval()
    try:
        _, out_lens = model(feats, lengths)
    finally:
        model.train(training)
        for hook in hooks:
            hook.remove()
    return {n: captured[n] for n in layers}, out_lens


def encoder_frame_shift(cuts: Sequence[Cut]) -> float:
    """Seconds per encoder frame: the fbank shift (stored, or that of on-the-fly extraction) times the
    subsampling."""
    fbank_shift = next((c.features.frame_shift for c in cuts if c.has_features), FbankConfig().frame_shift_s)
    return SUBSAMPLING * fbank_shift


def extract_layers(checkpoint: str, cuts_path: str, layers: Optional[Sequence[int]] = None, *,
                   device: torch.device, model_name: Optional[str] = None, max_frames: int = 40000,
                   fbank_backend: Optional[str] = None
                   ) -> Tuple[Dict[int, Dict[str, torch.Tensor]], AcousticModel, float]:
    """``{layer: {cut_id: float16 (T', D)}}`` of every cut of ``cuts_path`` through the encoder of ``checkpoint``
    (``layers`` None: all of them), the model, and the seconds per encoder frame."""
    am = load_acoustic_model(checkpoint, model_name, None, device)
    layers = list(range(num_layers(am.model) + 1)) if layers is None else list(layers)
    check_layers(am.model, layers, f"{checkpoint}")
    features = CutFeatures(fbank_backend)
    cuts = list(CutSet.from_file(cuts_path))
    for cut in cuts:
        features.check(cut, cuts_path)
    out: Dict[int, Dict[str, torch.Tensor]] = {n: {} for n in layers}
    start = time.time()
    for batch in batches(cuts, max_frames):
        feats, lengths = load_batch(batch, am.model.encoder.config.input_dim, features)
        hidden, out_lens = encoder_layers(am.model, feats.to(device), lengths.to(device), layers)
        for i, cut in enumerate(batch):
            for n in layers:
                out[n][cut.id] = hidden[n][i, : int(out_lens[i])].to(torch.float16).cpu().clone()
    logger.info("layers %s of %d cuts of %s through %s in %.1f s", list(layers), len(cuts), cuts_path, checkpoint,
                time.time() - start)
    return out, am, encoder_frame_shift(cuts)


def layer_list(spec: str) -> List[int]:
    """``"all"``-free layer lists as users type them: ``"3"``, ``"1,3,6"`` or ``"0-6"``."""
    layers: List[int] = []
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-", 1)
            layers.extend(range(int(lo), int(hi) + 1))
        elif part:
            layers.append(int(part))
    if not layers:
        raise ValueError(f"no layer in {spec!r}; give e.g. 3, 1,3,6 or 0-6")
    return sorted(set(layers))
