"""Phoneme n-bests of text-only data from the G2P: the pairs of language-domain adaptation (steps/g2p_nbest.sh).

    python -m phonasr.bin.g2p_nbest --lang pl [--nbest 4] [--beam 16] [--model-name g2p] CHECKPOINT TEXT OUT.tsv

Every line of TEXT (one sentence each) is normalised as CommonVoice preparation normalises transcripts
(:func:`phonasr.text.normalise.normalise_text`), read by the G2P (characters in, phonemes out; a JSA final.pt or a
G2P of the token task) and decoded with the prefix beam search. OUT gets one row per hypothesis,
``lda-<line>[-<rank>]<TAB>phones<TAB>text`` (the rank only with --nbest > 1; line numbers zero-padded so ids sort
in file order), the format the P2G's token task trains on.

Rejected, with file and line in the rejects file (default OUT with ``.rejects.tsv``, columns of
:mod:`phonasr.data.rejects`), never dropped silently: lines that normalise to nothing (``empty_sentence``), that
hold letters outside the language's alphabet (``foreign_chars``, as in corpus preparation), or characters the G2P's
character table lacks (``unknown_chars``: the G2P would read <unk>, and the P2G would learn to spell a guess); and
hypotheses with no phonemes (``empty_hypothesis``). Blank lines are skipped but counted.
"""
from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

from phonasr.bin.decode_p2g import decode_token_sequences, load_token_model, resolve_device
from phonasr.bin.make_pairs import default_rejects_path, log_rejects
from phonasr.data.rejects import RejectLog
from phonasr.text.normalise import normalise_text
from phonasr.tokenizers import CharTokenizer, PhonemeTokenizer
from phonasr.utils.io import atomic_write_text
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

logger = logging.getLogger("phonasr.bin.g2p_nbest")

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


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="G2P final.pt (token task) or JSA final.pt")
    parser.add_argument("text", help="text file, one sentence per line")
    parser.add_argument("out", help="pair file to write: lda-<line>[-<rank>]<TAB>phones<TAB>text")
    parser.add_argument("--lang", required=True, help="language code for text normalisation, e.g. pl")
    parser.add_argument("--model-name", default=None, help="model in the checkpoint (default: g2p, else its only one)")
    parser.add_argument("--input-tokenizer-dir", default=None, help="character lang dir (default: the recorded one)")
    parser.add_argument("--output-tokenizer-dir", default=None, help="phoneme lang dir (default: the recorded one)")
    parser.add_argument("--beam", type=int, default=16, help="G2P prefix beam width")
    parser.add_argument("--nbest", type=int, default=4, help="phoneme hypotheses per sentence (<= beam)")
    parser.add_argument("--max-tokens", type=int, default=20000, help="padded input tokens per batch")
    parser.add_argument("--rejects", default=None, help="rejects file (default: OUT with .rejects.tsv)")
    parser.add_argument("--device", default="auto", help="auto (cuda when present), cpu, cuda, cuda:N")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    if not 1 <= args.nbest <= args.beam:
        raise ValueError(f"need 1 <= --nbest <= --beam, got nbest {args.nbest}, beam {args.beam}")
    text_path, out = Path(args.text), Path(args.out)
    rejects_path = Path(args.rejects) if args.rejects else default_rejects_path(out)
    if not text_path.is_file():
        raise FileNotFoundError(f"text file {text_path} does not exist")
    tm = load_token_model(args.checkpoint, args.model_name, "g2p", resolve_device(args.device),
                          args.input_tokenizer_dir, args.output_tokenizer_dir)
    if not isinstance(tm.inputs, CharTokenizer) or not isinstance(tm.outputs, PhonemeTokenizer):
        raise ValueError(f"model '{tm.name}' of {args.checkpoint} reads {tm.inputs.type_name} and writes "
                         f"{tm.outputs.type_name}; a G2P reads characters and writes phonemes (for a JSA checkpoint "
                         "use --model-name g2p)")
    rejects = RejectLog()
    split = out.name
    sentences = read_sentences(text_path, args.lang, tm.inputs, rejects, split)
    logger.info("G2P '%s' of %s: %d sentences of %s, beam %d, nbest %d", tm.name, args.checkpoint, len(sentences),
                text_path, args.beam, args.nbest)
    result = decode_token_sequences(tm, [s.char_ids for s in sentences], args.beam, args.nbest, args.max_tokens)

    rows: List[str] = []
    for sentence, hyps in zip(sentences, result.hypotheses):
        for rank, hyp in enumerate(hyps, start=1):
            row_id = sentence.utt_id if args.nbest == 1 else f"{sentence.utt_id}-{rank}"
            if not hyp.tokens:
                rejects.add(split, text_path, sentence.line, row_id, "empty_hypothesis", "the G2P output no phonemes")
                continue
            rows.append(f"{row_id}\t{tm.outputs.decode(hyp.tokens)}\t{sentence.text}")
    atomic_write_text(rejects_path, rejects.to_tsv())
    log_rejects(rejects, split, rejects_path)
    if not rows:
        raise ValueError(f"no pairs: every line of {text_path} was rejected (see {rejects_path})")
    atomic_write_text(out, "".join(f"{row}\n" for row in rows))
    write_run_info(out.parent, f"g2p_nbest.{out.name}", {**vars(args), "rejects": str(rejects_path)})
    logger.info("wrote %d pairs for %d sentences to %s", len(rows), len(sentences), out)


if __name__ == "__main__":
    main()
