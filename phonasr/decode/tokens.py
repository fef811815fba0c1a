"""Token-to-token CTC models (P2G, G2P): loading them with their tokenizers, and batched prefix beam search.

Shared by P2G decoding of S2P hypotheses (:mod:`phonasr.decode.p2g`) and G2P n-bests of text
(:mod:`phonasr.decode.g2p`).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import List, Optional, Sequence

import torch

from phonasr.batching.padding import pad_ids
from phonasr.batching.pairs import PairBatchSampler
from phonasr.ctc import Hypothesis, prefix_beam_search
from phonasr.models import CtcModel, TransformerConfig, model_config
from phonasr.models.stored import load_stored_model
from phonasr.tokenizers import Tokenizer

logger = logging.getLogger(__name__)


@dataclass
class TokenModel:
    """A token-to-token CTC model (P2G or G2P) with the tokenizers it reads and writes."""

    model: CtcModel
    name: str
    inputs: Tokenizer
    outputs: Tokenizer
    input_dir: str
    output_dir: str


def load_token_model(path: str, model_name: Optional[str], prefer: str, device: torch.device,
                     input_dir: Optional[str] = None, output_dir: Optional[str] = None) -> TokenModel:
    """Model ``model_name`` of checkpoint ``path`` (default: the one called ``prefer``, else the only one), in
    eval mode, with its tokenizers: the lang dirs its ``model_specs`` records unless given, checked against the
    model (same-sized tables in another order would decode every id wrongly)."""
    source = load_stored_model(path, model_name, prefer=prefer)
    if not isinstance(model_config(source.spec.config), TransformerConfig):
        raise ValueError(f"model '{source.name}' of {path} is not a token model (P2G/G2P) but reads features; "
                         "decode it with steps/decode_ctc.sh")
    input_dir = source.lang_dir("input", input_dir)
    output_dir = source.lang_dir("output", output_dir)
    inputs, outputs = source.tokenizer("input", input_dir), source.tokenizer("output", output_dir)
    return TokenModel(source.build(device), source.name, inputs, outputs, input_dir, output_dir)


@dataclass
class TokenDecodeResult:
    hypotheses: List[List[Hypothesis]]          # per input, best first
    log_probs: Optional[List[torch.Tensor]]     # per input (T', V) on the CPU, when asked for


def _batches(lengths: Sequence[int], max_tokens: int) -> List[List[int]]:
    """Indices of the non-empty inputs in batches of similar length, at most ``max_tokens`` padded input tokens
    each (the token task's dev-set batching)."""
    nonempty = [i for i, n in enumerate(lengths) if n > 0]
    if not nonempty:
        return []
    sampler = PairBatchSampler([lengths[i] for i in nonempty], max_tokens, shuffle=False, num_buckets=1, seed=0)
    return [[nonempty[j] for j in batch] for batch in sampler.epoch_batches(1)]


def decode_token_sequences(tm: TokenModel, inputs: Sequence[Sequence[int]], beam: int, nbest: int,
                           max_tokens: int = 20000, keep_log_probs: bool = False, log_every: int = 20
                           ) -> TokenDecodeResult:
    """Prefix beam search of ``tm`` on every input id sequence, batched by length; an empty input gets the
    empty hypothesis with log-probability 0 (the only output CTC allows) without running the model."""
    device = next(tm.model.parameters()).device
    hyps: List[List[Hypothesis]] = [[Hypothesis([], 0.0)] for _ in inputs]
    saved: Optional[List[torch.Tensor]] = [torch.zeros(0, tm.model.vocab_size) for _ in inputs] \
        if keep_log_probs else None
    start, done = time.time(), 0
    for n, batch in enumerate(_batches([len(x) for x in inputs], max_tokens), start=1):
        tokens, lengths = pad_ids([inputs[i] for i in batch], device)
        with torch.no_grad():
            log_probs, out_lens = tm.model(tokens, lengths)
        for i, result in zip(batch, prefix_beam_search(log_probs, out_lens, beam=beam, nbest=nbest)):
            hyps[i] = result
        if saved is not None:
            for row, i in enumerate(batch):
                saved[i] = log_probs[row, : int(out_lens[row])].cpu().clone()
        done += len(batch)
        if n % log_every == 0:
            logger.info("%s: %d batches, %d/%d sequences, %.1f sequences/s", tm.name, n, done, len(inputs),
                        done / max(time.time() - start, 1e-9))
    logger.info("%s: decoded %d sequences (%d empty) in %.1f s", tm.name, len(inputs), len(inputs) - done,
                time.time() - start)
    return TokenDecodeResult(hyps, saved)
