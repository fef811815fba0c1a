"""Spot-the-word (in the spirit of ZeroSpeech's sWUGGY) on synthetic speech: word / pseudo-word pairs and scores.

A pair is a real word of the training text and a pseudo-word made from it. sWUGGY's pseudo-words keep the word's
phonotactics and length; here, with espeak-ng as the only speaker, a pseudo-word must also be something espeak-ng
will say. So pseudo-words are made in spelling, where Polish is regular enough for espeak-ng's rules to read them:

1. candidates are every one-letter substitution of the word's spelling (the language's alphabet);
2. espeak-ng pronounces each candidate in isolation (as it pronounces the word, the same library the corpus used);
3. a candidate qualifies when its phonemes substitute 1..``max_changes`` of the word's, each a vowel for a vowel or
   a consonant for a consonant, so length and syllable structure stay (one letter may change two phonemes:
   ``wstępu`` -> ``wstętu`` is /mp/ -> /nt/, nasal assimilation), when it is not a real word
   (neither its spelling nor its phonemes are those of any word of the corpus text or the optional dictionary),
   and when every phoneme bigram of it, word boundaries included, occurs in some training word (same phonotactics);
4. one qualifying candidate is drawn per word with a seeded RNG; words are visited in a seeded random order until
   there are enough pairs.

Word and pseudo-word are then spoken by the same voice, one of the corpus's test speakers' (read from the corpus
plan), and written as mp3 like the corpus clips, so their audio went through the same channel as the test set.

The pairs TSV (:func:`write_pairs` / :func:`read_pairs`) has the columns of :data:`PAIR_COLUMNS`. Scoring a pair
(:func:`evaluate`) compares the unit LM's log-probabilities of the two cuts' unit sequences: sWUGGY's score is
the sum over the sequence (a correct pair when the word's is higher, a tie counts half); the per-unit mean is
reported beside it, since the two utterances' unit sequences need not have the same length.
"""
from __future__ import annotations

import csv
import dataclasses
import logging
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

import torch
from lhotse import CutSet, MonoCut, Recording, SupervisionSegment

from phonasr.data.synth.plan import PlannedClip, read_plan
from phonasr.data.synth.render import encode_mp3, espeak_wav
from phonasr.units.unit_lm import StoredUnitLm, score
from phonasr.utils.io import atomic_write_text, tsv_text

logger = logging.getLogger(__name__)

Phones = Tuple[str, ...]
#: a pronouncer: spellings -> their phonemes, None for a spelling it cannot pronounce as one word
Pronouncer = Callable[[Sequence[str]], List[Optional[Phones]]]
#: the word boundary in phoneme bigrams
BOUNDARY = "#"
#: first letters of IPA vowels: a phoneme starting with one is a syllable nucleus (nasal ɔ̃ and ɛ̃ included)
VOWELS = frozenset("aeiouyɛɔɨɪʊəɐæøœɒɑʌɯɤɘɵɞɜɶʉ")
PAIR_COLUMNS = ("pair_id", "word", "pseudo", "word_cut", "pseudo_cut", "word_phones", "pseudo_phones", "speaker")


def syllables(phones: Phones) -> int:
    return sum(map(is_vowel, phones))


def long_enough(phones: Phones) -> bool:
    """A word worth testing: two syllables or more, or at least four phonemes (short words are too easy to
    confuse with a neighbour's coarticulation and leave few pseudo-words)."""
    return syllables(phones) >= 2 or len(phones) >= 4


def phone_bigrams(phones: Phones) -> Set[Tuple[str, str]]:
    """The phoneme bigrams of a word, with the boundary before and after it."""
    padded = (BOUNDARY, *phones, BOUNDARY)
    return set(zip(padded, padded[1:]))


def is_vowel(phone: str) -> bool:
    return phone[0] in VOWELS


def substitutions(word: Phones, pseudo: Phones) -> Optional[int]:
    """How many phonemes ``pseudo`` substitutes in ``word``, or None when it is no substitution of the same
    syllable structure: another length, or a vowel where the word has a consonant or the other way round."""
    if len(word) != len(pseudo) or any(is_vowel(a) != is_vowel(b) for a, b in zip(word, pseudo)):
        return None
    return sum(a != b for a, b in zip(word, pseudo))


