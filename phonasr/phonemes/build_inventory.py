"""Regenerate the phoneme inventories from what espeak-ng actually emits.

    python -m phonasr.phonemes.build_inventory                  # all languages, default word lists
    python -m phonasr.phonemes.build_inventory --langs pl id --words 50000

For each voice a deterministic sample of a Debian word list, plus numbers (espeak-ng reads digits as number
words, with sounds the word list may lack) and every letter of the list's alphabet spoken alone (acronyms are
spelled out), is converted by espeak-ng with a separator between
its own phonemes; every phoneme becomes units by the rule in :mod:`phonasr.phonemes.ipa` and is counted. The
plain IPA of the same words is then segmented by longest match with the new inventory, which checks coverage
(no unknown symbol may remain) and measures how often longest match finds espeak-ng's phoneme boundaries; the
agreement is written into the file header. ``multilingual.txt`` is the union of every language file present.

Word lists (Debian packages): hunspell-pl hunspell-id hunspell-cs hunspell-ru hunspell-tr wspanish witalian
wdutch wngerman wswedish. Another list can be given with ``--source LANG PATH ENCODING``.
"""
from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence, Set, Tuple

from phonasr.phonemes.espeak import espeak_ipa, espeak_phonemes, espeak_version
from phonasr.phonemes.inventory import (
    INVENTORY_DIR,
    MULTILINGUAL,
    PRETRAINING_LANGUAGES,
    TARGET_LANGUAGES,
    available_inventories,
    inventory_path,
    read_inventory_counts,
    write_inventory,
)
from phonasr.phonemes.ipa import normalise_ipa, phoneme_to_units
from phonasr.phonemes.segmenter import IpaSegmenter
from phonasr.utils.logging import setup_logging

logger = logging.getLogger(__name__)

SEPARATOR = "_"
# voice -> (word list, encoding). Hunspell .dic files carry "/FLAGS" after each word; plain lists do not.
DEFAULT_SOURCES: Dict[str, Tuple[str, str]] = {
    "pl": ("/usr/share/hunspell/pl_PL.dic", "iso8859-2"),
    "id": ("/usr/share/hunspell/id_ID.dic", "iso8859-1"),
    "cs": ("/usr/share/hunspell/cs_CZ.dic", "utf-8"),
    "ru": ("/usr/share/hunspell/ru_RU.dic", "utf-8"),
    "tr": ("/usr/share/hunspell/tr_TR.dic", "utf-8"),
    "es": ("/usr/share/dict/spanish", "utf-8"),
    "it": ("/usr/share/dict/italian", "utf-8"),
    "nl": ("/usr/share/dict/dutch", "utf-8"),
    "de": ("/usr/share/dict/ngerman", "utf-8"),
    "sv": ("/usr/share/dict/swedish", "iso8859-1"),
}


def read_words(path: Path, encoding: str) -> List[str]:
    """Alphabetic words of a word list or hunspell dictionary (flags, morphology and the count line dropped)."""
    if not path.is_file():
        raise FileNotFoundError(f"word list {path} does not exist; install the Debian package that provides it "
                                "(see this module's docstring) or pass --source LANG PATH ENCODING")
    words = set()
    for line in path.read_text(encoding=encoding).splitlines():
        fields = line.split("/", 1)[0].split()
        if fields and fields[0].replace("-", "").isalpha():
            words.add(fields[0])
    if not words:
        raise ValueError(f"{path} (read as {encoding}) holds no alphabetic words")
    return sorted(words)


def numbers_and_letters(vocabulary: Sequence[str]) -> List[str]:
    """Items that make espeak-ng read numbers and spell letters: 0..1000, a few large numbers, each letter."""
    numbers = [str(n) for n in range(1001)] + ["1999", "2024", "12345", "1000000", "3,5", "0,25"]
    letters = sorted({c for word in vocabulary for c in word.lower() if c.isalpha()})
    return numbers + letters


def units_of_phonemes(separated: str) -> List[str]:
    """Units of one espeak-ng output whose phonemes are separated by SEPARATOR (words by spaces)."""
    units: List[str] = []
    for phoneme in separated.replace(" ", SEPARATOR).split(SEPARATOR):
        phoneme = normalise_ipa(phoneme)
        if phoneme:
            units.extend(phoneme_to_units(phoneme))
    return units


