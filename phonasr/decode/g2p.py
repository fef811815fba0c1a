"""Phoneme n-bests of text-only data from the G2P: the pairs of language-domain adaptation.

Every line of a text file (one sentence each) is normalised as CommonVoice preparation normalises transcripts
(:func:`phonasr.text.normalise.normalise_text`), read by the G2P (characters in, phonemes out) and decoded with the
prefix beam search; each hypothesis is a pair row ``lda-<line>[-<rank>]<TAB>phones<TAB>text`` (line numbers
zero-padded so ids sort in file order), the format the P2G's token task trains on.

Rejected, with file and line (:func:`phonasr.decode.pairs.write_pairs`): lines that normalise to nothing
(``empty_sentence``), that hold letters outside the language's alphabet (``foreign_chars``, as in corpus
preparation), or characters the G2P's character table lacks (``unknown_chars``: the G2P would read <unk>, and the
P2G would learn to spell a guess); and hypotheses with no phonemes (``empty_hypothesis``). Blank lines are skipped
but counted.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import torch

from phonasr.data.rejects import RejectLog
from phonasr.decode.pairs import default_rejects_path, write_pairs
from phonasr.decode.tokens import decode_token_sequences, load_token_model
from phonasr.text.normalise import normalise_text
from phonasr.tokenizers import CharTokenizer, PhonemeTokenizer

logger = logging.getLogger(__name__)

ID_PREFIX = "lda"


@dataclass(frozen=True)
class Sentence:
    utt_id: str
    line: int
    text: str          # normalised
    char_ids: List[int]


def read_sentences(path: Path, lang: str, chars: CharTokenizer, rejects: RejectLog, split: str) -> List[Sentence]:
    """The usable sentences of a text file; the others go to ``rejects``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    width = len(str(len(lines)))
    sentences: List[Sentence] = []
    blank = 0
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip():
            blank += 1
            continue
        utt_id = f"{ID_PREFIX}-{lineno:0{width}d}"
        norm = normalise_text(raw, lang)
        unknown = sorted({c for c in norm.text if not c.isspace() and c not in chars.table})
        if not norm.text:
            rejects.add(split, path, lineno, utt_id, "empty_sentence", f"no words in {raw!r}")
        elif norm.foreign_chars:
            rejects.add(split, path, lineno, utt_id, "foreign_chars",
                        f"letters outside the {lang} alphabet {norm.foreign_chars!r} in {raw!r}")
        elif unknown:
            rejects.add(split, path, lineno, utt_id, "unknown_chars",
                        f"characters {''.join(unknown)!r} are not in the G2P's character table, in {raw!r}")
        else:
            sentences.append(Sentence(utt_id, lineno, norm.text, chars.encode(norm.text)))
    if blank:
        logger.info("%s: skipped %d blank lines", path, blank)
    return sentences


def g2p_pairs(checkpoint: str, text: str | Path, out: str | Path, lang: str, *, device: torch.device,
              model_name: Optional[str] = None, input_tokenizer_dir: Optional[str] = None,
              output_tokenizer_dir: Optional[str] = None, beam: int = 16, nbest: int = 4, max_tokens: int = 20000,
              rejects: Optional[str | Path] = None) -> Path:
    """The ``nbest`` G2P hypotheses of every sentence of the file ``text`` (language ``lang``) as pair rows in ``out``,
    by the G2P of ``checkpoint`` (default: the model called g2p, else the only one). Returns the rejects file
    (default: ``out`` with ``.rejects.tsv``)."""
    if not 1 <= nbest <= beam:
        raise ValueError(f"need 1 <= --nbest <= --beam, got nbest {nbest}, beam {beam}")
    text_path, out = Path(text), Path(out)
    rejects_path = Path(rejects) if rejects else default_rejects_path(out)
    if not text_path.is_file():
        raise FileNotFoundError(f"text file {text_path} does not exist")
    tm = load_token_model(checkpoint, model_name, "g2p", device, input_tokenizer_dir, output_tokenizer_dir)
    if not isinstance(tm.inputs, CharTokenizer) or not isinstance(tm.outputs, PhonemeTokenizer):
        raise ValueError(f"model '{tm.name}' of {checkpoint} reads {tm.inputs.type_name} and writes "
                         f"{tm.outputs.type_name}; a G2P reads characters and writes phonemes (for a JSA checkpoint "
                         "use --model-name g2p)")
    rejected = RejectLog()
    split = out.name
    sentences = read_sentences(text_path, lang, tm.inputs, rejected, split)
    logger.info("G2P '%s' of %s: %d sentences of %s, beam %d, nbest %d", tm.name, checkpoint, len(sentences),
                text_path, beam, nbest)
    result = decode_token_sequences(tm, [s.char_ids for s in sentences], beam, nbest, max_tokens)

    rows: List[str] = []
    for sentence, hyps in zip(sentences, result.hypotheses):
        for rank, hyp in enumerate(hyps, start=1):
            row_id = sentence.utt_id if nbest == 1 else f"{sentence.utt_id}-{rank}"
            if not hyp.tokens:
                rejected.add(split, text_path, sentence.line, row_id, "empty_hypothesis", "the G2P output no phonemes")
                continue
            rows.append(f"{row_id}\t{tm.outputs.decode(hyp.tokens)}\t{sentence.text}")
    write_pairs(out, rows, rejected, rejects_path,
                f"no pairs: every line of {text_path} was rejected (see {rejects_path})")
    logger.info("wrote %d pairs for %d sentences to %s", len(rows), len(sentences), out)
    return rejects_path