@dataclasses.dataclass(frozen=True)
class Lexicon:
    """What is real: spellings and pronunciations of real words, and the phoneme bigrams of the training words."""

    spellings: FrozenSet[str]
    pronunciations: FrozenSet[Phones]
    bigrams: FrozenSet[Tuple[str, str]]

    @classmethod
    def build(cls, training: Mapping[str, Phones], other: Mapping[str, Optional[Phones]]) -> Lexicon:
        """``training``: the training words' phonemes (their bigrams define the phonotactics); ``other``: further
        real words (the rest of the corpus text, a dictionary), with their phonemes where they have some."""
        pronunciations = {p for p in [*training.values(), *other.values()] if p is not None}
        return cls(frozenset(training) | frozenset(other), frozenset(pronunciations),
                   frozenset(b for p in training.values() for b in phone_bigrams(p)))

    def rejects(self, spelling: str, phones: Phones) -> Optional[str]:
        """Why a candidate is no pseudo-word (a real spelling or pronunciation, an unseen bigram), or None."""
        if spelling in self.spellings:
            return "real spelling"
        if phones in self.pronunciations:
            return "real pronunciation"
        if not phone_bigrams(phones) <= self.bigrams:
            return "unseen bigram"
        return None


def spelling_edits(word: str, letters: str) -> List[str]:
    """Every spelling with one letter of ``word`` replaced by another of ``letters``, in a fixed order."""
    return [word[:i] + c + word[i + 1:] for i in range(len(word)) for c in letters if c != word[i]]


def pseudo_candidates(word: str, phones: Phones, lexicon: Lexicon, letters: str, pronounce: Pronouncer,
                      max_changes: int = 2) -> List[Tuple[str, Phones]]:
    """Every spelling edit of ``word`` that qualifies as its pseudo-word (module docstring, steps 1-3), in order."""
    edits = [e for e in spelling_edits(word, letters) if e not in lexicon.spellings]
    qualifying = []
    for edit, pron in zip(edits, pronounce(edits)):
        if pron is None:
            continue
        changed = substitutions(phones, pron)
        if changed is not None and 1 <= changed <= max_changes and lexicon.rejects(edit, pron) is None:
            qualifying.append((edit, pron))
    return qualifying


@dataclasses.dataclass(frozen=True)
class Pair:
    pair_id: str
    word: str
    pseudo: str
    word_phones: Phones
    pseudo_phones: Phones
    speaker: str = ""                # the voice both are spoken with (variant:pitch:rate)

    @property
    def word_cut(self) -> str:
        return f"{self.pair_id}_word"

    @property
    def pseudo_cut(self) -> str:
        return f"{self.pair_id}_pseudo"


def make_pairs(candidates: Mapping[str, Phones], lexicon: Lexicon, letters: str, pronounce: Pronouncer,
               num_pairs: int, seed: int, max_changes: int = 2) -> List[Pair]:
    """Up to ``num_pairs`` pairs from the ``candidates`` words that are :func:`long_enough`, visited in a seeded
    random order (the same seed and inputs give the same pairs)."""
    rng = random.Random(seed)
    words = sorted(w for w, p in candidates.items() if long_enough(p))
    rng.shuffle(words)
    pairs: List[Pair] = []
    start = time.time()
    tried = 0
    for word in words:
        tried += 1
        qualifying = pseudo_candidates(word, candidates[word], lexicon, letters, pronounce, max_changes)
        if qualifying:
            pseudo, pseudo_phones = rng.choice(qualifying)
            pairs.append(Pair(f"pair{len(pairs) + 1:04d}", word, pseudo, candidates[word], pseudo_phones))
        if tried % 50 == 0:
            logger.info("%d words tried, %d pairs (%.1f words/s)", tried, len(pairs), tried / (time.time() - start))
        if len(pairs) == num_pairs:
            break
    logger.info("%d pairs from %d of %d eligible words", len(pairs), tried, len(words))
    return pairs


def espeak_pronouncer(voice: str, segment: Callable[[str], List[str]]) -> Pronouncer:
    """espeak-ng's phonemes of each spelling, in-process (:func:`phonasr.phonemes.espeak.espeak_ipa`), cut into
    inventory units by ``segment``; None for a spelling it reads as several words or with an unknown phoneme."""
    from phonasr.phonemes.espeak import espeak_ipa
    from phonasr.phonemes.segmenter import UnknownPhonemeError

    def pronounce(spellings: Sequence[str]) -> List[Optional[Phones]]:
        out: List[Optional[Phones]] = []
        for ipa in espeak_ipa(spellings, voice):
            try:
                out.append(tuple(segment(ipa)) if ipa.strip() and " " not in ipa.strip() else None)
            except UnknownPhonemeError:
                out.append(None)
        return out

    return pronounce


