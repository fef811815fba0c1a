"""Attach phoneme labels to a cut manifest that has none (a real CommonVoice release), for phoneme CTC.

    python -m phonasr.bin.add_phones [--g2p espeak|lexicon] [--lexicon FILE] [--lang pl] [--strip-length true]
        IN.jsonl.gz OUT.jsonl.gz

Every cut gets supervision.custom["phones"] from its normalised text, through espeak-ng or a lexicon (cuts that
already carry phones keep them). Cuts that cannot be pronounced (a word missing from the lexicon, a phoneme
outside the inventory, an empty result) are left out of OUT and listed in OUT's ``.rejects.tsv`` with the reason;
missing lexicon words are counted in ``.missing_words.txt``. Counts in = kept + rejected are logged.
A regional language code (CommonVoice's ``sv-SE``) uses its base language's inventory and espeak-ng voice.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence

from lhotse import CutSet

from phonasr.data.subset import cut_phones, with_phones
from phonasr.phonemes import IpaSegmenter
from phonasr.phonemes.ipa import STRIP_LENGTH
from phonasr.phonemes.pronouncer import SOURCES, make_pronouncer
from phonasr.utils.cli import str2bool
from phonasr.utils.io import atomic_path, atomic_write_text
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

logger = logging.getLogger("phonasr.bin.add_phones")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cuts", type=Path, help="input cut manifest (supervision.text normalised)")
    parser.add_argument("out", type=Path, help="output cut manifest with supervision.custom['phones']")
    parser.add_argument("--g2p", choices=SOURCES, default="espeak", help="pronunciation source (default: %(default)s)")
    parser.add_argument("--lexicon", type=Path, default=None, help="word<TAB>phonemes file, for --g2p lexicon")
    parser.add_argument("--lang", default=None, help="language of the inventory (default: the supervisions')")
    parser.add_argument("--voice", default=None,
                        help="espeak-ng voice (default: the language's, e.g. sv for sv-SE, en-us for en)")
    parser.add_argument("--strip-length", type=str2bool, default=STRIP_LENGTH,
                        help="true|false: drop length marks as Whistle; false needs inventories built with them "
                             "(default: %(default)s)")
    return parser


def main(argv: Sequence[str] = tuple(sys.argv[1:])) -> None:
    args = get_parser().parse_args(argv)
    setup_logging()
    if not args.cuts.is_file():
        raise SystemExit(f"{args.cuts} does not exist")
    if args.cuts.resolve() == args.out.resolve():
        raise SystemExit(f"{args.out} would overwrite the input; write the labelled cuts to another file")
    cuts = CutSet.from_file(args.cuts).to_eager()
    lang = args.lang or next((s.language for c in cuts for s in c.supervisions if s.language), None)
    if lang is None:
        raise SystemExit(f"{args.cuts}: supervisions name no language; pass --lang")
    segmenter = IpaSegmenter.for_language(lang, args.strip_length)
    pronouncer = make_pronouncer(args.g2p, lang, segmenter, args.lexicon, args.voice)
    phones, rejected, missing = cut_phones(cuts, segmenter.units, pronouncer)
    labelled = CutSet.from_cuts(with_phones(c, phones[c.id]) for c in cuts if c.id in phones)
    with atomic_path(args.out) as tmp:
        labelled.to_file(tmp)
    stem = args.out.name[: -len(".jsonl.gz")] if args.out.name.endswith(".jsonl.gz") else args.out.stem
    atomic_write_text(args.out.with_name(f"{stem}.rejects.tsv"), "".join(f"{i}\t{why}\n" for i, why in rejected))
    atomic_write_text(args.out.with_name(f"{stem}.missing_words.txt"),
                      "".join(f"{w}\t{n}\n" for w, n in sorted(missing.items(), key=lambda x: (-x[1], x[0]))))
    write_run_info(args.out.parent, f"add_phones.{stem}", {**vars(args), "cuts": str(args.cuts),
                   "out": str(args.out), "lexicon": str(args.lexicon) if args.lexicon else None, "lang": lang})
    logger.info("%s: %d cuts in = %d labelled + %d rejected (%s.rejects.tsv)", args.cuts, len(cuts), len(labelled),
                len(rejected), stem)
    if not len(labelled):
        raise SystemExit(f"no cut of {args.cuts} could be pronounced; see {args.out.parent}/{stem}.rejects.tsv")


if __name__ == "__main__":
    main()
