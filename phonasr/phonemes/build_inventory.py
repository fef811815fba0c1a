"""Regenerate the phoneme inventories from what espeak-ng actually emits.

    python -m phonasr.phonemes.build_inventory                  # all languages, default word lists
    python -m phonasr.phonemes.build_inventory --langs pl id --words 50000
    python -m phonasr.phonemes.build_inventory --strip-length false --out-dir my_inventories   # keep ː
    PHONASR_INVENTORY_DIR=my_inventories python -m phonasr.bin.add_phones --strip-length false ...  # use them

For each language a deterministic sample of a Debian word list, plus numbers (espeak-ng reads digits as number
words, with sounds the word list may lack) and every letter of the list's alphabet spoken alone (acronyms are
spelled out), is converted by the language's espeak-ng voice (:func:`~phonasr.phonemes.espeak.default_voice`:
``en`` is spoken by ``en-us``) with a separator between its own phonemes; every phoneme becomes units by the
rule in :mod:`phonasr.phonemes.ipa` (length marks stripped unless ``--strip-length false``; the file header
records which) and is counted. The plain IPA of the same words is then segmented by longest match with the new
inventory, which checks coverage (no unknown symbol may remain) and measures how often longest match finds
espeak-ng's phoneme boundaries; the agreement is written into the file header. ``multilingual.txt`` is the
union of every language file present.

Word lists (Debian packages): hunspell-pl hunspell-id hunspell-cs hunspell-ru hunspell-tr wspanish witalian
wdutch wngerman wswedish wamerican wfrench. Debian has no Kyrgyz or Tatar word list, so for ky and tt the words
are those of the installed gettext catalogues (``gettext:<lang>``: translated messages of iso-codes, tar, grep
..., kept only when spelled in the language's alphabet, since catalogues also carry untranslated English names
that the voice would read in English). espeak-ng reads both languages by rule, so a thousand words plus every
letter and number already give every unit: 20,000 words of a Kyrgyz OCR word list gave the same unit set.
Another source can be given with ``--source LANG PATH ENCODING`` (PATH may be ``gettext:<lang>``).
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

from phonasr.phonemes.espeak import default_voice, espeak_ipa, espeak_phonemes, espeak_version
from phonasr.phonemes.inventory import (
    INVENTORY_DIR,
    MULTILINGUAL,
    PRETRAINING_LANGUAGES,
    TARGET_LANGUAGES,
    available_inventories,
    inventory_file,
    inventory_keeps_length,
    length_header,
    read_inventory_counts,
    write_inventory,
)
from phonasr.phonemes.ipa import STRIP_LENGTH, normalise_ipa, phoneme_to_units
from phonasr.phonemes.segmenter import IpaSegmenter
from phonasr.text.normalise import alphabet, casefold, is_letter
from phonasr.text.sources import read_paragraphs, source_files
from phonasr.utils.cli import str2bool
from phonasr.utils.logging import setup_logging

logger = logging.getLogger(__name__)

SEPARATOR = "_"
GETTEXT = "gettext:"
# language -> (word list, encoding). Hunspell .dic files carry "/FLAGS" after each word; plain lists do not.
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
    "en": ("/usr/share/dict/american-english", "utf-8"),
    "fr": ("/usr/share/dict/french", "utf-8"),
    "ky": (f"{GETTEXT}ky", "utf-8"),  # .mo catalogues are UTF-8 (read by phonasr.text.sources)
    "tt": (f"{GETTEXT}tt", "utf-8"),
}


def read_words(source: str, encoding: str) -> List[str]:
    """Alphabetic words of a word list or hunspell dictionary (flags, morphology and the count line dropped), or
    of the gettext catalogues of a language when ``source`` is ``gettext:<lang>``."""
    if source.startswith(GETTEXT):
        return gettext_words(source[len(GETTEXT):])
    path = Path(source)
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


def gettext_words(lang: str) -> List[str]:
    """Case-folded words of the translated messages in ``lang``'s gettext catalogues that are spelled in the
    language's alphabet (catalogues keep English names and commands untranslated)."""
    letters = alphabet(lang)
    if letters is None:
        raise ValueError(f"{GETTEXT}{lang}: no alphabet for '{lang}' in phonasr.text.normalise.ALPHABETS to tell "
                         "its words from untranslated ones")
    spec = f"{GETTEXT}{lang}"
    words = set()
    for path in source_files(spec):
        for paragraph in read_paragraphs(spec, path):
            text = "".join(c if is_letter(c) else " " for c in casefold(paragraph, lang))
            words.update(w for w in text.split() if all(c in letters for c in w))
    if not words:
        raise ValueError(f"the gettext catalogues of '{lang}' hold no word spelled in its alphabet")
    return sorted(words)


def numbers_and_letters(vocabulary: Sequence[str]) -> List[str]:
    """Items that make espeak-ng read numbers and spell letters: 0..1000, a few large numbers, each letter."""
    numbers = [str(n) for n in range(1001)] + ["1999", "2024", "12345", "1000000", "3,5", "0,25"]
    letters = sorted({c for word in vocabulary for c in word.lower() if c.isalpha()})
    return numbers + letters