def build_language(lang: str, words: Sequence[str]) -> Tuple[Counter, int, List[str]]:
    """Unit counts for ``words`` read by voice ``lang``, the number of items whose longest-match segmentation
    equals espeak-ng's, and a few examples that differ."""
    start = time.time()
    separated = espeak_phonemes(words, lang, SEPARATOR)
    plain = espeak_ipa(words, lang)
    reference = [units_of_phonemes(s) for s in separated]
    counts: Counter = Counter(u for units in reference for u in units)
    segmenter = IpaSegmenter(counts)
    agree, differ = 0, []
    for word, ipa, expected in zip(words, plain, reference):
        got = segmenter.segment(ipa)
        if got == expected:
            agree += 1
        elif len(differ) < 5:
            differ.append(f"{word}: espeak {' '.join(expected)} / longest match {' '.join(got)}")
    logger.info("%s: %d items in %.1f s, %d units, longest match agrees on %d (%.2f%%)", lang, len(words),
                time.time() - start, len(counts), agree, 100.0 * agree / len(words))
    return counts, agree, differ


def write_multilingual(inventory_dir: Path) -> None:
    langs = [lang for lang in available_inventories(inventory_dir) if lang != MULTILINGUAL]
    counts: Counter = Counter()
    languages: Dict[str, Set[str]] = {}
    for lang in langs:
        for unit, n in read_inventory_counts(lang, inventory_dir).items():
            counts[unit] += n
            languages.setdefault(unit, set()).add(lang)
    header = [f"union of the phoneme inventories of {' '.join(langs)} ({len(counts)} units)",
              "made by python -m phonasr.phonemes.build_inventory",
              "columns: unit, count over all samples, languages that have it"]
    write_inventory(inventory_path(MULTILINGUAL, inventory_dir), counts, header, languages)
    logger.info("multilingual: %d units from %d languages", len(counts), len(langs))


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--langs", nargs="+", default=list(TARGET_LANGUAGES + PRETRAINING_LANGUAGES),
                        help="espeak-ng voices to build (default: %(default)s)")
    parser.add_argument("--words", type=int, default=20000, help="words sampled per language (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the word sample (default: %(default)s)")
    parser.add_argument("--source", nargs=3, action="append", default=[], metavar=("LANG", "PATH", "ENCODING"),
                        help="word list for LANG instead of the default one; repeatable")
    parser.add_argument("--out-dir", type=Path, default=INVENTORY_DIR, help="(default: the package's inventories)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] = tuple(sys.argv[1:])) -> None:
    args = parse_args(argv)
    setup_logging()
    sources = dict(DEFAULT_SOURCES)
    sources.update({lang: (path, encoding) for lang, path, encoding in args.source})
    version = espeak_version()
    for lang in args.langs:
        if lang not in sources:
            raise SystemExit(f"no word list known for '{lang}'; pass --source {lang} PATH ENCODING")
        path, encoding = sources[lang]
        vocabulary = read_words(Path(path), encoding)
        words = sorted(random.Random(args.seed).sample(vocabulary, min(args.words, len(vocabulary))))
        extra = numbers_and_letters(vocabulary)
        counts, agree, differ = build_language(lang, words + extra)
        total = len(words) + len(extra)
        header = [f"phoneme inventory of espeak-ng {version} voice '{lang}' ({len(counts)} units)",
                  f"made by python -m phonasr.phonemes.build_inventory from {path} "
                  f"({len(words)} of {len(vocabulary)} words, seed {args.seed}) and {len(extra)} numbers and letters",
                  f"longest match finds espeak-ng's phoneme boundaries in {agree} of {total} items "
                  f"({100.0 * agree / total:.2f}%)"]
        header += [f"  differs: {d}" for d in differ]
        header.append("columns: unit, count in the sample")
        write_inventory(inventory_path(lang, args.out_dir), counts, header)
    write_multilingual(args.out_dir)


if __name__ == "__main__":
    main()
