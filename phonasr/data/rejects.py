"""Everything preparation refuses, with where it came from: nothing is dropped without a trace.

Each rejected item names its split, the file and line it was read from, the utterance, a short reason code
(for counting) and a human-readable detail. The list is written as ``rejects.tsv`` next to the manifests.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import astuple, dataclass, fields
from pathlib import Path


@dataclass(frozen=True)
class Reject:
    split: str
    file: str
    line: int  # 1-based line in ``file`` (the header is line 1)
    utt_id: str
    reason: str  # short code: missing_clip, corrupt_clip, empty_sentence, foreign_chars, unknown_phoneme ...
    detail: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.utt_id}: {self.reason}: {self.detail}"


REJECT_COLUMNS = tuple(f.name for f in fields(Reject))


class RejectLog:
    """Collects rejects of all splits; counts them per split and reason; writes rejects.tsv."""

    def __init__(self) -> None:
        self.items: list[Reject] = []

    def add(self, split: str, file: Path | str, line: int, utt_id: str, reason: str, detail: str) -> None:
        self.items.append(Reject(split, str(file), line, utt_id, reason, " ".join(detail.split())))

    def count(self, split: str) -> int:
        return sum(1 for r in self.items if r.split == split)

    def reasons(self, split: str) -> Counter:
        return Counter(r.reason for r in self.items if r.split == split)

    def to_tsv(self) -> str:
        rows = [REJECT_COLUMNS, *(astuple(r) for r in self.items)]
        return "".join("\t".join(str(v).replace("\t", " ") for v in row) + "\n" for row in rows)
