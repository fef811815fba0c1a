"""Phoneme-classification fine-tuning (seed 001): the S2P encoder trained to name the phoneme of every frame.

The model is an S2P's (:class:`phonasr.models.CtcModel`: conformer encoder + linear layer over the phone lang
dir's ids, id 0 read as silence instead of blank), initialised like CTC fine-tuning (``init: {checkpoint,
remap_output}``), so its checkpoint loads wherever an S2P's does (decoding, layer extraction). The loss is the
frame-level cross-entropy against labels from forced alignment (:mod:`phonasr.units.frame_labels`), which the
output layer's log-softmax makes a ``nll_loss``. Everything but the objective is the ctc task's (the model, its
initialisation, the checkpoint metadata, optional input SpecAugment), hence the subclass.

Config keys besides the ctc task's (``tokenizer_dir``, ``model``, ``model_name``, ``init``, ``spec_augment``):

``data.frame_labels``  a ``frame_labels`` file or a list of them (train and dev): labels of the cuts by cut id.
                       Cuts without labels are skipped (training) or left out of the dev metrics, and counted.
``mask``               :class:`SpanMask`: the masking of wav2vec 2.0 / HuBERT fine-tuning (omit for none).

Validation reports frame accuracy and the frame error rate (``error_rate``, 100 - accuracy, what ``train.metric``
selects by default) over all labelled dev frames, and the accuracy on the phoneme (non-silence) frames.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

import torch
import torch.nn.functional as F
from lhotse.cut import Cut

from phonasr.batching.cuts import Batch, feature_frames
from phonasr.models import subsampled_lengths
from phonasr.train.ctc_task import CtcSettings, CtcTask
from phonasr.train.data import TrainingData, feature_data_settings
from phonasr.train.settings import parse_section
from phonasr.train.task import Models, PlotPanel
from phonasr.units.frame_labels import SILENCE, load_frame_labels
from phonasr.utils.config import ConfigError

log = logging.getLogger(__name__)

IGNORE = -100  # target of padded frames and of rows without labels: nll_loss's ignore_index


@dataclasses.dataclass
class SpanMask:
    """Spans of ``span`` encoder frames replaced by zeros before the first conformer block, in training only.

    This is where wav2vec 2.0 and HuBERT fine-tuning mask: the frame encoder's output, the input of the context
    network, not the fbank (their CNN is our convolutional front end). Each frame starts a span with probability
    ``prob / span``, so ``prob`` is wav2vec 2.0's ``mask_prob`` (the masked share if spans never overlapped; with
    overlaps about ``1 - exp(-prob)``). The masked value is zero rather than wav2vec 2.0's learned embedding: a new
    parameter would make the checkpoint differ from an S2P's. ``span`` 5 at 40 ms frames is their 10 at 20 ms.
    """

    prob: float = 0.65
    span: int = 5

    def __post_init__(self) -> None:
        if not 0.0 <= self.prob <= 1.0:
            raise ValueError(f"mask.prob must be within [0, 1], got {self.prob}")
        if self.span < 1:
            raise ValueError(f"mask.span must be at least 1 frame, got {self.span}")

    def frames(self, batch: int, length: int, device: torch.device) -> torch.Tensor:
        """(batch, length) bool: True on masked frames (drawn from torch's checkpointed global generator)."""
        starts = (torch.rand(batch, length, device=device) < self.prob / self.span).float()
        covered = F.max_pool1d(F.pad(starts[:, None], (self.span - 1, 0)), self.span, stride=1)
        return covered[:, 0] > 0

    def __call__(self, hidden: torch.Tensor) -> torch.Tensor:
        masked = self.frames(hidden.size(0), hidden.size(1), hidden.device)
        return hidden.masked_fill(masked[:, :, None], 0.0)


def check_frame_count(cut_id: str, labels: int, frames: int) -> None:
    """Labels and encoder frames come from the same subsampling of the same features, or the pairing is wrong."""
    if labels != frames:
        raise ConfigError(f"cut '{cut_id}' has {frames} encoder frames but {labels} frame labels in "
                          "data.frame_labels", "align the same fbank manifests that training reads, with an S2P "
                          "of the same front end (steps/align_frames.sh)")


@dataclasses.dataclass
class FrameCeSettings:
    """What a frame_ce config adds to a ctc task's, checked before any file is read: the label files, the masking,
    and the config the ctc task and the feature data see (``data.frame_labels`` taken out of ``data:``)."""

    label_paths: List[str]
    mask: Optional[SpanMask]
    base_config: Dict[str, Any]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FrameCeSettings:
        data = dict(config.get("data") or {})
        paths = data.pop("frame_labels", None)
        if not paths:
            raise ConfigError("a frame_ce config needs data.frame_labels",
                              "give the frame_labels file(s) of steps/align_frames.sh for the train and dev cuts")
        base = {**config, "data": data}
        CtcSettings.from_config(base)
        feature_data_settings(data)
        section = config.get("mask")
        return cls(label_paths=[paths] if isinstance(paths, str) else [str(p) for p in paths],
                   mask=parse_section(SpanMask, section, "mask") if section else None, base_config=base)


class FrameCeTask(CtcTask):
    """The ``frame_ce`` task; see the module docstring."""

    error_rate_name = "FER"

    def __init__(self, config: Mapping[str, Any], device: torch.device) -> None:
        settings = FrameCeSettings.from_config(config)
        super().__init__(settings.base_config, device)
        self.label_paths = settings.label_paths
        self.mask = settings.mask
        try:
            self.labels = load_frame_labels(self.label_paths, self.tokenizer.symbols, self.tokenizer_dir)
        except FileNotFoundError as e:
            raise ConfigError(f"data.frame_labels: {e}", "run steps/align_frames.sh first") from None
        except ValueError as e:
            raise ConfigError(str(e), "fix data.frame_labels") from None
        self.unlabelled: List[str] = []

    # ------------------------------------------------------------------------------------------ models and data
    def build_models(self) -> Models:
        models = super().build_models()
        if self.mask is not None:
            models[self.model_name].encoder.input_dropout.register_forward_hook(self._mask_hook)
        return models

    def _mask_hook(self, module: torch.nn.Module, _inputs: Any, output: torch.Tensor) -> torch.Tensor:
        """Mask the front end's output (after its dropout, before the blocks) while the encoder trains."""
        return self.mask(output) if module.training and self.mask is not None else output

    def keep_cut(self, cut: Cut) -> bool:
        """Cuts with frame labels, which must match their encoder frames; the others are counted."""
        labels = self.labels.get(cut.id)
        if labels is None:
            self.unlabelled.append(cut.id)
            return False
        check_frame_count(cut.id, labels.numel(), int(subsampled_lengths(torch.tensor([feature_frames(cut)]))[0]))
        return True

    def build_data(self, seed: int, world_size: int, rank: int) -> TrainingData:
        """The feature cuts, with a log line for those without frame labels (train: skipped, dev: not scored)."""
        data = super().build_data(seed, world_size, rank)
        if self.unlabelled:
            log.warning("%d train/dev cuts have no frame labels in %s: not trained on or scored (e.g. %s)",
                        len(self.unlabelled), ", ".join(self.label_paths), ", ".join(self.unlabelled[:5]))
        return data

    # ------------------------------------------------------------------------------------------ loss
    def _forward(self, model: torch.nn.Module, batch: Batch,
                 augment: bool) -> Tuple[torch.Tensor, torch.Tensor, int]:
        """(log-probs (B, T', V), targets (B, T') with IGNORE on padding and unlabelled cuts, unlabelled count)."""
        feats = batch["features"].to(self.device)
        lens = batch["feature_lens"].to(self.device)
        if augment and self.spec_augment is not None:
            feats = self.spec_augment(feats, lens)
        log_probs, out_lens = model(feats, lens)
        targets = torch.full(log_probs.shape[:2], IGNORE, dtype=torch.long)
        unlabelled = 0
        for row, (cut_id, frames) in enumerate(zip(batch["cut_ids"], out_lens.tolist())):
            labels = self.labels.get(cut_id)
            if labels is None:
                unlabelled += 1
                continue
            check_frame_count(cut_id, labels.numel(), frames)
            targets[row, :frames] = labels
        return log_probs, targets.to(log_probs.device), unlabelled

    def compute_loss(self, models: Models, batch: Batch) -> Tuple[torch.Tensor, Dict[str, float], int]:
        """Mean cross-entropy per labelled frame (masked frames included: every frame names its phoneme)."""
        log_probs, targets, unlabelled = self._forward(models[self.model_name], batch, augment=True)
        if unlabelled:  # keep_cut let only labelled cuts into the training set
            raise ValueError(f"{unlabelled} cuts of a training batch have no frame labels: "
                             f"{', '.join(c for c in batch['cut_ids'] if c not in self.labels)}; labels are keyed "
                             "by cut id, which a data.train repeat renames: list the manifest once")
        loss = F.nll_loss(log_probs.transpose(1, 2), targets, ignore_index=IGNORE)
        valid = targets != IGNORE
        correct = (log_probs.argmax(-1) == targets) & valid
        accuracy = 100.0 * float(correct.sum()) / max(int(valid.sum()), 1)
        return loss, {"loss": float(loss.detach()), "frame_acc": accuracy}, int(batch["feature_lens"].sum())

    def validate(self, models: Models, loader: Iterable[Batch]) -> Dict[str, float]:
        """Dev cross-entropy per frame and frame accuracy (%) over all labelled frames and over phoneme frames."""
        nll = 0.0
        frames = correct = phone_frames = phone_correct = utts = unlabelled = 0
        for batch in loader:
            log_probs, targets, missing = self._forward(models[self.model_name], batch, augment=False)
            valid = targets != IGNORE
            hits = (log_probs.argmax(-1) == targets) & valid
            phones = valid & (targets != SILENCE)
            nll += float(F.nll_loss(log_probs.transpose(1, 2), targets, ignore_index=IGNORE, reduction="sum"))
            frames += int(valid.sum())
            correct += int(hits.sum())
            phone_frames += int(phones.sum())
            phone_correct += int((hits & phones).sum())
            utts += len(batch["cut_ids"]) - missing
            unlabelled += missing
        accuracy = 100.0 * correct / max(frames, 1)
        return {"loss": nll / max(frames, 1), "error_rate": 100.0 - accuracy, "frame_acc": accuracy,
                "phone_frame_acc": 100.0 * phone_correct / max(phone_frames, 1), "utts": float(utts),
                "unlabelled": float(unlabelled)}

    def plot_panels(self) -> List[PlotPanel]:
        return [("frame accuracy (%)", [("train", "frame_acc"), ("dev", "frame_acc"), ("dev", "phone_frame_acc")])]
