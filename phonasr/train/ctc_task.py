"""Acoustic CTC training: features -> phonemes (S2P) or subwords / characters (the subword baseline).

Config keys read here (besides the trainer's ``train``/``data``/``optim``/``schedule``):

``tokenizer_dir``   lang dir whose tokenizer maps the targets to ids (``data/lang_phone``, ``data/lang_bpe500_pl``)
``target_field``    ``phones`` (supervision.custom["phones"]) or ``text`` (supervision.text)
``model``           passed to ``phonasr.models.build_model``; ``model_name`` names it in checkpoints (``s2p``)
``spec_augment``    SpecAugment settings (omit or null for none); only applied in training
``ctc_backend``     ``auto`` | ``torch`` | ``k2`` (``phonasr.ctc.ctc_loss``)
``dev_metric``      ``per`` | ``wer`` | ``cer`` scored on greedy hypotheses (default: per for phones, wer for text)
``init``            ``{checkpoint: path, remap_output: bool, model_name: name in that checkpoint}``: start from
                    another run (its model called ``model_name``, else the one named like ours, else its only one),
                    re-mapping the output layer onto this tokenizer's symbols for crosslingual FT
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

import torch
from lhotse.cut import Cut

from phonasr.ctc import ctc_loss
from phonasr.data.dataset import Batch
from phonasr.models import build_model, remap_output_layer, subsampled_lengths
from phonasr.tokenizers import load_tokenizer
from phonasr.train.checkpoint import ModelSpec, load_model_checkpoint, specs_metadata, stored_model
from phonasr.train.dev_scoring import GreedyDevScore
from phonasr.train.specaugment import SpecAugment
from phonasr.train.task import Models, Task

log = logging.getLogger(__name__)

TARGET_FIELDS = ("phones", "text")


def min_ctc_frames(ids: List[int]) -> int:
    """Fewest CTC frames that can emit ``ids``: one per label plus a blank between equal neighbours."""
    return len(ids) + sum(1 for a, b in zip(ids, ids[1:]) if a == b)


class CtcTask(Task):
    def __init__(self, config: Mapping[str, Any], device: torch.device) -> None:
        super().__init__(config, device)
        if "tokenizer_dir" not in config or "model" not in config:
            raise ValueError("a ctc task config needs tokenizer_dir and model")
        self.tokenizer_dir = str(config["tokenizer_dir"])
        self.tokenizer = load_tokenizer(self.tokenizer_dir)
        self.target_field = config.get("target_field", "phones")
        if self.target_field not in TARGET_FIELDS:
            raise ValueError(f"target_field must be one of {', '.join(TARGET_FIELDS)}, not '{self.target_field}'")
        self.dev_metric = config.get("dev_metric", "per" if self.target_field == "phones" else "wer")
        self.error_rate_name = self.dev_metric.upper()
        self.model_name = config.get("model_name", "s2p")
        self.ctc_backend = config.get("ctc_backend", "auto")
        augment = config.get("spec_augment")
        self.spec_augment = SpecAugment(**augment) if augment else None

    # ------------------------------------------------------------------------------------------ models
    def build_models(self) -> Models:
        return {self.model_name: build_model(dict(self.config["model"]), self.tokenizer.vocab_size)}

    def initialize(self, models: Models) -> Models:
        init = self.config.get("init") or {}
        path = init.get("checkpoint")
        if not path:
            return models
        source = stored_model(load_model_checkpoint(path), path, init.get("model_name"), prefer=self.model_name)
        if not init.get("remap_output", False):
            source.check_symbols("output", self.tokenizer.symbols, self.tokenizer_dir)
            models[self.model_name].load_state_dict(source.state)
            log.info("initialised %s from %s (model '%s')", self.model_name, path, source.name)
            return models
        spec = source.spec
        if spec.output_symbols is None and spec.output_dir is None:
            raise ValueError(f"{path} records neither the symbols nor the lang dir of model '{source.name}', so its "
                             "output layer cannot be re-mapped")
        old_symbols = list(spec.output_symbols or load_tokenizer(spec.output_dir).symbols)
        old_model = build_model(dict(spec.config), len(old_symbols))
        old_model.load_state_dict(source.state)
        report = remap_output_layer(old_model, old_symbols, list(self.tokenizer.symbols))
        log.info("initialised %s from %s (model '%s'); %s", self.model_name, path, source.name, report.summary())
        return {self.model_name: old_model}

    def checkpoint_metadata(self) -> Dict[str, Any]:
        spec = ModelSpec(dict(self.config["model"]), self.tokenizer_dir, list(self.tokenizer.symbols))
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
        out_frames = int(subsampled_lengths(torch.tensor([cut.num_frames]))[0])  # the Conformer's ×4 front end
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
