"""S2P -> P2G decoding without an LM: the phonemes of an S2P decode dir in, a decode dir of words out.

Scores. With ``nbest_in`` 1 (the paper's decoding) the P2G reads the S2P 1-best h (hyp.txt) and the score is the
P2G's log P(y | h) from the prefix beam search. With ``nbest_in`` K the P2G reads each of the S2P's K best h_k
(nbest.txt, score log P(h_k | x)) and a subword sequence y scores

    log sum_k P(h_k | x) P(y | h_k)

over the inputs whose P2G beam holds y: the marginal P(y | x) = sum_h P(h | x) P(y | h) restricted to the S2P
n-best and the P2G beams. A y that several S2P hypotheses support thus beats one that only the best supports
narrowly. An empty S2P hypothesis gives the empty y with P(y | h) = 1 (the P2G is not run on it). In both cases
y is a word sequence: subword sequences that spell the same words are merged, their probabilities added (with
K > 1 the P2G keeps its whole beam per input, so the sums see every output it found).
"""
from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import torch

from phonasr.ctc import Hypothesis
from phonasr.decode.outputs import DecodedUtterance, NBestEntry, Scored, read_hypotheses, write_decode_dir
from phonasr.decode.references import word_references
from phonasr.decode.tokens import decode_token_sequences, load_token_model
from phonasr.tokenizers import PhonemeTokenizer, Tokenizer

logger = logging.getLogger(__name__)


def encode_phones(tokenizer: Tokenizer, hyp: NBestEntry) -> List[int]:
    try:
        return tokenizer.encode(hyp.text)
    except ValueError as e:
        raise ValueError(f"{hyp.file}:{hyp.line}: the S2P hypothesis does not fit the P2G's phoneme tokenizer: {e}; "
                         "the S2P and P2G use different inventories") from e


def combine(s2p: Sequence[NBestEntry], p2g: Sequence[Sequence[Hypothesis]], nbest: int,
            detokenize: Callable[[List[int]], str]) -> List[Scored]:
    """The ``nbest`` best word sequences of one utterance by ``log sum_k P(h_k|x) P(y|h_k)`` (see the module doc);
    with one S2P hypothesis read from hyp.txt (no S2P score) the P2G's own scores. Subword sequences that spell
    the same words (another segmentation, a stray word boundary) are one hypothesis: their probabilities add."""
    totals: Dict[str, float] = {}
    for h, outputs in zip(s2p, p2g):
        for y in outputs:
            score = y.log_prob + (h.log_prob or 0.0)
            words = " ".join(detokenize(y.tokens).split())
            totals[words] = _logaddexp(totals[words], score) if words in totals else score
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:nbest]
    return [Scored(words, score) for words, score in ranked]


def _logaddexp(a: float, b: float) -> float:
    hi, lo = max(a, b), min(a, b)
    return hi if lo == -math.inf else hi + math.log1p(math.exp(lo - hi))


def decode_s2p_dir(checkpoint: str, s2p_dir: str | Path, out_dir: str | Path, *, device: torch.device,
                   model_name: Optional[str] = None, input_tokenizer_dir: Optional[str] = None,
                   output_tokenizer_dir: Optional[str] = None, cuts: Optional[str] = None, beam: int = 16,
                   nbest: int = 1, nbest_in: int = 1, max_tokens: int = 20000, save_logprobs: bool = False) -> None:
    """Decode the ``nbest_in`` best S2P hypotheses of ``s2p_dir`` with the P2G of ``checkpoint`` (default: the
    model called p2g, else the only one) into the decode dir ``out_dir``, ``nbest`` word sequences per utterance.

    References: the supervision.text of ``cuts``, else the S2P dir's ref.txt if it holds text. The logprobs.pt
    of ``save_logprobs`` is keyed by utterance, or utt-rank for the S2P's rank-th hypothesis with ``nbest_in`` > 1.
    """
    if not 1 <= nbest <= beam:
        raise ValueError(f"need 1 <= --nbest <= --beam, got nbest {nbest}, beam {beam}")
    s2p_dir = Path(s2p_dir)
    s2p = read_hypotheses(s2p_dir, nbest_in)
    utts = sorted(s2p)
    refs = word_references(s2p_dir, utts, cuts)  # a reference problem fails before any decoding
    tm = load_token_model(checkpoint, model_name, "p2g", device, input_tokenizer_dir, output_tokenizer_dir)
    if not isinstance(tm.inputs, PhonemeTokenizer):
        raise ValueError(f"model '{tm.name}' of {checkpoint} reads {tm.input_dir} ({tm.inputs.type_name}), "
                         "not phonemes: it is not a P2G (for a JSA checkpoint use --model-name p2g)")
    logger.info("P2G '%s' of %s on %s: %d utterances of %s, %d S2P hypotheses each at most, beam %d, nbest %d",
                tm.name, checkpoint, device, len(utts), s2p_dir, nbest_in, beam, nbest)

    inputs = [(utt, h) for utt in utts for h in s2p[utt]]
    # with several inputs per utterance every P2G hypothesis in the beam may add to a combined score
    per_input = nbest if nbest_in == 1 else beam
    result = decode_token_sequences(tm, [encode_phones(tm.inputs, h) for _, h in inputs], beam, per_input,
                                    max_tokens, keep_log_probs=save_logprobs)
    by_utt: Dict[str, List[List[Hypothesis]]] = {utt: [] for utt in utts}
    for (utt, _), hyps in zip(inputs, result.hypotheses):
        by_utt[utt].append(hyps)

    decoded = [DecodedUtterance(utt, refs[utt], combine(s2p[utt], by_utt[utt], nbest, tm.outputs.decode))
               for utt in utts]
    logprobs = None
    if result.log_probs is not None:
        keys = [utt if nbest_in == 1 else f"{utt}-{h.rank}" for utt, h in inputs]
        logprobs = dict(zip(keys, result.log_probs))
    write_decode_dir(out_dir, decoded, logprobs)
    empty = sum(not d.nbest[0].text for d in decoded)
    logger.info("wrote %d hypotheses (%d empty) to %s", len(decoded), empty, out_dir)
