"""Acoustic CTC training: features -> phonemes (S2P) or subwords / characters (the subword baseline).

Config keys read here (besides the trainer's ``train``/``data``/``optim``/``schedule``), parsed by
:meth:`CtcSettings.from_config`:

``tokenizer_dir``   lang dir whose tokenizer maps the targets to ids (``data/lang_phone``, ``data/lang_bpe500_pl``)
``target_field``    ``phones`` (supervision.custom["phones"]) or ``text`` (supervision.text)
``model``           passed to ``phonasr.models.build_model``; ``model_name`` names it in checkpoints (``s2p``)
``spec_augment``    SpecAugment settings (omit or null for none); only applied in training
``ctc_backend``     ``auto`` | ``torch`` | ``k2`` (``phonasr.ctc.ctc_loss``)
``dev_metric``      ``per`` | ``wer`` | ``cer`` scored on greedy hypotheses (default: per for phones, wer for text)
``init``            start from another run (:class:`InitSettings`): ``{checkpoint: path, model_name: name in that
                    checkpoint, remap_output: bool, new_rows: mean | random}``. The model is always the one
                    this config's ``model:`` section describes (so fine-tuning may change e.g. dropout); the
                    checkpoint's weights must fit it exactly. ``remap_output`` re-maps the output layer onto this
                    tokenizer's symbols for crosslingual FT; ``new_rows`` initialises the rows of new symbols.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

import torch
from lhotse.cut import Cut
from torch import nn

from phonasr.batching.cuts import Batch, feature_frames
from phonasr.ctc import BACKENDS as CTC_BACKENDS
from phonasr.ctc import ctc_loss, min_ctc_frames
from phonasr.models import (
    NEW_ROW_INITS,
    ConformerConfig,
    CtcModel,
    build_model,
    model_config,
    remap_output_layer,
    subsampled_lengths,
)
from phonasr.models.stored import ModelSpec, load_model_checkpoint, specs_metadata, stored_model
from phonasr.scoring.error_rate import METRICS
from phonasr.tokenizers import load_tokenizer
from phonasr.train.data import train_feature_stats
from phonasr.train.dev_scoring import GreedyDevScore
from phonasr.train.settings import parse_section, require_keys, section_errors
from phonasr.train.specaugment import SpecAugment
from phonasr.train.task import Models, Task
from phonasr.utils.config import ConfigError

log = logging.getLogger(__name__)

TARGET_FIELDS = ("phones", "text")


@dataclasses.dataclass
class InitSettings:
    """The ``init:`` section of a ctc task: the run to start from.

    ``new_rows`` (with ``remap_output``) initialises the output rows of symbols the source model never had:

    * ``mean`` (default): the mean of the source's *non-blank* rows (weights and biases). The new symbol then
      starts as an "average phoneme": its logit is the mean of the known phonemes' logits, high where speech is
      and low where blank wins, so fine-tuning starts from a sensible posterior and mainly has to tell it apart
      from its neighbours. Blank is left out because its row is trained to win on most frames (CTC's peaky
      alignments); averaging it in would pull new symbols towards firing on silence and between phonemes.
    * ``random``: the default initialisation of a fresh linear layer (small random logits): nothing assumed
      about the new symbols, which also breaks the symmetry of many new rows starting from one mean.
    """

    checkpoint: Optional[str] = None
    model_name: Optional[str] = None
    remap_output: bool = False
    new_rows: str = "mean"

    def __post_init__(self) -> None:
        if self.new_rows not in NEW_ROW_INITS:
            raise ValueError(f"init.new_rows must be one of {', '.join(NEW_ROW_INITS)}, not {self.new_rows!r}")


@dataclasses.dataclass
class CtcSettings:
    """The top-level keys of a ctc task config, checked before any tokenizer or data is read."""

    tokenizer_dir: str
    model: Dict[str, Any]
    target_field: str = "phones"
    dev_metric: str = ""               # empty: per for phones, wer for text
    model_name: str = "s2p"
    ctc_backend: str = "auto"
    spec_augment: Optional[SpecAugment] = None
    init: InitSettings = dataclasses.field(default_factory=InitSettings)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CtcSettings:
        require_keys(config, {"tokenizer_dir": "data/lang_phone",
                              "model": "{type: conformer, preset: tiny}"}, "a ctc task config")
        with section_errors("model"):
            arch = model_config(config["model"])
        if not isinstance(arch, ConformerConfig):
            raise ConfigError("a ctc task's model must be a conformer: it reads speech features",
                              "set model: {type: conformer, ...}")
        augment = config.get("spec_augment")
        settings = cls(tokenizer_dir=str(config["tokenizer_dir"]), model=dict(config["model"]),
                       target_field=config.get("target_field", "phones"), dev_metric=config.get("dev_metric") or "",
                       model_name=str(config.get("model_name", "s2p")), ctc_backend=config.get("ctc_backend", "auto"),
                       spec_augment=parse_section(SpecAugment, augment, "spec_augment") if augment else None,
                       init=parse_section(InitSettings, config.get("init"), "init"))
        if settings.target_field not in TARGET_FIELDS:
            raise ConfigError(f"target_field '{settings.target_field}' is not one of {', '.join(TARGET_FIELDS)}",
                              "target_field: phones for an S2P, text for a subword model")
        settings.dev_metric = settings.dev_metric or ("per" if settings.target_field == "phones" else "wer")
        if settings.dev_metric not in METRICS:
            raise ConfigError(f"dev_metric '{settings.dev_metric}' is unknown", f"use one of {', '.join(METRICS)}")
        if settings.ctc_backend not in CTC_BACKENDS:
            raise ConfigError(f"ctc_backend '{settings.ctc_backend}' is unknown",
                              f"use one of {', '.join(CTC_BACKENDS)}")
        return settings


class CtcTask(Task):
    def __init__(self, config: Mapping[str, Any], device: torch.device) -> None:
        super().__init__(config, device)
        self.settings = CtcSettings.from_config(config)
        self.tokenizer_dir = self.settings.tokenizer_dir
        self.tokenizer = load_tokenizer(self.tokenizer_dir)
        self.target_field = self.settings.target_field
        self.dev_metric = self.settings.dev_metric
        self.error_rate_name = self.dev_metric.upper()
        self.model_name = self.settings.model_name
        self.ctc_backend = self.settings.ctc_backend
        self.spec_augment = self.settings.spec_augment

    # ------------------------------------------------------------------------------------------ models
    def build_models(self) -> Models:
        return {self.model_name: build_model(self.settings.model, self.tokenizer.vocab_size)}

    def initialize(self, models: Models) -> Models:
        """Load ``init.checkpoint`` into the model built from this config (re-mapping its output layer with
        ``init.remap_output``); the model section stays this config's, which is what checkpoints record and what
        a resumed run rebuilds. Without a checkpoint, the model's input normalisation gets the statistics of the
        training features."""
        init = self.settings.init
        if not init.checkpoint:
            self._set_input_normalisation(models[self.model_name])
            return models
        path = init.checkpoint
        source = stored_model(load_model_checkpoint(path), path, init.model_name, prefer=self.model_name)
        model = models[self.model_name]
        if not init.remap_output:
            source.check_symbols("output", self.tokenizer.symbols, self.tokenizer_dir)
            source.load_into(model, self.settings.model)
            log.info("initialised %s from %s (model '%s')", self.model_name, path, source.name)
            return models
        spec = source.spec
        if spec.output_symbols is None and spec.output_dir is None:
            raise ValueError(f"{path} records neither the symbols nor the lang dir of model '{source.name}', so its "
                             "output layer cannot be re-mapped")
        old_symbols = list(spec.output_symbols or load_tokenizer(spec.output_dir).symbols)
        model.output = nn.Linear(model.output.in_features, len(old_symbols))  # the source's output size
        source.load_into(model, self.settings.model)
        report = remap_output_layer(model, old_symbols, list(self.tokenizer.symbols), init=init.new_rows)
        log.info("initialised %s from %s (model '%s'); %s; new rows: %s", self.model_name, path, source.name,
                 report.summary(), init.new_rows)
        return models

    def _set_input_normalisation(self, model: CtcModel) -> None:
        """A model trained from scratch normalises its input with its training features' statistics (a model
        initialised from a checkpoint keeps the statistics it was trained with)."""
        cmvn = model.encoder.cmvn  # the task builds Conformers only; None with model.global_cmvn: false
        if cmvn is None:
            return
        stats = train_feature_stats(self, cmvn.mean.numel())
        cmvn.set_stats(stats.mean().float(), stats.std().float())

    def checkpoint_metadata(self) -> Dict[str, Any]:
        spec = ModelSpec(dict(self.settings.model), self.tokenizer_dir, list(self.tokenizer.symbols))
        return {"tokenizer_dir": self.tokenizer_dir, "symbols": list(self.tokenizer.symbols),
                "target_field": self.target_field, **specs_metadata({self.model_name: spec})}

    # ------------------------------------------------------------------------------------------ targets
    def _label(self, cut_id: str, text: str, phones: Optional[str]) -> str:
        if self.target_field == "text":
            return text
        if phones is None:
            raise ValueError(f"cut '{cut_id}' has no ground-truth phonemes (supervision.custom['phones']) but "
                             "target_field is phones: train on phoneme-labelled manifests or use target_field: text")
        return phones

    def _encode(self, cut_id: str, label: str) -> List[int]:
        try:
            return self.tokenizer.encode(label)
        except Exception as e:
            raise ValueError(f"cut '{cut_id}': cannot encode its {self.target_field} '{label}' with the tokenizer of "
                             f"{self.tokenizer_dir}: {e}") from e

    def keep_cut(self, cut: Cut) -> bool:
        sup = cut.supervisions[0]
        ids = self._encode(cut.id, self._label(cut.id, sup.text or "", (sup.custom or {}).get("phones")))
        out_frames = int(subsampled_lengths(torch.tensor([feature_frames(cut)]))[0])  # the Conformer's ×4 front end
        return bool(ids) and out_frames >= min_ctc_frames(ids)

    def _batch_targets(self, batch: Batch) -> Tuple[List[str], List[List[int]]]:
        labels = [self._label(c, t, p) for c, t, p in zip(batch["cut_ids"], batch["texts"], batch["phones"])]
        return labels, [self._encode(c, label) for c, label in zip(batch["cut_ids"], labels)]

    # ------------------------------------------------------------------------------------------ loss
    def _nll(self, model: torch.nn.Module, batch: Batch, augment: bool) -> Tuple[torch.Tensor, torch.Tensor,
                                                                                 torch.Tensor, List[str],
                                                                                 List[List[int]]]:
        feats = batch["features"].to(self.device)
        lens = batch["feature_lens"].to(self.device)
        if augment and self.spec_augment is not None:
            feats = self.spec_augment(feats, lens)
        log_probs, out_lens = model(feats, lens)
        labels, targets = self._batch_targets(batch)
        # CTC in float32 even under AMP: float16 log-probabilities lose the long sums' precision.
        nll = ctc_loss(log_probs.float(), out_lens, targets, backend=self.ctc_backend)
        return nll, log_probs, out_lens, labels, targets

    def compute_loss(self, models: Models, batch: Batch) -> Tuple[torch.Tensor, Dict[str, float], int]:
        """Summed CTC negative log-likelihood per target token (comparable across dynamic batch sizes)."""
        nll, _, _, _, targets = self._nll(models[self.model_name], batch, augment=True)
        loss = nll.sum() / max(sum(len(t) for t in targets), 1)
        return loss, {"loss": float(loss.detach()), "utts": float(len(nll))}, int(batch["feature_lens"].sum())

    def validate(self, models: Models, loader: Iterable[Batch]) -> Dict[str, float]:
        """Dev loss per token and the greedy-decoding error rate (PER for phonemes, WER/CER for text)."""
        score = GreedyDevScore(self.dev_metric, self.tokenizer.decode)
        for batch in loader:
            nll, log_probs, out_lens, labels, targets = self._nll(models[self.model_name], batch, augment=False)
            score.add(nll, log_probs, out_lens, [len(t) for t in targets], labels)
        return score.metrics()
