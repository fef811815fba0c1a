"""Prepare one language of a CommonVoice release (real or synthetic) as lhotse manifests and cuts.

Outputs, in ``data/manifests/<lang>/``:

* ``cv-<lang>_{recordings,supervisions}_<split>.jsonl.gz`` -- what ``lhotse.recipes.prepare_commonvoice``
  writes (same ids, fields and raw sentence), for every clip that could be read;
* ``cuts_<split>.jsonl.gz`` -- one supervision per cut, text normalised, ``custom["phones"]`` the segmented
  ground-truth phonemes when the release has ``phonemes.tsv`` (synthetic corpora);
* ``rejects.tsv`` -- every row that did not make it into the cuts, with file, line and reason;
* ``digits.tsv`` -- every kept utterance whose transcript has digits, with file and line: numbers are left as
  they are (no per-language verbaliser), so this is the list to fix or filter by hand.

Why not call lhotse's recipe: it drops rows whose clip is missing after a log line only, and one unreadable
clip stops the whole language. Here bad input never stops preparation and never disappears: rows in = kept +
rejected, per split. The one fatal error is a TSV without the columns every CommonVoice release has.
"""
from __future__ import annotations

import csv
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Iterator, Optional

from lhotse import CutSet, MonoCut, Recording, RecordingSet, SupervisionSegment, SupervisionSet

from phonasr.data.rejects import RejectLog
from phonasr.phonemes import IpaSegmenter, UnknownPhonemeError
from phonasr.phonemes.ipa import STRIP_LENGTH
from phonasr.text.normalise import normalise_text
from phonasr.utils.io import tsv_text

logger = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")
REQUIRED_COLUMNS = ("client_id", "path", "sentence")
# Present in most releases; lhotse copies them into the supervisions. Missing ones become "".
OPTIONAL_COLUMNS = ("age", "gender", "accents", "variant")


class CommonVoiceLayoutError(ValueError):
    """A TSV that is not laid out like a CommonVoice release (fatal: nothing sensible can be read from it)."""


@dataclass(frozen=True)
class TsvRow:
    line: int
    fields: dict[str, str]

    @property
    def utt_id(self) -> str:
        return Path(self.fields["path"]).stem


@dataclass(frozen=True)
class PrepareOptions:
    min_duration: float = 0.5
    max_duration: float = 20.0
    check_audio: bool = True  # decode every clip once (catches truncated mp3s whose header looks fine)
    num_jobs: int = 2
    strip_length: bool = STRIP_LENGTH  # how phonemes.tsv IPA is segmented (phonasr.phonemes.ipa says why)


@dataclass(frozen=True)
class DigitTranscript:
    """A kept utterance whose transcript has digits; they are left as they are, and listed in digits.tsv."""

    split: str
    file: str
    line: int  # 1-based line of the row in ``file`` (the header is line 1)
    utt_id: str
    text: str  # the normalised transcript, as the cut carries it


DIGIT_COLUMNS = tuple(f.name for f in fields(DigitTranscript))


def digits_tsv(digits: list[DigitTranscript]) -> str:
    """digits.tsv: a header, then one row per utterance with digits."""
    return tsv_text([DIGIT_COLUMNS, *(astuple(d) for d in digits)])


@dataclass
class SplitResult:
    """A split's manifests and counts; ``rows`` = ``len(cuts)`` + rejected."""

    recordings: RecordingSet
    supervisions: SupervisionSet
    cuts: CutSet
    rows: int
    rejected: int
    hours: float
    speakers: set[str]
    with_digits: list[DigitTranscript]  # kept cuts whose text has digits (left as they are; reported)


def read_release_tsv(path: Path, split: str, rejects: RejectLog) -> Iterator[TsvRow]:
    """Rows of a CommonVoice TSV by header name; rows with a wrong number of fields are rejected."""
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)  # CommonVoice has unbalanced quotes
        header = next(reader, [])
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise CommonVoiceLayoutError(
                f"{path}: unknown TSV layout, missing column(s) {missing} (header: {header}); expected a "
                f"CommonVoice release TSV with at least {list(REQUIRED_COLUMNS)}")
        for line, values in enumerate(reader, start=2):
            if len(values) != len(header):
                utt = Path(values[header.index("path")]).stem if len(values) > header.index("path") else "?"
                rejects.add(split, path, line, utt, "malformed_row",
                            f"{len(values)} fields, the header has {len(header)}")
                continue
            yield TsvRow(line, dict(zip(header, values)))


def read_phonemes_tsv(path: Path) -> dict[str, tuple[int, str]]:
    """Ground-truth IPA of a synthetic release: clip path -> (line, ipa)."""
    table: dict[str, tuple[int, str]] = {}
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header[:2] != ["path", "ipa"]:
            raise CommonVoiceLayoutError(f"{path}: expected the header 'path<TAB>ipa', got {header}")
        for line, text in enumerate(f, start=2):
            clip, _, ipa = text.rstrip("\n").partition("\t")
            table[clip] = (line, ipa)
    return table


