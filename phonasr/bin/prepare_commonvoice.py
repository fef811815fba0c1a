"""Prepare one language of a CommonVoice release (real or synthetic) into lhotse manifests and cuts.

    python -m phonasr.bin.prepare_commonvoice CORPUS_DIR pl data/manifests/pl [--kaldi-dir data/kaldi/pl]

Writes cv-<lang>_{recordings,supervisions}_<split>.jsonl.gz (as lhotse's CommonVoice recipe does),
cuts_<split>.jsonl.gz (normalised text, speaker, and ground-truth phones when the release has phonemes.tsv),
rejects.tsv (every row left out, with file, line and reason), digits.tsv (every kept utterance whose transcript
has digits, which stay as they are: split, file, line, utterance id, text) and summary.json. All files are
written atomically. Exit status 1 only for unusable input (a missing folder or TSV, an unknown TSV layout).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from dataclasses import asdict
from pathlib import Path

from phonasr.data.commonvoice import (
    SPLITS,
    CommonVoiceLayoutError,
    PrepareOptions,
    SplitResult,
    digits_tsv,
    prepare_language,
)
from phonasr.data.rejects import RejectLog
from phonasr.utils.cli import str2bool
from phonasr.utils.io import atomic_path, atomic_write_text
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

logger = logging.getLogger("phonasr.prepare_commonvoice")


def write_manifests(out_dir: Path, lang: str, split: str, result: SplitResult) -> None:
    for name, manifest in ((f"cv-{lang}_recordings_{split}", result.recordings),
                           (f"cv-{lang}_supervisions_{split}", result.supervisions),
                           (f"cuts_{split}", result.cuts)):
        with atomic_path(out_dir / f"{name}.jsonl.gz") as tmp:
            manifest.to_file(tmp)


def export_kaldi(kaldi_dir: Path, split: str, result: SplitResult) -> None:
    """Kaldi data dir (wav.scp, segments, text, utt2spk, spk2utt ...) of the kept cuts, utterance ids prefixed by
    speaker (``<client_id>-<clip>``) so that utt2spk and spk2utt sort alike, as Kaldi tools require."""
    from lhotse.kaldi import export_to_kaldi

    recordings, supervisions, _ = result.cuts.decompose()
    with warnings.catch_warnings():  # lhotse warns about its own internal lambda, irrelevant for an export
        warnings.filterwarnings("ignore", message="A lambda was passed to LazyMapper")
        export_to_kaldi(recordings, supervisions, kaldi_dir / split, prefix_spk_id=True)
    write_spk2utt(kaldi_dir / split)


def write_spk2utt(data_dir: Path) -> None:
    """spk2utt from utt2spk, which lhotse's export leaves out: speakers in LC_ALL=C order, each speaker's
    utterances in utt2spk order (what utils/utt2spk_to_spk2utt.sh prints)."""
    by_speaker: dict[str, list[str]] = {}
    for line in (data_dir / "utt2spk").read_text(encoding="utf-8").splitlines():
        utt, speaker = line.split()
        by_speaker.setdefault(speaker, []).append(utt)
    atomic_write_text(data_dir / "spk2utt",
                      "".join(f"{spk} {' '.join(utts)}\n" for spk, utts in sorted(by_speaker.items())))


def summary(results: dict[str, SplitResult]) -> dict:
    return {split: {"rows": r.rows, "kept": len(r.cuts), "rejected": r.rejected, "hours": round(r.hours, 4),
                    "speakers": len(r.speakers), "with_digits": len(r.with_digits)} for split, r in results.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus_dir", type=Path, help="CommonVoice release root (<corpus_dir>/<lang>/train.tsv)")
    parser.add_argument("lang", help="language folder / code (pl, id, sv-SE ...)")
    parser.add_argument("out_dir", type=Path, help="output folder, e.g. data/manifests/pl")
    parser.add_argument("--splits", nargs="+", default=list(SPLITS))
    parser.add_argument("--min-duration", type=float, default=PrepareOptions.min_duration)
    parser.add_argument("--max-duration", type=float, default=PrepareOptions.max_duration)
    parser.add_argument("--check-audio", choices=("true", "false"), default="true",
                        help="decode every clip once to catch truncated files (default true)")
    parser.add_argument("--num-jobs", type=int, default=PrepareOptions.num_jobs, help="threads reading audio")
    parser.add_argument("--kaldi-dir", type=Path, help="also export Kaldi data dirs <kaldi-dir>/<split>")
    parser.add_argument("--strip-length", type=str2bool, default=PrepareOptions.strip_length,
                        help="true|false: drop length marks when segmenting the phonemes.tsv IPA of a synthetic "
                             "release; false needs inventories built with them (default: %(default)s)")
    args = parser.parse_args(argv)

    setup_logging(args.out_dir / "log" / "prepare.log")
    options = PrepareOptions(args.min_duration, args.max_duration, args.check_audio == "true", args.num_jobs,
                             args.strip_length)
    rejects = RejectLog()
    try:
        results = prepare_language(args.corpus_dir, args.lang, options, rejects, tuple(args.splits))
    except (CommonVoiceLayoutError, FileNotFoundError) as e:
        logger.error("%s", e)
        sys.exit(1)
    for split, result in results.items():
        write_manifests(args.out_dir, args.lang, split, result)
        if args.kaldi_dir is not None:
            export_kaldi(args.kaldi_dir, split, result)
    atomic_write_text(args.out_dir / "rejects.tsv", rejects.to_tsv())
    digits = [d for result in results.values() for d in result.with_digits]
    atomic_write_text(args.out_dir / "digits.tsv", digits_tsv(digits))
    atomic_write_text(args.out_dir / "summary.json", json.dumps(summary(results), indent=2) + "\n")
    write_run_info(args.out_dir, "prepare", {"corpus_dir": str(args.corpus_dir), "lang": args.lang,
                                             **asdict(options), "splits": args.splits})
    if rejects.items:
        logger.warning("%d rows rejected; first: %s (all in %s)", len(rejects.items), rejects.items[0],
                       args.out_dir / "rejects.tsv")
    if digits:
        logger.warning("%d kept transcripts have digits, left as they are; first: %s:%d: %s: %r (all in %s)",
                       len(digits), digits[0].file, digits[0].line, digits[0].utt_id, digits[0].text,
                       args.out_dir / "digits.tsv")


if __name__ == "__main__":
    main(sys.argv[1:])
