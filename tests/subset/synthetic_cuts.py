"""In-memory lhotse cuts for the subset and lang-dir tests: real espeak-ng phonemes, made-up audio paths."""
from __future__ import annotations

from typing import List, Optional, Sequence

from lhotse import AudioSource, MonoCut, Recording, SupervisionSegment

from phonasr.phonemes import IpaSegmenter, espeak_ipa, load_inventory

POLISH_WORDS = ["dom", "kot", "dzień", "źdźbło", "ciężko", "szkoła", "rzeka", "chrząszcz", "fajny", "bank", "gęś",
                "dżem", "cześć", "jabłko", "woda", "ryba", "mama", "tata", "zima", "lato", "jesień", "wiosna",
                "góra", "pies", "koń", "niebo", "słońce", "księżyc", "ogień", "ziemia", "most", "droga"]


def polish_sentences(count: int) -> List[str]:
    """Deterministic three-word sentences from POLISH_WORDS."""
    n = len(POLISH_WORDS)
    return [" ".join(POLISH_WORDS[(a * k + b) % n] for a, b in ((1, 0), (3, 1), (7, 2))) for k in range(count)]


def make_cut(index: int, text: str, lang: str, phones: Optional[Sequence[str]] = None,
             seconds: Optional[float] = None) -> MonoCut:
    duration = seconds if seconds is not None else round(0.5 + 0.06 * len(text), 2)
    cut_id = f"utt{index:03d}"
    recording = Recording(id=cut_id, sources=[AudioSource(type="file", channels=[0], source=f"/none/{cut_id}.wav")],
                          sampling_rate=16000, num_samples=int(duration * 16000), duration=duration)
    custom = {"phones": " ".join(phones)} if phones is not None else None
    supervision = SupervisionSegment(id=cut_id, recording_id=cut_id, start=0.0, duration=duration, text=text,
                                     language=lang, speaker="spk1", custom=custom)
    return MonoCut(id=cut_id, start=0.0, duration=duration, channel=0, recording=recording,
                   supervisions=[supervision])


def polish_cuts(count: int, with_phones: bool = True) -> List[MonoCut]:
    sentences = polish_sentences(count)
    segmenter = IpaSegmenter(load_inventory("pl"))
    phones = [segmenter.segment(ipa) for ipa in espeak_ipa(sentences, "pl")]
    return [make_cut(i, s, "pl", p if with_phones else None) for i, (s, p) in enumerate(zip(sentences, phones))]