def load_recording(clip: Path, check_audio: bool) -> Recording:
    recording = Recording.from_file(clip, recording_id=clip.stem)
    if check_audio:
        recording.load_audio()  # raises when the decoded length disagrees with the header (truncated files)
    return recording


class PhonemeLabeller:
    """Turns a release's phonemes.tsv entries into inventory units (space-separated) or a reject reason."""

    def __init__(self, phonemes_tsv: Path, lang: str, strip_length: bool = STRIP_LENGTH) -> None:
        self.path = phonemes_tsv
        self.table = read_phonemes_tsv(phonemes_tsv)
        self.segmenter = IpaSegmenter.for_language(lang, strip_length)

    def label(self, clip_path: str) -> tuple[Optional[str], int, str]:
        """(units or None, line of phonemes.tsv, reason of failure)."""
        if clip_path not in self.table:
            return None, 0, "no ground-truth phonemes for this clip"
        line, ipa = self.table[clip_path]
        try:
            units = self.segmenter.segment(ipa)
        except UnknownPhonemeError as e:
            return None, line, str(e)
        if not units:
            return None, line, "empty phoneme sequence"
        return " ".join(units), line, ""


def prepare_split(lang_dir: Path, lang: str, split: str, rejects: RejectLog, options: PrepareOptions,
                  labeller: Optional[PhonemeLabeller]) -> SplitResult:
    tsv = lang_dir / f"{split}.tsv"
    rows = list(read_release_tsv(tsv, split, rejects))
    rows_in = len(rows) + rejects.count(split)  # + the malformed rows just rejected
    rows = _drop_duplicates(rows, tsv, split, rejects)
    recordings = _load_recordings(rows, lang_dir / "clips", tsv, split, rejects, options)
    loaded = [row for row in rows if row.utt_id in recordings]
    cuts = []
    digits = []
    for row in loaded:
        recording = recordings[row.utt_id]
        supervision = _cut_supervision(row, recording, lang, options, labeller)
        if isinstance(supervision, Problem):
            file, line = (supervision.file, supervision.line) if supervision.file else (tsv, row.line)
            rejects.add(split, file, line, row.utt_id, supervision.reason, supervision.detail)
            continue
        cuts.append(MonoCut(id=row.utt_id, start=0.0, duration=recording.duration, channel=0,
                            recording=recording, supervisions=[supervision]))
        if any(ch.isdigit() for ch in supervision.text):
            digits.append(DigitTranscript(split, str(tsv), row.line, row.utt_id, supervision.text))
    return SplitResult(
        recordings=RecordingSet.from_recordings(recordings[row.utt_id] for row in loaded),
        supervisions=SupervisionSet.from_segments(_lhotse_supervision(row, recordings[row.utt_id], lang)
                                                  for row in loaded),
        cuts=CutSet.from_cuts(cuts), rows=rows_in, rejected=rejects.count(split),
        hours=sum(c.duration for c in cuts) / 3600, speakers={c.supervisions[0].speaker for c in cuts},
        with_digits=digits)


def _drop_duplicates(rows: list[TsvRow], tsv: Path, split: str, rejects: RejectLog) -> list[TsvRow]:
    first_line: dict[str, int] = {}
    unique = []
    for row in rows:
        if row.utt_id in first_line:
            rejects.add(split, tsv, row.line, row.utt_id, "duplicate",
                        f"clip {row.fields['path']} already listed on line {first_line[row.utt_id]}")
            continue
        first_line[row.utt_id] = row.line
        unique.append(row)
    return unique


def _load_recordings(rows: list[TsvRow], clips_dir: Path, tsv: Path, split: str, rejects: RejectLog,
                     options: PrepareOptions) -> dict[str, Recording]:
    """Read every clip's header (and decode it with check_audio) in threads; failures become rejects."""

    def load(row: TsvRow) -> tuple[TsvRow, Optional[Recording], str, str]:
        clip = clips_dir / row.fields["path"]
        if not row.fields["path"] or not clip.is_file():
            return row, None, "missing_clip", f"no audio file {clip}"
        try:
            return row, load_recording(clip, options.check_audio), "", ""
        except Exception as e:  # any decoder error means the clip is unusable; keep going with the others
            return row, None, "corrupt_clip", f"{clip}: {type(e).__name__}: {str(e).splitlines()[0][:300]}"

    recordings: dict[str, Recording] = {}
    with ThreadPoolExecutor(max(1, options.num_jobs)) as pool:
        for row, recording, reason, detail in pool.map(load, rows):
            if recording is None:
                rejects.add(split, tsv, row.line, row.utt_id, reason, detail)
            else:
                recordings[row.utt_id] = recording
    return recordings


