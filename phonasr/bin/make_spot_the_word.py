"""Make the spot-the-word test set of a synthetic corpus language: word / pseudo-word pairs, spoken by espeak-ng.

    python -m phonasr.bin.make_spot_the_word [--pairs 100] [--seed 1] [--voices m1:50:165,...] [--dictionary FILE]
        CORPUS_LANG_DIR OUT_DIR          (e.g. corpus/pl data/spot_the_word/pl)

Real words come from the training text (CORPUS_LANG_DIR/train.tsv); a word counts as real for the pseudo-word
check when it occurs anywhere in the corpus text (every split, the other-domain text) or in --dictionary (one word
a line, hunspell's ``/FLAGS`` ignored). How pseudo-words are made and checked: :mod:`phonasr.units.spot_the_word`.
Both members of a pair are spoken by the same voice, one of the corpus's test speakers (from its plan) unless
--voices names others. Writes into OUT_DIR:
  pairs.tsv                         pair_id word pseudo word_cut pseudo_cut word_phones pseudo_phones speaker
  cuts_spot_the_word.jsonl.gz       lhotse cuts (recording + supervision with text and custom phones, pair_id)
  clips/<cut>.mp3                   the speech, encoded like the corpus clips
  make_spot_the_word.config.yaml / .versions.json
The same corpus, options and seed give the same pairs and audio. Fbank: steps/make_fbank.sh on the cuts.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from phonasr.data.synth.layout import LanguageLayout
from phonasr.phonemes import IpaSegmenter
from phonasr.phonemes.espeak import EspeakError, default_voice
from phonasr.text.normalise import alphabet, normalise_text
from phonasr.units.spot_the_word import (
    Lexicon,
    Phones,
    Voice,
    assign_voices,
    corpus_test_voices,
    espeak_pronouncer,
    make_pairs,
    pronounce_all,
    read_sentences,
    synthesise,
    write_pairs,
)
from phonasr.utils.io import atomic_path
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

CUTS_NAME = "cuts_spot_the_word.jsonl.gz"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus_dir", type=Path, help="a language of the synthetic corpus (corpus/pl)")
    parser.add_argument("out_dir", type=Path, help="where pairs.tsv, the cuts and clips/ go")
    parser.add_argument("--pairs", type=int, default=100, help="number of pairs (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the word order, pseudo-word and voice draws")
    parser.add_argument("--lang", default=None, help="language (default: the name of corpus_dir)")
    parser.add_argument("--voice", default=None, help="espeak-ng voice (default: the language's)")
    parser.add_argument("--voices", default=None,
                        help="VARIANT:PITCH:RATE,... speakers (default: the corpus plan's test speakers)")
    parser.add_argument("--dictionary", type=Path, default=None, help="more real words, one a line")
    parser.add_argument("--max-changes", type=int, default=2, help="phonemes a pseudo-word changes, 1..N")
    parser.add_argument("--sample-rate", type=int, default=16000, help="of the mp3 clips (default: %(default)s)")
    return parser


def words_of(sentences: Sequence[str], lang: str, letters: str) -> List[str]:
    """Normalised words of ``sentences`` written in the language's letters only (no digits, no foreign letters)."""
    return [w for s in sentences for w in normalise_text(s, lang).text.split() if set(w) <= set(letters)]


def other_words(layout: LanguageLayout, lang: str, letters: str, dictionary: Optional[Path]) -> List[str]:
    """Every real word besides the training text's: the corpus's other splits and texts, and the dictionary."""
    sentences: List[str] = []
    for split in ("validated", "dev", "test", "test_other"):
        if layout.split_tsv(split).is_file():
            sentences += read_sentences(layout.split_tsv(split))
    if layout.other_domain_text.is_file():
        sentences += layout.other_domain_text.read_text(encoding="utf-8").splitlines()
    if dictionary is not None:
        if not dictionary.is_file():
            raise FileNotFoundError(f"--dictionary {dictionary} does not exist")
        sentences += [line.split("/")[0] for line in dictionary.read_text(encoding="utf-8").splitlines()]
    return words_of(sentences, lang, letters)


def run(args: argparse.Namespace) -> None:
    lang = args.lang or args.corpus_dir.name
    letters = alphabet(lang)
    if letters is None:
        raise ValueError(f"phonasr has no alphabet for '{lang}' (phonasr.text.normalise.ALPHABETS): pseudo-words "
                         "are spelling edits; pass --lang")
    if args.pairs < 1 or args.max_changes < 1:
        raise ValueError("--pairs and --max-changes must be >= 1")
    layout = LanguageLayout(args.corpus_dir.parent, args.corpus_dir.name)
    if not layout.split_tsv("train").is_file():
        raise FileNotFoundError(f"{layout.split_tsv('train')} does not exist; pass a language dir of the synthetic "
                                "corpus (corpus/<lang>)")
    voices = ([Voice.parse(v) for v in args.voices.split(",")] if args.voices
              else corpus_test_voices(layout.plan))
    pronounce = espeak_pronouncer(args.voice or default_voice(lang), IpaSegmenter.for_language(lang).segment)
    training = pronounce_all(words_of(read_sentences(layout.split_tsv("train")), lang, letters), pronounce)
    known: Dict[str, Phones] = {w: p for w, p in training.items() if p is not None}
    lexicon = Lexicon.build(known, pronounce_all(other_words(layout, lang, letters, args.dictionary), pronounce))
    pairs = make_pairs(known, lexicon, letters, pronounce, args.pairs, args.seed, args.max_changes)
    if not pairs:
        raise ValueError(f"no word of {layout.split_tsv('train')} has a pseudo-word; is the corpus text tiny?")
    pairs = assign_voices(pairs, voices, args.seed)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    cuts = synthesise(pairs, args.voice or default_voice(lang), lang, args.out_dir, args.sample_rate)
    with atomic_path(args.out_dir / CUTS_NAME) as tmp:
        cuts.to_file(tmp)
    write_pairs(args.out_dir / "pairs.tsv", pairs)
    write_run_info(args.out_dir, "make_spot_the_word", {**vars(args), "corpus_dir": str(args.corpus_dir),
                   "out_dir": str(args.out_dir), "dictionary": str(args.dictionary) if args.dictionary else None,
                   "lang": lang, "voices": [v.name for v in voices], "pairs_made": len(pairs)})


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    try:
        run(args)
    except (ValueError, FileNotFoundError, EspeakError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
