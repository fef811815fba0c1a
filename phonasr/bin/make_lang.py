"""Build the lang dirs of a recipe (called by steps/make_lang.sh).

    python -m phonasr.bin.make_lang --data-dir data --lang pl --pretrain-langs "cs de es" --bpe-size 500

writes under --data-dir:
  lang_phone/              the shared phoneme inventory: union of the target's and the pretraining languages'
                           inventories (the whole multilingual inventory when no pretraining language is given)
  lang_phone_<l>/          the inventory of each of those languages
  lang_bpe<N>_<lang>/      SentencePiece BPE on the target's training transcripts (N = --bpe-size as asked; a
                           tiny corpus gets fewer pieces, recorded in tokenizer.yaml)
  lang_char_<lang>/        characters of the target's training transcripts, for the G2P input
Each dir gets tokens.txt, tokenizer.yaml and make_lang.{config.yaml,versions.json}. The training transcripts are
``supervision.text`` of <data-dir>/manifests/<lang>/cuts_train.jsonl.gz; where the manifests of these languages
carry ``custom["phones"]`` they are checked against the inventories, so a mismatch stops here, not in training.
A regional language code (CommonVoice's ``sv-SE``) uses its base language's inventory; its manifests stay under
the code as given. ``--strip-length`` must match how the manifests' phones were segmented (default: stripped).
"""
from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence

from lhotse import CutSet

from phonasr.phonemes import MULTILINGUAL, load_inventory
from phonasr.phonemes.ipa import STRIP_LENGTH
from phonasr.tokenizers import BpeTokenizer, CharTokenizer, PhonemeTokenizer, Tokenizer, save_tokenizer
from phonasr.utils.cli import str2bool
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

logger = logging.getLogger("phonasr.bin.make_lang")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True, help="recipe data dir holding manifests/")
    parser.add_argument("--lang", required=True, help="target language code (an inventory name), e.g. pl")
    parser.add_argument("--pretrain-langs", default="", help="space-separated pretraining languages")
    parser.add_argument("--bpe-size", type=int, default=500, help="BPE vocabulary size (default: %(default)s)")
    parser.add_argument("--strip-length", type=str2bool, default=STRIP_LENGTH,
                        help="true|false: phoneme units without length marks, as Whistle; false needs inventories "
                             "built with them (default: %(default)s)")
    return parser


class Transcript(NamedTuple):
    cut_id: str
    text: str
    phones: Optional[str]  # space-separated units, when the manifest has them


def read_manifest(data_dir: Path, lang: str, required: bool) -> List[Transcript]:
    """(text, phones) of every supervision of a language's training cuts; [] if absent and not required."""
    path = data_dir / "manifests" / lang / "cuts_train.jsonl.gz"
    if not path.is_file():
        if required:
            raise FileNotFoundError(f"{path} does not exist; run the manifest stage first")
        return []
    rows = []
    for cut in CutSet.from_file(path):
        for sup in cut.supervisions:
            rows.append(Transcript(cut.id, sup.text or "", (sup.custom or {}).get("phones")))
    logger.info("%s: %d supervisions from %s", lang, len(rows), path)
    return rows


def check_phones(rows: Sequence[Transcript], tokenizer: PhonemeTokenizer, lang: str) -> None:
    """Every manifest phone must be a unit of the inventory; report them all at once."""
    unknown: Counter = Counter()
    first: Dict[str, str] = {}
    for row in rows:
        for unit in (row.phones or "").split():
            if unit not in tokenizer.table:
                unknown[unit] += 1
                first.setdefault(unit, row.cut_id)
    if unknown:
        listing = ", ".join(f"{u!r} x{n} (e.g. {first[u]})" for u, n in unknown.most_common())
        raise ValueError(f"{lang}: manifest phones outside the {lang} inventory: {listing}; regenerate the "
                         "inventories (python -m phonasr.phonemes.build_inventory) or fix the manifests")


def write_lang_dir(tokenizer: Tokenizer, lang_dir: Path, config: Dict) -> None:
    save_tokenizer(tokenizer, lang_dir)
    write_run_info(lang_dir, "make_lang", config)
    logger.info("wrote %s (%s, %d tokens)", lang_dir, tokenizer.type_name, tokenizer.vocab_size)


def main(argv: Sequence[str] = tuple(sys.argv[1:])) -> None:
    args = get_parser().parse_args(argv)
    setup_logging()
    data_dir: Path = args.data_dir
    pretrain = [lang for lang in args.pretrain_langs.split() if lang != args.lang]
    langs = [args.lang, *pretrain]
    config = {"lang": args.lang, "pretrain_langs": pretrain, "bpe_size": args.bpe_size, "data_dir": str(data_dir),
              "strip_length": args.strip_length}
    inventories = {lang: load_inventory(lang, strip_length=args.strip_length) for lang in langs}

    shared_units = sorted({u for units in inventories.values() for u in units}) if pretrain \
        else load_inventory(MULTILINGUAL, strip_length=args.strip_length)
    shared = PhonemeTokenizer.from_units(shared_units, "+".join(langs) if pretrain else MULTILINGUAL)
    write_lang_dir(shared, data_dir / "lang_phone", config)

    target_rows: List[Transcript] = []
    for lang in langs:
        tokenizer = PhonemeTokenizer.from_units(inventories[lang], lang)
        rows = read_manifest(data_dir, lang, required=lang == args.lang)
        check_phones(rows, tokenizer, lang)
        write_lang_dir(tokenizer, data_dir / f"lang_phone_{lang}", config)
        if lang == args.lang:
            target_rows = rows

    texts = [row.text for row in target_rows]
    bpe_dir = data_dir / f"lang_bpe{args.bpe_size}_{args.lang}"
    write_lang_dir(BpeTokenizer.train(texts, args.bpe_size, bpe_dir), bpe_dir, config)
    write_lang_dir(CharTokenizer.from_texts(texts), data_dir / f"lang_char_{args.lang}", config)


if __name__ == "__main__":
    main()
