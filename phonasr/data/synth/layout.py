"""Where the synthetic corpus keeps its files: the CommonVoice release layout plus a hidden work folder.

    <root>/<lang>/clips/*.mp3, train.tsv dev.tsv test.tsv validated.tsv   (CommonVoice release)
    <root>/<lang>/phonemes.tsv, text_other_domain.txt, test_other.tsv      (synthetic extras)
    <root>/<lang>/.synth/plan.tsv, done.<job>.tsv, log/                    (build state, resumable)

The work folder lives inside each language folder, so the corpus root holds nothing but language folders.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LanguageLayout:
    root: Path
    lang: str

    @property
    def lang_dir(self) -> Path:
        return self.root / self.lang

    @property
    def clips_dir(self) -> Path:
        return self.lang_dir / "clips"

    @property
    def work_dir(self) -> Path:
        return self.lang_dir / ".synth"

    @property
    def plan(self) -> Path:
        return self.work_dir / "plan.tsv"

    def done_records(self, job: int) -> Path:
        return self.work_dir / f"done.{job}.tsv"

    def all_done_records(self) -> list[Path]:
        return sorted(self.work_dir.glob("done.*.tsv"))

    def split_tsv(self, split: str) -> Path:
        return self.lang_dir / f"{split}.tsv"

    @property
    def phonemes(self) -> Path:
        return self.lang_dir / "phonemes.tsv"

    @property
    def other_domain_text(self) -> Path:
        return self.lang_dir / "text_other_domain.txt"
