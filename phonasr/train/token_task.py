"""CTC between token sequences: the P2G (phonemes -> subwords) and the G2P (characters -> phonemes) of JSA-SPG.

Data are TSV pair files (:mod:`phonasr.batching.pairs`), so this task builds its own loaders instead of the
trainer's default feature cuts. Config keys (besides the trainer's ``train``/``optim``/``schedule``)::

    input_tokenizer: data/lang_phone_pl     # P2G; the G2P reads data/lang_char_pl
    output_tokenizer: data/lang_bpe500_pl   # P2G; the G2P writes data/lang_phone_pl
    model_name: p2g                         # the name in checkpoints, which JSA's init looks up
    model: {type: transformer, preset: spg, upsample: 2}
    length_margin: null      # or keep only training pairs with len(input) > len(output) + margin (reference: 2)
    ctc_backend: auto
    dev_metric: wer          # default: per for a phoneme output tokenizer, else wer (BPE decoded to words)
    init: {checkpoint: exp/jsa/final.pt, model_name: p2g}   # optional: fine-tune from another run
    data: {train: pairs.tsv, dev: pairs.tsv, reverse: false, max_tokens: 4000, num_buckets: 10}

A phoneme tokenizer reads space-separated units, BPE and character tokenizers read the text. A training pair
whose output CTC cannot emit from the (upsampled) input is rejected, as is one failing ``length_margin``; both
are counted and logged. Dev pairs are all kept: the error rate covers every one, the dev loss the feasible ones.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import torch

from phonasr.batching.cuts import Batch
from phonasr.batching.pairs import (
    PairBatchSampler,
    TextPair,
    TokenPair,
    make_pair_loader,
    pair_files,
    read_pairs,
    violates_margin,
)
from phonasr.ctc import ctc_loss, min_ctc_frames
from phonasr.models import TransformerConfig, build_model, model_config
from phonasr.models.stored import ModelSpec, load_model_checkpoint, specs_metadata, stored_model
from phonasr.tokenizers import Tokenizer, load_tokenizer
from phonasr.train.data import TrainingData
from phonasr.train.dev_scoring import GreedyDevScore
from phonasr.train.settings import parse_section, require_keys, section_errors
from phonasr.train.task import Models, Task
from phonasr.utils.config import ConfigError

log = logging.getLogger(__name__)


@dataclasses.dataclass
class PairDataSettings:
    """The ``data:`` section of a token task."""

    train: Any = None                # pair file or list of pair files
    dev: Any = None
    reverse: bool = False            # read the files as utt<TAB>output<TAB>input (the G2P reads the P2G's pairs)
    max_tokens: int = 4000           # padded input tokens per batch (batch size x longest input)
    dev_max_tokens: Optional[int] = None
    num_buckets: int = 10
    num_workers: int = 0


@dataclasses.dataclass
class PairFilterReport:
    """How many training pairs were kept, and why the others were rejected (with a few ids for the log)."""

    kept: int = 0
    margin: int = 0                  # len(input) <= len(output) + length_margin
    infeasible: int = 0              # output longer than CTC can emit from the upsampled input
    examples: List[str] = dataclasses.field(default_factory=list)

    def log(self, what: str, margin: Optional[int]) -> None:
        log.info("%s: kept %d pairs, rejected %d infeasible for CTC%s%s", what, self.kept, self.infeasible,
                 f" and {self.margin} by length_margin {margin}" if margin is not None else "",
                 f" (e.g. {', '.join(self.examples)})" if self.examples else "")


class TokenCtcTask(Task):
    def __init__(self, config: Mapping[str, Any], device: torch.device) -> None:
        super().__init__(config, device)
        require_keys(config, {"input_tokenizer": "data/lang_phone",
                              "output_tokenizer": "data/lang_bpe500",
                              "model_name": "p2g",
                              "model": "{type: transformer, preset: tiny, upsample: 2}"}, "a token_ctc config")
        self.input_dir = str(config["input_tokenizer"])
        self.output_dir = str(config["output_tokenizer"])
        self.inputs: Tokenizer = load_tokenizer(self.input_dir)
        self.outputs: Tokenizer = load_tokenizer(self.output_dir)
        self.model_name = str(config["model_name"])
        with section_errors("model"):
            arch = model_config(config["model"])
        if not isinstance(arch, TransformerConfig):
            raise ConfigError("a token_ctc model must be a transformer: it reads token ids, not features",
                              "set model: {type: transformer, ...}")
        self.upsample = arch.upsample
        self.length_margin: Optional[int] = config.get("length_margin")
        self.ctc_backend = config.get("ctc_backend", "auto")
        self.dev_metric = config.get("dev_metric", "per" if self.outputs.type_name == "phone" else "wer")
        self.error_rate_name = self.dev_metric.upper()

    # ------------------------------------------------------------------------------------------ models
    def build_models(self) -> Models:
        return {self.model_name: build_model(dict(self.config["model"]), vocab_size=self.outputs.vocab_size,
                                             input_vocab_size=self.inputs.vocab_size)}

    def initialize(self, models: Models) -> Models:
        init = self.config.get("init") or {}
        path = init.get("checkpoint")
        if not path:
            return models
        source = stored_model(load_model_checkpoint(path), path, init.get("model_name"), prefer=self.model_name)
        source.check_symbols("input", self.inputs.symbols, self.input_dir)
        source.check_symbols("output", self.outputs.symbols, self.output_dir)
        source.load_into(models[self.model_name], self.config["model"])
        log.info("initialised %s from %s (model '%s')", self.model_name, path, source.name)
        return models

    def checkpoint_metadata(self) -> Dict[str, Any]:
        spec = ModelSpec(dict(self.config["model"]), self.output_dir, list(self.outputs.symbols), self.input_dir,
                         list(self.inputs.symbols))
        return {"tokenizer_dir": self.output_dir, "symbols": list(self.outputs.symbols),
                "input_tokenizer_dir": self.input_dir, **specs_metadata({self.model_name: spec})}

    # ------------------------------------------------------------------------------------------ data
    def build_data(self, seed: int, world_size: int, rank: int) -> TrainingData:
        d = parse_section(PairDataSettings, self.config.get("data"), "data")
        if d.train is None or d.dev is None:
            raise ConfigError("the data: section needs train and dev",
                              "name their pair files (utt_id<TAB>input<TAB>output) in data.train and data.dev")
        train, report = self._filter(self._read(d.train, d.reverse))
        report.log("train set", self.length_margin)
        dev = self._read(d.dev, d.reverse)
        infeasible = sum(not self._feasible(p) for p in dev)
        log.info("dev set: %d pairs%s", len(dev),
                 f", {infeasible} infeasible for CTC (scored, left out of the dev loss)" if infeasible else "")
        sampler = PairBatchSampler([len(p.input_ids) for p in train], d.max_tokens, shuffle=True,
                                   num_buckets=d.num_buckets, seed=seed, world_size=world_size, rank=rank)
        dev_sampler = PairBatchSampler([len(p.input_ids) for p in dev], d.dev_max_tokens or d.max_tokens,
                                       shuffle=False, num_buckets=d.num_buckets, seed=seed)
        return TrainingData(sampler=sampler, train_loader=make_pair_loader(train, sampler, d.num_workers, seed),
                            dev_loader=make_pair_loader(dev, dev_sampler, d.num_workers, seed))

    def _read(self, entries: Any, reverse: bool) -> List[TokenPair]:
        pairs = [self._encode(p) for path in pair_files(entries) for p in read_pairs(path, reverse)]
        unknown = getattr(self.inputs, "unknown", None)  # characters the char tokenizer mapped to <unk>
        if unknown:
            log.warning("input characters not in %s, read as <unk>: %s", self.input_dir,
                        ", ".join(f"{c!r} x{n}" for c, n in unknown.most_common(10)))
            unknown.clear()
        return pairs

    def _encode(self, pair: TextPair) -> TokenPair:
        ids = []
        for side, tokenizer, lang_dir, text in (("input", self.inputs, self.input_dir, pair.input),
                                                ("output", self.outputs, self.output_dir, pair.output)):
            try:
                ids.append(tuple(tokenizer.encode(text)))
            except ValueError as e:
                raise ValueError(f"{pair.where}: utterance '{pair.utt_id}': cannot encode its {side} with the "
                                 f"tokenizer of {lang_dir}: {e}") from e
        return TokenPair(pair.utt_id, ids[0], ids[1], pair.output)

    def _feasible(self, pair: TokenPair) -> bool:
        return self.upsample * len(pair.input_ids) >= min_ctc_frames(pair.output_ids)

    def _filter(self, pairs: Sequence[TokenPair], max_examples: int = 10) -> Tuple[List[TokenPair],
                                                                                    PairFilterReport]:
        report = PairFilterReport()
        kept: List[TokenPair] = []
        for p in pairs:
            if not self._feasible(p):
                report.infeasible += 1
            elif violates_margin(len(p.input_ids), len(p.output_ids), self.length_margin):
                report.margin += 1
            else:
                kept.append(p)
                continue
            if len(report.examples) < max_examples:
                report.examples.append(p.utt_id)
        report.kept = len(kept)
        if not kept:
            raise ValueError(f"no training pair is usable ({report.margin} fail length_margin {self.length_margin}, "
                             f"{report.infeasible} are infeasible for CTC): raise model.upsample or lower "
                             "length_margin")
        return kept, report

    # ------------------------------------------------------------------------------------------ loss
    def _nll(self, model: torch.nn.Module, batch: Batch) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        log_probs, out_lens = model(batch["inputs"].to(self.device), batch["input_lens"].to(self.device))
        # CTC in float32 even under AMP
        return ctc_loss(log_probs.float(), out_lens, batch["targets"], backend=self.ctc_backend), log_probs, out_lens

    def compute_loss(self, models: Models, batch: Batch) -> Tuple[torch.Tensor, Dict[str, float], int]:
        """Summed CTC negative log-likelihood per output token; the throughput counts input tokens."""
        nll, _, _ = self._nll(models[self.model_name], batch)
        loss = nll.sum() / max(sum(len(t) for t in batch["targets"]), 1)
        return loss, {"loss": float(loss.detach()), "utts": float(len(nll))}, int(batch["input_lens"].sum())

    def validate(self, models: Models, loader: Iterable[Batch]) -> Dict[str, float]:
        """Dev loss per token and the greedy-decoding error rate (WER of BPE/char outputs, PER of phonemes)."""
        score = GreedyDevScore(self.dev_metric, self.outputs.decode)
        for batch in loader:
            nll, log_probs, out_lens = self._nll(models[self.model_name], batch)
            score.add(nll, log_probs, out_lens, [len(t) for t in batch["targets"]], batch["references"])
        return score.metrics()