def _lhotse_supervision(row: TsvRow, recording: Recording, lang: str) -> SupervisionSegment:
    """The supervision lhotse's CommonVoice recipe would write for this row (raw sentence, CV metadata)."""
    extra = {c: row.fields.get(c, "") for c in OPTIONAL_COLUMNS}
    return SupervisionSegment(id=row.utt_id, recording_id=row.utt_id, start=0.0, duration=recording.duration,
                              channel=0, language=lang, speaker=row.fields["client_id"],
                              text=row.fields["sentence"].strip(), gender=extra.pop("gender"), custom=extra)


@dataclass(frozen=True)
class Problem:
    """Why a row cannot become a cut; ``file``/``line`` are set when the problem is in another file (phonemes.tsv)."""

    reason: str
    detail: str
    file: Optional[Path] = None
    line: int = 0


def _cut_supervision(row: TsvRow, recording: Recording, lang: str, options: PrepareOptions,
                     labeller: Optional[PhonemeLabeller]) -> SupervisionSegment | Problem:
    """The cut's supervision (normalised text, phones) or the first problem that rules the row out."""
    sentence = row.fields["sentence"].strip()
    norm = normalise_text(sentence, lang)
    if norm.foreign_chars:
        return Problem("foreign_chars",
                       f"characters outside the {lang} alphabet {norm.foreign_chars!r} in {sentence!r}")
    if not norm.text:
        return Problem("empty_sentence", f"no words in the sentence {sentence!r}")
    if not options.min_duration <= recording.duration <= options.max_duration:
        return Problem("duration",
                       f"{recording.duration:.2f} s is outside [{options.min_duration}, {options.max_duration}] s")
    custom = {"raw_text": sentence}
    if labeller is not None:
        units, line, problem = labeller.label(row.fields["path"])
        if units is None:
            return Problem("phonemes", problem, labeller.path, line)
        custom["phones"] = units
    return SupervisionSegment(id=row.utt_id, recording_id=row.utt_id, start=0.0, duration=recording.duration,
                              channel=0, text=norm.text, language=lang, speaker=row.fields["client_id"],
                              gender=row.fields.get("gender", ""), custom=custom)


def check_layout(lang_dir: Path, splits: tuple[str, ...]) -> None:
    """Fail before any work when a split TSV is missing or not laid out like CommonVoice."""
    if not lang_dir.is_dir():
        raise FileNotFoundError(f"{lang_dir} does not exist: expected a CommonVoice release language folder")
    for split in splits:
        tsv = lang_dir / f"{split}.tsv"
        if not tsv.is_file():
            raise FileNotFoundError(f"{tsv} does not exist: prepare only the splits the release has (--splits; a "
                                    f"recipe's test_sets), a CommonVoice release has {list(SPLITS)}")
        next(read_release_tsv(tsv, split, RejectLog()), None)


def speaker_overlap(results: dict[str, SplitResult]) -> dict[str, int]:
    """Speakers shared by two splits ("train/test": n) where one is train or dev; CommonVoice keeps them apart, so
    this should be empty. Two test sets may share speakers (a synthetic test_other is spoken by the test speakers)."""
    names = sorted(results)
    return {f"{a}/{b}": len(results[a].speakers & results[b].speakers)
            for i, a in enumerate(names) for b in names[i + 1:]
            if {a, b} & {"train", "dev"} and results[a].speakers & results[b].speakers}


def prepare_language(corpus_dir: Path, lang: str, options: PrepareOptions, rejects: RejectLog,
                     splits: tuple[str, ...] = SPLITS) -> dict[str, SplitResult]:
    """Prepare every split of ``<corpus_dir>/<lang>``; rejected rows are added to ``rejects``."""
    lang_dir = corpus_dir / lang
    check_layout(lang_dir, splits)
    phonemes_tsv = lang_dir / "phonemes.tsv"
    labeller = PhonemeLabeller(phonemes_tsv, lang, options.strip_length) if phonemes_tsv.is_file() else None
    results = {}
    for split in splits:
        result = prepare_split(lang_dir, lang, split, rejects, options, labeller)
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(rejects.reasons(split).items())) or "none"
        logger.info("%s %s: %d rows in = %d kept + %d rejected (%s); %.2f h, %d speakers, %d transcripts with "
                    "digits (kept as they are)", lang, split, result.rows, len(result.cuts), result.rejected,
                    reasons, result.hours, len(result.speakers), len(result.with_digits))
        results[split] = result
    overlap = speaker_overlap(results)
    if overlap:
        logger.warning("%s: speakers shared between splits: %s", lang, overlap)
    return results
