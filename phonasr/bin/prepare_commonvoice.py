"""Prepare one language of a CommonVoice release (real or synthetic) into lhotse manifests and cuts.

    python -m phonasr.bin.prepare_commonvoice CORPUS_DIR pl data/manifests/pl [--kaldi-dir data/kaldi/pl]

Writes cv-<lang>_{recordings,supervisions}_<split>.jsonl.gz (as lhotse's CommonVoice recipe does),
cuts_<split>.jsonl.gz (normalised text, speaker, and ground-truth phones when the release has phonemes.tsv),
rejects.tsv (every row left out, with file, line and reason) and summary.json. All files are written
atomically. Exit status 1 only for unusable input (a missing folder or TSV, an unknown TSV layout).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from dataclasses import asdict
from pathlib import Path

from phonasr.data.commonvoice import SPLITS, CommonVoiceLayoutError, PrepareOptions, SplitResult, prepare_language
from phonasr.data.rejects import RejectLog
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
    """Kaldi data dir (wav.scp, text, utt2spk, segments ...) of the kept cuts, utterance ids prefixed by speaker."""
    from lhotse.kaldi import export_to_kaldi

    recordings, supervisions, _ = result.cuts.decompose()
    with warnings.catch_warnings():  # lhotse warns about its own internal lambda, irrelevant for an export
        warnings.filterwarnings("ignore", message="A lambda was passed to LazyMapper")
        export_to_kaldi(recordings, supervisions, kaldi_dir / split, prefix_spk_id=True)


def summary(results: dict[str, SplitResult]) -> dict:
    return {split: {"rows": r.rows, "kept": len(r.cuts), "rejected": r.rejected, "hours": round(r.hours, 4),
                    "speakers": len(r.speakers), "with_digits": r.with_digits} for split, r in results.items()}


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
    args = parser.parse_args(argv)

    setup_logging(args.out_dir / "log" / "prepare.log")
    options = PrepareOptions(args.min_duration, args.max_duration, args.check_audio == "true", args.num_jobs)
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
    atomic_write_text(args.out_dir / "summary.json", json.dumps(summary(results), indent=2) + "\n")
    write_run_info(args.out_dir, "prepare", {"corpus_dir": str(args.corpus_dir), "lang": args.lang,
                                             **asdict(options), "splits": args.splits})
    if rejects.items:
        logger.warning("%d rows rejected; first: %s (all in %s)", len(rejects.items), rejects.items[0],
                       args.out_dir / "rejects.tsv")


if __name__ == "__main__":
    main(sys.argv[1:])
