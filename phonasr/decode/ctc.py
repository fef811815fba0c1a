"""S2P (and subword CTC) decoding of a cut manifest: the acoustic model's prefix beam search, one shard of the cuts.

The cuts J, J+N, J+2N, ... (1-based J) of a manifest are decoded in batches of similar length, padded as in
training; the result is a decode directory (:mod:`phonasr.decode.outputs`) whose shards
:func:`phonasr.decode.outputs.merge_shards` joins.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from lhotse import CutSet
from lhotse.cut import Cut

from phonasr.batching.cuts import CutFeatures, feature_frames
from phonasr.batching.padding import pad_features
from phonasr.ctc import prefix_beam_search
from phonasr.decode.outputs import DecodedUtterance, Scored, merge_shards, write_decode_dir
from phonasr.decode.references import reference
from phonasr.models import ConformerConfig, CtcModel, model_config
from phonasr.models.conformer import Conv2dSubsampling
from phonasr.models.stored import load_stored_model
from phonasr.tokenizers import Tokenizer

logger = logging.getLogger(__name__)


@dataclass
class AcousticModel:
    """A speech-features-to-tokens CTC model (S2P, subword CTC) with the tokenizer of its outputs."""

    model: CtcModel
    name: str
    tokenizer: Tokenizer


def load_acoustic_model(path: str, model_name: Optional[str], tokenizer_dir: Optional[str],
                        device: torch.device) -> AcousticModel:
    """Model ``model_name`` of checkpoint ``path`` (default: its only one) in eval mode, with the tokenizer of
    ``tokenizer_dir`` (default: the recorded one), checked against the model."""
    source = load_stored_model(path, model_name)
    if not isinstance(model_config(source.spec.config), ConformerConfig):
        raise ValueError(f"model '{source.name}' of {path} is not an acoustic (conformer) model; "
                         "decode_ctc decodes speech features")
    tokenizer = source.tokenizer("output", source.lang_dir("output", tokenizer_dir))
    return AcousticModel(source.build(device), source.name, tokenizer)


# ------------------------------------------------------------------------------------------------- inputs
def shard_cuts(path: str, job: int, num_jobs: int, features: CutFeatures) -> List[Cut]:
    cuts = [c for i, c in enumerate(CutSet.from_file(path)) if i % num_jobs == job - 1]
    for cut in cuts:  # a cut without features (or audio) fails before any decoding
        features.check(cut, path)
    return cuts


def batches(cuts: Sequence[Cut], max_frames: int) -> Iterator[List[Cut]]:
    """Longest first, so each batch pads little; a batch's padded size stays under ``max_frames``."""
    batch: List[Cut] = []
    for cut in sorted(cuts, key=feature_frames, reverse=True):
        if batch and (len(batch) + 1) * feature_frames(batch[0]) > max_frames:
            yield batch
            batch = []
        batch.append(cut)
    if batch:
        yield batch


def load_batch(cuts: Sequence[Cut], input_dim: int, features: CutFeatures) -> Tuple[torch.Tensor, torch.Tensor]:
    """Padded features as in training (:func:`phonasr.batching.padding.pad_features`) and their lengths."""
    feats = features.load(cuts)
    for cut, f in zip(cuts, feats):
        if f.dim() != 2 or f.size(1) != input_dim:
            raise ValueError(f"cut '{cut.id}' has features of shape {tuple(f.shape)}; the model expects "
                             f"(frames, {input_dim})")
    lengths = torch.tensor([f.size(0) for f in feats])
    # at least the front end's minimum, so a batch of very short cuts still runs (they decode to nothing)
    return pad_features(feats, min_frames=Conv2dSubsampling.MIN_FRAMES), lengths


# ------------------------------------------------------------------------------------------------- decode
def decode_cuts(checkpoint: str, cuts_path: str, out_dir: str | Path, *, device: torch.device,
                model_name: Optional[str] = None, tokenizer_dir: Optional[str] = None, beam: int = 16,
                nbest: int = 1, ref_field: str = "text", max_frames: int = 40000, shard: Tuple[int, int] = (1, 1),
                fbank_backend: Optional[str] = None, save_logprobs: bool = False) -> None:
    """Decode shard ``J/N`` of the manifest ``cuts_path`` into the decode dir ``out_dir``: the ``nbest`` best of a
    prefix beam of ``beam``, references from ``ref_field``, batches of at most ``max_frames`` padded frames,
    features stored in the cuts or computed by ``fbank_backend``, log-posteriors kept with ``save_logprobs``."""
    if not 1 <= nbest <= beam:
        raise ValueError(f"need 1 <= --nbest <= --beam, got nbest {nbest}, beam {beam}")
    am = load_acoustic_model(checkpoint, model_name, tokenizer_dir, device)
    input_dim = am.model.encoder.config.input_dim
    job, num_jobs = shard
    features = CutFeatures(fbank_backend)
    cuts = shard_cuts(cuts_path, job, num_jobs, features)
    references = {c.id: reference(c, ref_field) for c in cuts}  # bad references fail before any decoding
    logger.info("decoding %d cuts of %s (shard %d/%d, %s) with model '%s' of %s on %s, beam %d, nbest %d",
                len(cuts), cuts_path, job, num_jobs, features.describe(), am.name, checkpoint, device, beam, nbest)

    decoded: List[DecodedUtterance] = []
    saved: Dict[str, torch.Tensor] = {}
    empty = 0
    encoder_s = search_s = 0.0
    start = time.time()
    for n, batch in enumerate(batches(cuts, max_frames), start=1):
        feats, lengths = load_batch(batch, input_dim, features)
        t0 = time.time()
        with torch.no_grad():
            log_probs, out_lens = am.model(feats.to(device), lengths.to(device))
        t1 = time.time()
        hyps = prefix_beam_search(log_probs, out_lens, beam=beam, nbest=nbest)
        t2 = time.time()
        encoder_s, search_s = encoder_s + t1 - t0, search_s + t2 - t1
        for i, (cut, ranked) in enumerate(zip(batch, hyps)):
            empty += not ranked[0].tokens
            decoded.append(DecodedUtterance(cut.id, references[cut.id],
                                            [Scored(am.tokenizer.decode(h.tokens), h.log_prob) for h in ranked]))
            if save_logprobs:
                saved[cut.id] = log_probs[i, : int(out_lens[i])].cpu().clone()
        if n % 20 == 0:
            logger.info("%d batches, %d cuts, %.1f cuts/s", n, len(decoded), len(decoded) / (time.time() - start))

    write_decode_dir(out_dir, decoded, saved if save_logprobs else None)
    logger.info("decoded %d cuts in %.1f s (encoder %.1f s, beam search %.1f s); %d empty hypotheses -> %s",
                len(decoded), time.time() - start, encoder_s, search_s, empty, out_dir)


def merge_decoding(cuts_path: str, out_dir: str | Path, shard_dirs: Sequence[str]) -> None:
    """Join the decode dirs of the shards of ``cuts_path`` into ``out_dir``, checking every cut was decoded once."""
    count = merge_shards(shard_dirs, out_dir, [c.id for c in CutSet.from_file(cuts_path)], cuts_path)
    logger.info("merged %d shards: %d utterances -> %s", len(shard_dirs), count, out_dir)
