"""Choose the phoneme-labelled subset of a training set (called by steps/select_subset.sh).

    python -m phonasr.bin.select_subset --minutes 10 data/fbank/pl/cuts_train.jsonl.gz data/subset/pl

writes under OUT_DIR (SUFFIX is "_<name>" with --name, else empty):
  cuts_train{SUFFIX}.jsonl.gz   the chosen cuts, in selection order, each with supervision.custom["phones"]
  coverage{SUFFIX}.txt          phoneme, count in the subset, count in the whole set, priority flag
  uttids{SUFFIX}.txt            the chosen cut ids, in selection order
  rejects{SUFFIX}.tsv           cuts left out of the pool: cut id, reason (no pronunciation, unknown phoneme ...)
  missing_words{SUFFIX}.txt     lexicon words without a pronunciation: word, count
  select_subset{SUFFIX}.config.yaml / .versions.json
Phonemes come from the manifest (custom["phones"]) where present, else from --g2p (espeak-ng, or --lexicon).
The selection rule is described in phonasr/data/subset.py; it is deterministic.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Optional, Sequence

from lhotse import CutSet

from phonasr.data.subset import (
    SubsetConfig,
    SubsetResult,
    format_coverage,
    resolve_priority,
    select_labelled_subset,
)
from phonasr.phonemes import IpaSegmenter
from phonasr.phonemes.ipa import STRIP_LENGTH
from phonasr.phonemes.pronouncer import make_pronouncer
from phonasr.utils.cli import str2bool
from phonasr.utils.io import atomic_path, atomic_write_text
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

logger = logging.getLogger("phonasr.bin.select_subset")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cuts", type=Path, help="training cuts (.jsonl.gz)")
    parser.add_argument("out_dir", type=Path)
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=float, default=None, help="audio budget in minutes (default: 10)")
    budget.add_argument("--count", type=int, default=None, help="budget in cuts instead of minutes")
    parser.add_argument("--name", default="", help="suffix of the output files (default: none)")
    parser.add_argument("--lang", default=None, help="target language; default: supervision.language of the cuts")
    parser.add_argument("--priority", default=None,
                        help="space-separated phonemes to favour; default: the paper's list for the language, "
                             "mapped to espeak-ng spelling")
    parser.add_argument("--priority-weight", type=float, default=10.0, help="(default: %(default)s)")
    parser.add_argument("--min-count", type=int, default=1,
                        help="occurrences asked of every phoneme per round (default: %(default)s)")
    parser.add_argument("--priority-min-count", type=int, default=5,
                        help="occurrences asked of every priority phoneme per round (default: %(default)s)")
    parser.add_argument("--g2p", choices=("espeak", "lexicon", "none"), default="espeak",
                        help="pronunciation source for cuts without manifest phones (default: %(default)s)")
    parser.add_argument("--lexicon", type=Path, default=None, help="word<TAB>phonemes file, for --g2p lexicon")
    parser.add_argument("--voice", default=None,
                        help="espeak-ng voice (default: the language's, e.g. sv for sv-SE, en-us for en)")
    parser.add_argument("--strip-length", type=str2bool, default=STRIP_LENGTH,
                        help="true|false: drop length marks as Whistle when pronouncing; false needs inventories "
                             "built with them (default: %(default)s)")
    return parser


def detect_language(cuts: CutSet, path: Path) -> str:
    langs = {sup.language for cut in cuts for sup in cut.supervisions}
    if len(langs) != 1 or None in langs:
        raise SystemExit(f"{path}: supervisions have languages {sorted(map(str, langs))}; pass --lang")
    return langs.pop()


def write_outputs(result: SubsetResult, out_dir: Path, suffix: str, source: Optional[Path]) -> None:
    with atomic_path(out_dir / f"cuts_train{suffix}.jsonl.gz") as tmp:
        result.cuts.to_file(tmp)
    coverage = format_coverage(result)
    atomic_write_text(out_dir / f"coverage{suffix}.txt", coverage)
    atomic_write_text(out_dir / f"uttids{suffix}.txt", "".join(f"{c.id}\n" for c in result.cuts))
    atomic_write_text(out_dir / f"rejects{suffix}.tsv", "".join(f"{i}\t{why}\n" for i, why in result.rejected))
    missing = "".join(f"{w}\t{n}\n" for w, n in sorted(result.missing_words.items(), key=lambda x: (-x[1], x[0])))
    atomic_write_text(out_dir / f"missing_words{suffix}.txt", missing)
    print(coverage, end="")
    if result.missing_words:
        logger.warning("%d distinct words had no pronunciation in %s; see %s", len(result.missing_words), source,
                       out_dir / f"missing_words{suffix}.txt")


def main(argv: Sequence[str] = tuple(sys.argv[1:])) -> None:
    args = get_parser().parse_args(argv)
    setup_logging()
    if args.minutes is None and args.count is None:
        args.minutes = 10.0
    if not args.cuts.is_file():
        raise SystemExit(f"{args.cuts} does not exist")
    cuts = CutSet.from_file(args.cuts).to_eager()
    lang = args.lang or detect_language(cuts, args.cuts)
    segmenter = IpaSegmenter.for_language(lang, args.strip_length)
    inventory = segmenter.units
    requested = args.priority.split() if args.priority is not None else None
    priority, unresolved = resolve_priority(lang, inventory, requested)
    if unresolved:
        logger.warning("%s: priority phonemes with no unit in the inventory, not favoured: %s", lang,
                       " ".join(unresolved))
    config = SubsetConfig(minutes=args.minutes, count=args.count, priority=priority,
                          priority_weight=args.priority_weight, min_count=args.min_count,
                          priority_min_count=args.priority_min_count)
    pronouncer = None if args.g2p == "none" else make_pronouncer(args.g2p, lang, segmenter, args.lexicon, args.voice)
    result = select_labelled_subset(cuts, lang, inventory, config, pronouncer, unresolved)
    suffix = f"_{args.name}" if args.name else ""
    write_outputs(result, args.out_dir, suffix, args.lexicon if args.g2p == "lexicon" else None)
    write_run_info(args.out_dir, f"select_subset{suffix}", {**vars(args), "cuts": str(args.cuts),
                   "out_dir": str(args.out_dir), "lexicon": str(args.lexicon) if args.lexicon else None,
                   "lang": lang, "resolved_priority": priority})
    logger.info("%s: chose %d cuts, %.2f minutes -> %s", lang, len(result.cuts), result.minutes, args.out_dir)


if __name__ == "__main__":
    main()
