"""Decide, before synthesising anything, every clip of a language: its sentence, speaker, split and noise.

Planning first makes the corpus deterministic (all random choices come from one seeded RNG per language, here)
and resumable (workers only render what the plan lists and skip what is already on disk). The plan is written
to ``<root>/<lang>/.synth/plan.tsv`` with the config's fingerprint, so a changed config is noticed instead of
mixing two corpora.
"""
from __future__ import annotations

import csv
import logging
import math
import random
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Callable, Optional

from phonasr.data.synth.config import LanguageConfig, SynthConfig
from phonasr.data.synth.sentences import SentencePool, speakable_sentences
from phonasr.data.synth.speakers import OTHER_DOMAIN_SPLIT, SPLITS, Speaker, assign_speakers, speaker_grid
from phonasr.text.normalise import normalise_text
from phonasr.text.sources import read_paragraphs, source_files
from phonasr.utils.io import tsv_text

logger = logging.getLogger(__name__)

# espeak-ng speaks about this many characters of text per second at rate 100 (measured on Polish and German
# sentences); only used to decide how many sentences fill the requested minutes.
CHARS_PER_SECOND_PER_100_WPM = 8.0
# Read sentences for this many times the needed amount before drawing, so the draw is not just the first files.
TEXT_MARGIN = 3.0


@dataclass(frozen=True)
class PlannedClip:
    path: str  # clip file name, CommonVoice style: common_voice_<lang>_<n>.mp3
    split: str
    client_id: str
    variant: str
    pitch: int
    rate: int
    snr_db: Optional[float]
    sentence: str

    @property
    def stem(self) -> str:
        return Path(self.path).stem

    def estimated_seconds(self) -> float:
        return len(self.sentence) / (CHARS_PER_SECOND_PER_100_WPM * self.rate / 100)


PLAN_COLUMNS = tuple(f.name for f in fields(PlannedClip))


def gather_sentences(specs: tuple[str, ...], lang: str, cfg: SynthConfig, rng: random.Random,
                     enough: Callable[[list[str]], bool], exclude: tuple[str, ...] = ()) -> list[str]:
    """Speakable sentences from the sources' files, read in a seeded random order until ``enough`` is true.

    Reading whole files in random order (rather than every file) keeps planning fast for big sources such as
    the German man pages, while still mixing many documents.
    """
    files = [(spec, path) for spec in specs for path in source_files(spec)]
    rng.shuffle(files)
    pool = SentencePool(lang, exclude)
    for spec, path in files:
        pool.add(speakable_sentences(read_paragraphs(spec, path), lang, cfg.min_words, cfg.max_words))
        if enough(pool.sentences):
            break
    rng.shuffle(pool.sentences)
    return pool.sentences


def plan_language(cfg: SynthConfig, lang_cfg: LanguageConfig) -> tuple[list[PlannedClip], list[str]]:
    """The clips of one language and its held-out other-domain (adaptation) sentences.

    With other-domain text, its first ``other_domain_test_sentences`` become the ``test_other`` split, spoken by the
    test speakers, and the next ``other_domain_sentences`` the adaptation text: one pool without repeats, so the
    other-domain test never shares a sentence with the adaptation text or with the in-domain splits.
    """
    lang = lang_cfg.code
    rng = random.Random(f"{cfg.seed}/{lang}")
    mean_rate = sum(cfg.speakers.rates) / len(cfg.speakers.rates)
    needed_chars = lang_cfg.minutes * 60 * CHARS_PER_SECOND_PER_100_WPM * mean_rate / 100 * TEXT_MARGIN
    limit = lang_cfg.max_unseen_words
    # a vocabulary limit keeps few of the sentences for dev/test: it reads every file of the sources
    sentences = gather_sentences(lang_cfg.text, lang, cfg, rng,
                                 lambda s: limit is None and sum(map(len, s)) >= needed_chars)
    speakers = assign_speakers(speaker_grid(lang, cfg.speakers, cfg.seed), cfg.speakers, rng)
    fractions = {"test": cfg.test_fraction, "dev": cfg.dev_fraction}
    fractions["train"] = 1 - cfg.test_fraction - cfg.dev_fraction
    clips: list[PlannedClip] = []
    pool = iter(sentences)
    # with a limit, train comes first: dev/test are then drawn from the rest, among sentences it covers
    order = ("test", "dev", "train") if limit is None else ("train", "test", "dev")
    for split in order:
        target = lang_cfg.minutes * 60 * fractions[split]
        split_clips = _fill_split(split, target, speakers[split], pool, rng, cfg, len(clips), lang)
        got = sum(c.estimated_seconds() for c in split_clips)
        if got < 0.9 * target:
            logger.warning("%s %s: text sources ran out: ~%.1f of %.1f minutes planned", lang, split, got / 60,
                           target / 60)
        clips += split_clips
        if split == "train" and limit is not None:  # train is done: filter the rest of the pool once, by its words
            seen = training_vocabulary(clips, lang)
            pool = (s for s in pool if unseen_words(s, lang, seen) <= limit)
    if not lang_cfg.other_domain_text:
        return clips, []
    n_test, n_text = cfg.other_domain_test_sentences, cfg.other_domain_sentences
    used = tuple(c.sentence for c in clips)
    other = gather_sentences(lang_cfg.other_domain_text, lang, cfg, rng, lambda s: len(s) >= n_test + n_text,
                             exclude=used)
    if len(other) < n_test + n_text:
        logger.warning("%s: other-domain text ran out: %d of %d test + %d adaptation sentences", lang, len(other),
                       n_test, n_text)
    # every sentence is spoken, so the split is filled by count (no speech target: the pool's end stops it)
    clips += _fill_split(OTHER_DOMAIN_SPLIT, math.inf, speakers["test"], iter(other[:n_test]), rng, cfg,
                         len(clips), lang)
    return clips, other[n_test:n_test + n_text]