def pronounce_all(words: Iterable[str], pronounce: Pronouncer, chunk: int = 2000) -> Dict[str, Optional[Phones]]:
    """Phonemes of many words, in chunks (the pronouncer is batched)."""
    ordered = sorted(set(words))
    out: Dict[str, Optional[Phones]] = {}
    for first in range(0, len(ordered), chunk):
        part = ordered[first:first + chunk]
        out.update(zip(part, pronounce(part)))
    return out


# --------------------------------------------------------------------------------------------- the corpus
def read_sentences(tsv: Path) -> List[str]:
    """The ``sentence`` column of a CommonVoice-layout TSV."""
    with open(tsv, encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        if rows.fieldnames is None or "sentence" not in rows.fieldnames:
            raise ValueError(f"{tsv} has no 'sentence' column; pass a CommonVoice-layout corpus language dir")
        return [r["sentence"] for r in rows]


@dataclasses.dataclass(frozen=True)
class Voice:
    """An espeak-ng speaker of the synthetic corpus: voice variant, pitch and rate."""

    variant: str
    pitch: int
    rate: int

    @property
    def name(self) -> str:
        return f"{self.variant}:{self.pitch}:{self.rate}"

    @classmethod
    def parse(cls, text: str) -> Voice:
        try:
            variant, pitch, rate = text.split(":")
            return cls(variant, int(pitch), int(rate))
        except ValueError:
            raise ValueError(f"a voice is VARIANT:PITCH:RATE (e.g. m1:50:165), got {text!r}") from None


def corpus_test_voices(plan: Path) -> List[Voice]:
    """The test speakers' voices of a synthetic corpus, from its plan (sorted)."""
    if not plan.is_file():
        raise FileNotFoundError(f"{plan} does not exist: the corpus was not made by phonasr.bin.synth_corpus; "
                                "name the voices with --voices VARIANT:PITCH:RATE,...")
    voices = {Voice(c.variant, c.pitch, c.rate) for c in read_plan(plan) if c.split == "test"}
    if not voices:
        raise ValueError(f"{plan} plans no test clips; name the voices with --voices")
    return sorted(voices, key=lambda v: v.name)


def assign_voices(pairs: Sequence[Pair], voices: Sequence[Voice], seed: int) -> List[Pair]:
    """Deal the voices out to the pairs in turn, in a seeded order: each voice speaks about as many pairs, and a
    pair's word and pseudo-word share their voice (the LM then compares two utterances of one speaker)."""
    if not voices:
        raise ValueError("no voices to speak the pairs with")
    order = list(voices)
    random.Random(seed).shuffle(order)
    return [dataclasses.replace(p, speaker=order[i % len(order)].name) for i, p in enumerate(pairs)]


def synthesise(pairs: Sequence[Pair], voice_name: str, lang: str, out_dir: Path, sample_rate: int,
               mp3_quality: int = 5, batch_pairs: int = 10) -> CutSet:
    """Speak every pair's word and pseudo-word with its speaker into ``out_dir/clips/<cut>.mp3`` (one ffmpeg call
    per ``batch_pairs`` pairs: its start-up costs more than encoding a word) and return their cuts, ids = clip
    names. A clip appears under its name only when complete."""
    clips_dir = out_dir / "clips"
    clips_dir.mkdir(parents=True, exist_ok=True)
    cuts: List[MonoCut] = []
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="spot.", dir=out_dir) as tmp:
        for first in range(0, len(pairs), batch_pairs):
            clips = [(pair, cut_id, text, phones) for pair in pairs[first:first + batch_pairs]
                     for cut_id, text, phones in ((pair.word_cut, pair.word, pair.word_phones),
                                                  (pair.pseudo_cut, pair.pseudo, pair.pseudo_phones))]
            wavs = [Path(tmp) / f"{cut_id}.wav" for _, cut_id, _, _ in clips]
            for (pair, _, text, _), wav in zip(clips, wavs):
                voice = Voice.parse(pair.speaker)
                espeak_wav(PlannedClip(wav.name, "test", voice.name, voice.variant, voice.pitch, voice.rate, None,
                                       text), voice_name, wav)
            partial = [clips_dir / f".{cut_id}.partial.mp3" for _, cut_id, _, _ in clips]
            encode_mp3(wavs, partial, sample_rate, mp3_quality)
            for (pair, cut_id, text, phones), part in zip(clips, partial):
                mp3 = clips_dir / f"{cut_id}.mp3"
                os.replace(part, mp3)
                recording = Recording.from_file(mp3, recording_id=cut_id)
                supervision = SupervisionSegment(
                    id=cut_id, recording_id=cut_id, start=0.0, duration=recording.duration, channel=0, text=text,
                    language=lang, speaker=pair.speaker, custom={"phones": " ".join(phones), "pair_id": pair.pair_id})
                cuts.append(MonoCut(id=cut_id, start=0.0, duration=recording.duration, channel=0,
                                    recording=recording, supervisions=[supervision]))
            done = min(first + batch_pairs, len(pairs))
            logger.info("spoke %d/%d pairs (%.1f pairs/s)", done, len(pairs), done / (time.time() - start))
    return CutSet.from_cuts(cuts)


