"""How fast the synthetic corpus builds: seconds of audio synthesised per second of wall-clock time.

    python bench/bench_corpus.py [--config egs/mini_pl/conf/synth.yaml] [--overlay egs/mini_pl/conf/quick.yaml]
                                 [--nj 2] [--minutes M]

Builds a corpus in a temporary folder: plan, then --nj render workers in parallel (forked processes, as
run.pl's jobs but without their interpreter start-up), then the release files; prints the audio produced and
the ratio audio seconds / wall seconds for rendering alone and for the whole build.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import multiprocessing
import tempfile
import time
from pathlib import Path

from phonasr.bin.synth_corpus import cmd_finalize, cmd_plan
from phonasr.data.synth.config import SynthConfig, parse_config
from phonasr.data.synth.layout import LanguageLayout
from phonasr.data.synth.render import render_job
from phonasr.utils.config import load_config
from phonasr.utils.logging import setup_logging

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("overlay_sets", ROOT / "utils" / "overlay_sets.py")
overlay_sets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(overlay_sets)


def render_all(args: tuple[SynthConfig, Path, int, int]) -> None:
    cfg, root, job, num_jobs = args
    for lang in cfg.languages:
        render_job(cfg, root, lang.code, job, num_jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=ROOT / "egs/mini_pl/conf/synth.yaml")
    parser.add_argument("--overlay", default=str(ROOT / "egs/mini_pl/conf/quick.yaml"),
                        help="config overlay whose section for the config applies ('' for none; default: the "
                             "quick corpus)")
    parser.add_argument("--nj", type=int, default=2)
    parser.add_argument("--minutes", type=float, help="minutes per language (default: the config's)")
    args = parser.parse_args()
    setup_logging(level=logging.WARNING)

    raw = load_config(args.config, overlay_sets.overlay_overrides(args.overlay, args.config.stem)
                      if args.overlay else ())
    if args.minutes is not None:
        for spec in raw["languages"].values():
            spec["minutes"] = args.minutes
    cfg = parse_config(raw)
    with tempfile.TemporaryDirectory(prefix="bench_corpus.") as tmp:
        root = Path(tmp) / "corpus"
        start = time.time()
        cmd_plan(cfg, root, raw)
        planned = time.time()
        with multiprocessing.get_context("fork").Pool(args.nj) as pool:
            pool.map(render_all, [(cfg, root, job, args.nj) for job in range(1, args.nj + 1)])
        rendered = time.time()
        cmd_finalize(cfg, root)
        finished = time.time()
        audio = sum(split["hours"] * 3600 for lang in cfg.languages
                    for split in json.loads((LanguageLayout(root, lang.code).work_dir / "summary.json")
                                            .read_text()).values())
        clips = sum(1 for _ in root.glob("*/clips/*.mp3"))
    print(f"config {args.config.name}: {len(cfg.languages)} languages, {clips} clips, {audio:.1f} s of audio, "
          f"{args.nj} jobs")
    print(f"plan {planned - start:.1f} s, render {rendered - planned:.1f} s, release {finished - rendered:.1f} s")
    print(f"render ratio (audio s / wall s): {audio / (rendered - planned):.1f}")
    print(f"whole build ratio (audio s / wall s): {audio / (finished - start):.1f}")


if __name__ == "__main__":
    main()
