"""The lexicon-free phone-level L: every LM word's pronunciations from the learned G2P, weighted by their
probabilities. No human lexicon is involved: the G2P (characters in, phonemes out) that JSA trained spells each word.

A word's pronunciations are the distinct non-empty hypotheses of the G2P's prefix beam search (its ``nbest``
best), renormalised over that list: cost = -log(P(h | word) / sum of the listed P), so a word's most likely
spelling costs little and the alternatives pay for their doubt.
"""
from __future__ import annotations

import logging
import math
from typing import Dict, List, Sequence

import torch

from phonasr.decode.tokens import decode_token_sequences, load_token_model
from phonasr.tokenizers import CharTokenizer, PhonemeTokenizer
from phonasr.wfst.lexicon import Pronunciation

logger = logging.getLogger(__name__)


def g2p_lexicon(checkpoint: str, words: Sequence[str], *, device: torch.device, nbest: int = 2, beam: int = 16,
                model_name: str | None = None) -> List[Pronunciation]:
    """Up to ``nbest`` weighted pronunciations per word by the G2P of ``checkpoint`` (default: the model g2p)."""
    if not 1 <= nbest <= beam:
        raise ValueError(f"need 1 <= nbest <= beam, got nbest {nbest}, beam {beam}")
    tm = load_token_model(checkpoint, model_name, "g2p", device)
    if not isinstance(tm.inputs, CharTokenizer) or not isinstance(tm.outputs, PhonemeTokenizer):
        raise ValueError(f"model '{tm.name}' of {checkpoint} reads {tm.inputs.type_name} and writes "
                         f"{tm.outputs.type_name}, not characters -> phonemes (for a JSA checkpoint: --g2p-model g2p)")
    result = decode_token_sequences(tm, [tm.inputs.encode(w) for w in words], beam, nbest)
    lexicon: List[Pronunciation] = []
    unspelled = []
    for word, hyps in zip(words, result.hypotheses):
        prons: Dict[tuple, float] = {}
        for hyp in hyps:
            tokens = tuple(tm.outputs.decode(hyp.tokens).split())
            if tokens and tokens not in prons:
                prons[tokens] = hyp.log_prob
        if not prons:
            unspelled.append(word)
            continue
        total = math.log(sum(math.exp(lp - max(prons.values())) for lp in prons.values())) + max(prons.values())
        lexicon.extend(Pronunciation(word, tokens, total - lp) for tokens, lp in prons.items())
    if unspelled:
        logger.warning("the G2P gave no phonemes for %d of %d words (left out of L, e.g. %s)", len(unspelled),
                       len(words), unspelled[:5])
    logger.info("G2P lexicon: %d pronunciations of %d words (at most %d each)", len(lexicon), len(words), nbest)
    return lexicon