# --------------------------------------------------------------------------------------------- pair files
def write_pairs(path: Path, pairs: Sequence[Pair]) -> None:
    rows = [(p.pair_id, p.word, p.pseudo, p.word_cut, p.pseudo_cut, " ".join(p.word_phones),
             " ".join(p.pseudo_phones), p.speaker) for p in pairs]
    atomic_write_text(path, tsv_text([PAIR_COLUMNS, *rows]))


def read_pairs(path: Path) -> List[Pair]:
    """The pairs of a pairs TSV, checked: every row has the columns and names its own cuts."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"pairs file {path} does not exist; make it with steps/make_spot_the_word.sh")
    with open(path, encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        if tuple(rows.fieldnames or ()) != PAIR_COLUMNS:
            raise ValueError(f"{path}: columns {rows.fieldnames}, expected {list(PAIR_COLUMNS)}; pass a pairs.tsv "
                             "of phonasr.bin.make_spot_the_word")
        pairs = []
        for line, r in enumerate(rows, 2):
            pair = Pair(r["pair_id"], r["word"], r["pseudo"], tuple(r["word_phones"].split()),
                        tuple(r["pseudo_phones"].split()), r["speaker"])
            if (pair.word_cut, pair.pseudo_cut) != (r["word_cut"], r["pseudo_cut"]):
                raise ValueError(f"{path}:{line}: cuts {r['word_cut']}/{r['pseudo_cut']} are not those of pair "
                                 f"{pair.pair_id}; the file was edited by hand")
            pairs.append(pair)
    if not pairs:
        raise ValueError(f"{path} holds no pairs")
    return pairs


# --------------------------------------------------------------------------------------------- scoring
@dataclasses.dataclass(frozen=True)
class PairScore:
    """The LM's log-probabilities of a pair's two unit sequences and their lengths (predicted tokens)."""

    pair: Pair
    word_logprob: float
    pseudo_logprob: float
    word_tokens: int
    pseudo_tokens: int

    def credit(self, per_token: bool) -> float:
        """1 when the word scores higher, 0.5 for a tie, 0 otherwise; by the sum, or by the per-token mean."""
        word, pseudo = self.word_logprob, self.pseudo_logprob
        if per_token:
            word, pseudo = word / self.word_tokens, pseudo / self.pseudo_tokens
        return 1.0 if word > pseudo else 0.5 if word == pseudo else 0.0


def evaluate(lm: StoredUnitLm, units: Mapping[str, torch.Tensor], pairs: Sequence[Pair],
             where: str = "units") -> List[PairScore]:
    """Score every pair's two cuts; a cut missing from ``units`` is an error naming it."""
    missing = [c for p in pairs for c in (p.word_cut, p.pseudo_cut) if c not in units]
    if missing:
        raise ValueError(f"{where} lacks {len(missing)} cuts of the pairs (e.g. {missing[:3]}); compute the units "
                         "of the spot-the-word cuts")
    cut_ids = [c for p in pairs for c in (p.word_cut, p.pseudo_cut)]
    device = next(lm.model.parameters()).device
    logprobs, lengths = score(lm.model, [lm.prepare(units[c]) for c in cut_ids], device=device)
    return [PairScore(p, float(logprobs[2 * i]), float(logprobs[2 * i + 1]), int(lengths[2 * i]),
                      int(lengths[2 * i + 1])) for i, p in enumerate(pairs)]


def accuracy(scores: Iterable[PairScore], per_token: bool) -> float:
    """The share of pairs whose word the LM prefers, in percent (ties count half)."""
    credits = [s.credit(per_token) for s in scores]
    if not credits:
        raise ValueError("no pairs scored")
    return 100.0 * sum(credits) / len(credits)