def training_vocabulary(clips: list[PlannedClip], lang: str) -> set[str]:
    return {w for c in clips if c.split == "train" for w in normalise_text(c.sentence, lang).text.split()}


def unseen_words(sentence: str, lang: str, vocabulary: set[str]) -> int:
    """How many running words of ``sentence`` (normalised as the transcripts will be) ``vocabulary`` lacks."""
    return sum(w not in vocabulary for w in normalise_text(sentence, lang).text.split())


def _fill_split(split: str, target_seconds: float, speakers: list[Speaker], pool, rng: random.Random,
                cfg: SynthConfig, first_index: int, lang: str) -> list[PlannedClip]:
    """Take sentences from ``pool`` until the estimated speech reaches the target; speakers take turns."""
    clips: list[PlannedClip] = []
    seconds = 0.0
    while seconds < target_seconds:
        sentence = next(pool, None)
        if sentence is None:
            break
        speaker = speakers[len(clips) % len(speakers)]
        snr = None if cfg.noise_snr_db is None else round(rng.uniform(*cfg.noise_snr_db), 1)
        index = first_index + len(clips) + 1
        clip = PlannedClip(f"common_voice_{lang}_{index:08d}.mp3", split, speaker.client_id, speaker.variant,
                           speaker.pitch, speaker.rate, snr, sentence)
        clips.append(clip)
        seconds += clip.estimated_seconds()
    return clips


def write_plan(path: Path, clips: list[PlannedClip], fingerprint: str) -> None:
    from phonasr.utils.io import atomic_write_text  # imported here: it loads torch, which renderers do not need

    atomic_write_text(path, f"# config {fingerprint}\n" + tsv_text([PLAN_COLUMNS, *map(astuple, clips)]))


def plan_fingerprint(path: Path) -> Optional[str]:
    """The config fingerprint a plan was made with, or None when there is no plan."""
    if not path.is_file():
        return None
    with open(path, encoding="utf-8") as f:
        return f.readline().removeprefix("# config ").strip()


def read_plan(path: Path) -> list[PlannedClip]:
    with open(path, encoding="utf-8", newline="") as f:
        f.readline()
        rows = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [PlannedClip(path=r["path"], split=r["split"], client_id=r["client_id"], variant=r["variant"],
                            pitch=int(r["pitch"]), rate=int(r["rate"]),
                            snr_db=float(r["snr_db"]) if r["snr_db"] else None, sentence=r["sentence"])
                for r in rows]


def clips_by_split(clips: list[PlannedClip]) -> dict[str, list[PlannedClip]]:
    """Clips per split: CommonVoice's three always (a split may be empty), ``test_other`` only when planned."""
    by_split: dict[str, list[PlannedClip]] = {split: [] for split in SPLITS}
    for clip in clips:
        by_split.setdefault(clip.split, []).append(clip)
    return by_split
