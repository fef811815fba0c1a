"""Word, character and phoneme error rates from kaldialign alignments.

Each utterance is aligned with ``kaldialign.align`` (Levenshtein, equal costs as in Kaldi's compute-wer); the
counts are read off the alignment so the per-utterance details and the totals can never disagree. References
without a hypothesis are scored against an empty hypothesis (all deletions) and listed, because dropping them
would flatter a decoder that fails on hard utterances.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import List, Mapping, Tuple

import kaldialign

METRICS = ("wer", "cer", "per")
EPS = "\x00"  # alignment gap; tokens come from text lines, which never hold NUL

Pair = Tuple[str, str]


def tokenize(text: str, metric: str) -> List[str]:
    """Units to score: words (WER), space-separated phoneme units (PER), code points without spaces (CER, NFC)."""
    if metric == "cer":
        return [c for c in unicodedata.normalize("NFC", text) if not c.isspace()]
    if metric in ("wer", "per"):
        return text.split()
    raise ValueError(f"unknown metric '{metric}'; choose one of {', '.join(METRICS)}")


@dataclass
class ErrorCounts:
    ref_len: int = 0
    ins: int = 0
    dels: int = 0
    subs: int = 0

    @property
    def errors(self) -> int:
        return self.ins + self.dels + self.subs

    @property
    def correct(self) -> int:
        return self.ref_len - self.dels - self.subs

    @property
    def rate(self) -> float:
        """Error rate in percent; errors against an empty reference are an infinite rate."""
        if self.ref_len == 0:
            return 0.0 if self.errors == 0 else float("inf")
        return 100.0 * self.errors / self.ref_len

    def __iadd__(self, other: ErrorCounts) -> ErrorCounts:
        self.ref_len += other.ref_len
        self.ins += other.ins
        self.dels += other.dels
        self.subs += other.subs
        return self

    def summary_line(self, metric: str) -> str:
        """Kaldi's compute-wer line, e.g. ``%WER 12.34 [ 123 / 1000, 10 ins, 20 del, 93 sub ]``."""
        return (f"%{metric.upper()} {self.rate:.2f} [ {self.errors} / {self.ref_len}, {self.ins} ins, "
                f"{self.dels} del, {self.subs} sub ]")


@dataclass
class UttAlignment:
    utt_id: str
    pairs: List[Pair]  # (ref, hyp) with EPS for a gap
    counts: ErrorCounts
    missing_hyp: bool = False


@dataclass
class CorpusScore:
    metric: str
    utts: List[UttAlignment] = field(default_factory=list)
    counts: ErrorCounts = field(default_factory=ErrorCounts)

    @property
    def missing(self) -> List[str]:
        return [u.utt_id for u in self.utts if u.missing_hyp]


def align_tokens(ref: List[str], hyp: List[str]) -> Tuple[List[Pair], ErrorCounts]:
    """Minimum-edit alignment of two token lists and its error counts."""
    pairs = kaldialign.align(ref, hyp, EPS)
    counts = ErrorCounts(ref_len=len(ref))
    for r, h in pairs:
        if r == EPS:
            counts.ins += 1
        elif h == EPS:
            counts.dels += 1
        elif r != h:
            counts.subs += 1
    return pairs, counts


def score_texts(refs: Mapping[str, str], hyps: Mapping[str, str], metric: str) -> CorpusScore:
    """Score every reference utterance (in reference order) against its hypothesis.

    Hypotheses whose id is not among the references are an error: they mean the two files belong to
    different test sets, and scoring them would be meaningless.
    """
    unknown = [utt for utt in hyps if utt not in refs]
    if unknown:
        shown = ", ".join(unknown[:10]) + (f" ... ({len(unknown)} in all)" if len(unknown) > 10 else "")
        raise ValueError(f"hypotheses for utterances that are not in the reference: {shown}; "
                         "check that the hypothesis file was decoded from this test set")
    score = CorpusScore(metric=metric)
    for utt_id, ref_text in refs.items():
        missing = utt_id not in hyps
        pairs, counts = align_tokens(tokenize(ref_text, metric), tokenize(hyps.get(utt_id, ""), metric))
        score.utts.append(UttAlignment(utt_id, pairs, counts, missing_hyp=missing))
        score.counts += counts
    if score.counts.ref_len == 0:
        raise ValueError(f"the references hold no units to score ({metric.upper()}): are they empty?")
    return score
