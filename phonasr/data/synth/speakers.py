"""Synthetic speakers: an espeak-ng voice variant at one pitch and one speaking rate.

Each speaker gets a CommonVoice-looking ``client_id`` (128 hex digits, a hash of the language, the voice
settings and the corpus seed), and every speaker belongs to exactly one split, as CommonVoice keeps its
train/dev/test speakers apart.
"""
from __future__ import annotations

import hashlib
import itertools
import random
from dataclasses import dataclass

from phonasr.data.synth.config import SpeakerConfig

SPLITS = ("train", "dev", "test")  # CommonVoice's; every language has them
# Held-out sentences of the other text domain, spoken by the test speakers (so speaker and domain are not
# confounded); only languages with other-domain text have it. CommonVoice has no such split.
OTHER_DOMAIN_SPLIT = "test_other"


@dataclass(frozen=True)
class Speaker:
    variant: str  # espeak-ng voice variant (m3, f2, ...)
    pitch: int  # espeak-ng -p (0-99)
    rate: int  # espeak-ng -s (words per minute)
    client_id: str


def gender_of(variant: str) -> str:
    """CommonVoice's gender column from an espeak-ng variant's name (m*/f*); empty for others (croak, klatt...)."""
    return {"m": "male", "f": "female"}.get(variant[:1], "")


def client_id(lang: str, variant: str, pitch: int, rate: int, seed: int) -> str:
    return hashlib.sha512(f"phonasr-synth|{seed}|{lang}|{variant}|{pitch}|{rate}".encode()).hexdigest()


def speaker_grid(lang: str, cfg: SpeakerConfig, seed: int) -> list[Speaker]:
    return [Speaker(v, p, r, client_id(lang, v, p, r, seed))
            for v, p, r in itertools.product(cfg.variants, cfg.pitches, cfg.rates)]


def assign_speakers(speakers: list[Speaker], cfg: SpeakerConfig, rng: random.Random) -> dict[str, list[Speaker]]:
    """Shuffle the grid and deal it out: the first speakers to test, the next to dev, the rest to train."""
    shuffled = list(speakers)
    rng.shuffle(shuffled)
    n_test, n_dev = cfg.test_speakers, cfg.dev_speakers
    return {
        "test": shuffled[:n_test],
        "dev": shuffled[n_test:n_test + n_dev],
        "train": shuffled[n_test + n_dev:],
    }