def units_of_phonemes(separated: str, strip_length: bool) -> List[str]:
    """Units of one espeak-ng output whose phonemes are separated by SEPARATOR (words by spaces)."""
    units: List[str] = []
    for phoneme in separated.replace(" ", SEPARATOR).split(SEPARATOR):
        phoneme = normalise_ipa(phoneme, strip_length=strip_length)
        if phoneme:
            units.extend(phoneme_to_units(phoneme))
    return units


def build_language(lang: str, words: Sequence[str], strip_length: bool) -> Tuple[Counter, int, List[str]]:
    """Unit counts for ``words`` read by ``lang``'s voice, the number of items whose longest-match segmentation
    equals espeak-ng's, and a few examples that differ."""
    start = time.time()
    voice = default_voice(lang)
    separated = espeak_phonemes(words, voice, SEPARATOR)
    plain = espeak_ipa(words, voice)
    reference = [units_of_phonemes(s, strip_length) for s in separated]
    counts: Counter = Counter(u for units in reference for u in units)
    segmenter = IpaSegmenter(counts, strip_length=strip_length)
    agree, differ = 0, []
    for word, ipa, expected in zip(words, plain, reference):
        got = segmenter.segment(ipa)
        if got == expected:
            agree += 1
        elif len(differ) < 5:
            differ.append(f"{word}: espeak {' '.join(expected)} / longest match {' '.join(got)}")
    logger.info("%s (voice %s): %d items in %.1f s, %d units, longest match agrees on %d (%.2f%%)", lang, voice,
                len(words), time.time() - start, len(counts), agree, 100.0 * agree / len(words))
    return counts, agree, differ


def write_multilingual(inventory_dir: Path) -> None:
    """The union of every language file in ``inventory_dir``; they must share one length convention."""
    langs = [lang for lang in available_inventories(inventory_dir) if lang != MULTILINGUAL]
    keeps = {lang: inventory_keeps_length(lang, inventory_dir) for lang in langs}
    if len(set(keeps.values())) > 1:
        kept = " ".join(lang for lang, keep in keeps.items() if keep)
        raise SystemExit(f"{inventory_dir}: the inventories of {kept} keep length marks, the others strip them; "
                         "rebuild them all with the same --strip-length before making the multilingual union")
    counts: Counter = Counter()
    languages: Dict[str, Set[str]] = {}
    for lang in langs:
        for unit, n in read_inventory_counts(lang, inventory_dir).items():
            counts[unit] += n
            languages.setdefault(unit, set()).add(lang)
    header = [f"union of the phoneme inventories of {' '.join(langs)} ({len(counts)} units)",
              "made by python -m phonasr.phonemes.build_inventory",
              length_header(not any(keeps.values())),
              "columns: unit, count over all samples, languages that have it"]
    write_inventory(inventory_file(MULTILINGUAL, inventory_dir), counts, header, languages)
    logger.info("multilingual: %d units from %d languages", len(counts), len(langs))


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--langs", nargs="+", default=list(TARGET_LANGUAGES + PRETRAINING_LANGUAGES),
                        help="languages to build, each read by its espeak-ng voice (default: %(default)s)")
    parser.add_argument("--words", type=int, default=20000, help="words sampled per language (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the word sample (default: %(default)s)")
    parser.add_argument("--source", nargs=3, action="append", default=[], metavar=("LANG", "PATH", "ENCODING"),
                        help="word list for LANG instead of the default one; repeatable")
    parser.add_argument("--strip-length", type=str2bool, default=STRIP_LENGTH,
                        help="true|false: merge long units into short ones, as Whistle (default: %(default)s)")
    parser.add_argument("--out-dir", type=Path, default=INVENTORY_DIR,
                        help="(default: the package's inventories, or $PHONASR_INVENTORY_DIR when set)")
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
        vocabulary = read_words(path, encoding)
        words = sorted(random.Random(args.seed).sample(vocabulary, min(args.words, len(vocabulary))))
        extra = numbers_and_letters(vocabulary)
        counts, agree, differ = build_language(lang, words + extra, args.strip_length)
        total = len(words) + len(extra)
        header = [f"phoneme inventory of espeak-ng {version} voice '{default_voice(lang)}' ({len(counts)} units)",
                  f"made by python -m phonasr.phonemes.build_inventory from {path} "
                  f"({len(words)} of {len(vocabulary)} words, seed {args.seed}) and {len(extra)} numbers and letters",
                  f"longest match finds espeak-ng's phoneme boundaries in {agree} of {total} items "
                  f"({100.0 * agree / total:.2f}%)"]
        header += [f"  differs: {d}" for d in differ]
        header += [length_header(args.strip_length), "columns: unit, count in the sample"]
        write_inventory(inventory_file(lang, args.out_dir), counts, header)
    write_multilingual(args.out_dir)


if __name__ == "__main__":
    main()
