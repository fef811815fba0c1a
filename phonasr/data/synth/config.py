"""The synthetic corpus's settings, read from YAML (egs/mini_pl/conf/synth.yaml) and checked before any work.

A typo in a corpus config would otherwise surface as a half-built corpus minutes later, so every key is
validated here and unknown keys are errors.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping, Optional

from phonasr.phonemes.espeak import default_voice
from phonasr.text.normalise import alphabet


@dataclass(frozen=True)
class LanguageConfig:
    """One language of the corpus: its espeak-ng voice (default: the language's, e.g. ``sv`` for ``sv-SE``), how
    much speech, and where its sentences come from."""

    code: str
    voice: str
    minutes: float
    text: tuple[str, ...]  # text sources ("fortune:pl", "man:pl", "gettext:id", "wordlist:pl", "file:/x.txt")
    other_domain_text: tuple[str, ...] = ()  # held-out text of another domain (never synthesised)
    # dev/test sentences with at most this many words that no training sentence has (None: any sentence). A
    # corpus like CommonVoice, where most test words occur in the training transcripts, rather than a random
    # draw from a small text source, where 40% of the test words would be unseen.
    max_unseen_words: Optional[int] = None


@dataclass(frozen=True)
class SpeakerConfig:
    """espeak-ng voice variants x pitches x speaking rates: each combination is one synthetic speaker."""

    variants: tuple[str, ...] = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")
    pitches: tuple[int, ...] = (35, 50, 65)
    rates: tuple[int, ...] = (145, 165, 185)
    dev_speakers: int = 3
    test_speakers: int = 3


@dataclass(frozen=True)
class SynthConfig:
    languages: tuple[LanguageConfig, ...]
    speakers: SpeakerConfig = field(default_factory=SpeakerConfig)
    seed: int = 1234
    sample_rate: int = 48000
    mp3_quality: int = 5  # libmp3lame VBR quality (-q:a): 0 best .. 9 smallest
    batch_size: int = 20  # clips encoded per ffmpeg call (its start-up dominates short clips)
    min_words: int = 3
    max_words: int = 15
    dev_fraction: float = 0.1
    test_fraction: float = 0.1
    noise_snr_db: Optional[tuple[float, float]] = None  # white noise at an SNR drawn from [lo, hi]; None: clean
    other_domain_sentences: int = 500  # adaptation text (text_other_domain.txt), never synthesised
    other_domain_test_sentences: int = 0  # further held-out sentences spoken by the test speakers (test_other.tsv)

    def language(self, code: str) -> LanguageConfig:
        for lang in self.languages:
            if lang.code == code:
                return lang
        raise KeyError(f"language '{code}' is not in the corpus config (has: {[x.code for x in self.languages]})")

    def fingerprint(self) -> str:
        """A short hash of every setting: a corpus planned with other settings must not be resumed."""
        blob = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _check_keys(section: str, given: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise ValueError(f"synth config: unknown key(s) {unknown} in {section}; allowed: {sorted(allowed)}")


def _names(cls: type) -> set[str]:
    return {f.name for f in fields(cls)}


def _optional_count(value: Any, name: str) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"synth config: {name} must be a whole number >= 0 or null, got {value!r}")
    return value


def parse_config(raw: Mapping[str, Any]) -> SynthConfig:
    """Build a :class:`SynthConfig` from a YAML mapping, with clear errors for anything wrong."""
    _check_keys("the top level", raw, _names(SynthConfig))
    if not raw.get("languages"):
        raise ValueError("synth config: 'languages' must list at least one language")
    languages = []
    for code, spec in raw["languages"].items():
        spec = dict(spec or {})
        _check_keys(f"languages.{code}", spec, _names(LanguageConfig) - {"code"})
        if alphabet(code) is None:
            raise ValueError(f"synth config: no alphabet for language '{code}' in phonasr.text.normalise.ALPHABETS")
        if not spec.get("text"):
            raise ValueError(f"synth config: languages.{code}.text must list at least one text source")
        languages.append(LanguageConfig(
            code=code,
            voice=str(spec.get("voice", default_voice(code))),
            minutes=float(spec.get("minutes", 10)),
            text=tuple(spec["text"]),
            other_domain_text=tuple(spec.get("other_domain_text") or ()),
            max_unseen_words=_optional_count(spec.get("max_unseen_words"), f"languages.{code}.max_unseen_words"),
        ))
    speakers_raw = dict(raw.get("speakers") or {})
    _check_keys("speakers", speakers_raw, _names(SpeakerConfig))
    speakers = SpeakerConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in speakers_raw.items()})
    grid = len(speakers.variants) * len(speakers.pitches) * len(speakers.rates)
    if grid < speakers.dev_speakers + speakers.test_speakers + 1:
        raise ValueError(f"synth config: {grid} speakers cannot give {speakers.dev_speakers} dev + "
                         f"{speakers.test_speakers} test speakers and still leave train speakers")
    scalars = {k: v for k, v in raw.items() if k not in ("languages", "speakers")}
    if scalars.get("noise_snr_db") is not None:
        lo, hi = scalars["noise_snr_db"]
        scalars["noise_snr_db"] = (float(lo), float(hi))
    cfg = SynthConfig(languages=tuple(languages), speakers=speakers, **scalars)
    if not 0 <= cfg.dev_fraction + cfg.test_fraction < 1:
        raise ValueError("synth config: dev_fraction + test_fraction must be in [0, 1)")
    if cfg.other_domain_sentences < 0 or cfg.other_domain_test_sentences < 0:
        raise ValueError("synth config: other_domain_sentences and other_domain_test_sentences must be >= 0")
    if not 1 <= cfg.min_words <= cfg.max_words:
        raise ValueError("synth config: need 1 <= min_words <= max_words")
    return cfg
