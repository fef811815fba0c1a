"""Build a synthetic CommonVoice-layout corpus with espeak-ng, in three resumable steps.

    python -m phonasr.bin.synth_corpus plan     --config conf/synth.yaml CORPUS
    python -m phonasr.bin.synth_corpus render   --config conf/synth.yaml --job 1 --num-jobs 4 CORPUS
    python -m phonasr.bin.synth_corpus finalize --config conf/synth.yaml CORPUS

local/synth/make_corpus.sh runs them, the render jobs in parallel through $cmd (utils/run.pl, queue.pl ...).
``plan`` fixes every sentence, speaker and split from the seed; ``render`` writes clips and their IPA and
skips finished ones; ``finalize`` writes the CommonVoice TSVs and phonemes.tsv once every clip exists.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from phonasr.data.synth.config import SynthConfig, parse_config
from phonasr.data.synth.layout import LanguageLayout
from phonasr.data.synth.plan import plan_fingerprint, plan_language, write_plan
from phonasr.data.synth.speakers import OTHER_DOMAIN_SPLIT
from phonasr.utils.config import load_config
from phonasr.utils.logging import setup_logging

logger = logging.getLogger("phonasr.synth_corpus")


def cmd_plan(cfg: SynthConfig, root: Path, raw_config: dict) -> None:
    """Plan every language that has no plan yet; an existing plan made with other settings is an error."""
    # io and runinfo load torch: imported by the commands that need them, so render workers start fast
    from phonasr.utils.io import atomic_write_text
    from phonasr.utils.runinfo import write_run_info

    fingerprint = cfg.fingerprint()
    for lang_cfg in cfg.languages:
        layout = LanguageLayout(root, lang_cfg.code)
        existing = plan_fingerprint(layout.plan)
        if existing == fingerprint:
            logger.info("%s: plan exists (config %s), keeping it", lang_cfg.code, fingerprint)
            continue
        if existing is not None:
            raise SystemExit(f"{layout.plan} was planned with another config ({existing}, now {fingerprint}); "
                             f"use a new corpus dir or delete {layout.lang_dir} to rebuild it")
        clips, other_domain = plan_language(cfg, lang_cfg)
        if other_domain:
            atomic_write_text(layout.other_domain_text, "".join(s + "\n" for s in other_domain))
        write_plan(layout.plan, clips, fingerprint)
        write_run_info(layout.work_dir, "synth", raw_config, cfg.seed)
        minutes = sum(c.estimated_seconds() for c in clips) / 60
        spoken_other = sum(c.split == OTHER_DOMAIN_SPLIT for c in clips)
        logger.info("%s: planned %d clips (~%.1f min estimated; %d of them %s), %d held-out other-domain sentences",
                    lang_cfg.code, len(clips), minutes, spoken_other, OTHER_DOMAIN_SPLIT, len(other_domain))


def cmd_render(cfg: SynthConfig, root: Path, languages: list[str], job: int, num_jobs: int) -> None:
    """Render this job's share of every language (one job set for all languages: small ones share workers)."""
    from phonasr.data.synth.render import render_job

    if not 1 <= job <= num_jobs:
        raise SystemExit(f"--job must be in 1..{num_jobs}, got {job}")
    for lang in languages or [lang.code for lang in cfg.languages]:
        render_job(cfg, root, lang, job, num_jobs)


def cmd_finalize(cfg: SynthConfig, root: Path) -> None:
    from phonasr.data.synth.release import IncompleteCorpusError, write_release
    from phonasr.utils.io import atomic_write_text

    summary = {}
    try:
        for lang_cfg in cfg.languages:
            summary[lang_cfg.code] = write_release(root, lang_cfg.code)
    except IncompleteCorpusError as e:
        raise SystemExit(f"ERROR: {e}") from e
    for lang, stats in summary.items():
        atomic_write_text(LanguageLayout(root, lang).work_dir / "summary.json", json.dumps(stats, indent=2) + "\n")
    hours = sum(s["hours"] for stats in summary.values() for s in stats.values())
    logger.info("corpus %s: %d languages, %.2f h of speech", root, len(summary), hours)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("plan", "choose sentences, speakers and splits"),
                            ("render", "synthesise one job's share of the clips"),
                            ("finalize", "write the CommonVoice TSVs and phonemes.tsv")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--config", required=True, help="corpus YAML (egs/mini_pl/conf/synth.yaml)")
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config value")
        p.add_argument("corpus_dir", type=Path, help="corpus root (<corpus_dir>/<lang>/clips ...)")
        if name == "render":
            p.add_argument("--lang", action="append", default=[], help="only this language (repeatable)")
            p.add_argument("--job", type=int, required=True, help="1-based job index")
            p.add_argument("--num-jobs", type=int, required=True)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    setup_logging()
    raw = load_config(args.config, args.set)
    cfg = parse_config(raw)
    if args.command == "plan":
        cmd_plan(cfg, args.corpus_dir, raw)
    elif args.command == "render":
        cmd_render(cfg, args.corpus_dir, args.lang, args.job, args.num_jobs)
    else:
        cmd_finalize(cfg, args.corpus_dir)


if __name__ == "__main__":
    main(sys.argv[1:])
