"""The decode directory, written and read here only: what steps/decode_ctc.sh and steps/decode_p2g.sh leave behind.

    hyp.txt      utt<TAB>text                      the best hypothesis
    ref.txt      utt<TAB>text                      the reference
    nbest.txt    utt<TAB>rank<TAB>score<TAB>text    best first, rank from 1, the score a log-probability
    logprobs.pt  {id: (T', V) float32 log-posteriors}, on request (for WFST / MLS decoding)
    decode.config.yaml / decode.versions.json       the run info of a decode_ctc job (what ref.txt holds)

The text files are sorted by utterance (and rank, numerically), so a decoding split into jobs and merged
(:func:`merge_shards`) gives the files of one job. hyp.txt and ref.txt are the scoring tools' ``utt<TAB>text``
files (:func:`phonasr.scoring.texts.read_utt_texts`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import torch
import yaml

from phonasr.scoring.texts import read_utt_texts
from phonasr.utils.io import atomic_torch_save, atomic_write_text, load_checkpoint

logger = logging.getLogger(__name__)

HYP, REF, NBEST = "hyp.txt", "ref.txt", "nbest.txt"
TEXT_FILES = (HYP, REF, NBEST)
LOGPROBS = "logprobs.pt"
CTC_RUN_INFO = "decode"  # the run-info name of decode_ctc jobs: decode.config.yaml records their options


@dataclass(frozen=True)
class Scored:
    """One hypothesis of an n-best list and its log-probability."""

    text: str
    score: float


@dataclass(frozen=True)
class DecodedUtterance:
    """What a decoder writes for one utterance: its reference and n-best list (best first, at least one entry)."""

    utt: str
    ref: str
    nbest: Sequence[Scored]


@dataclass(frozen=True)
class NBestEntry:
    """One hypothesis of a decode dir (a line of hyp.txt or nbest.txt) and where it was read, for rejects and errors."""

    rank: int
    log_prob: Optional[float]  # the nbest.txt score; None when read from hyp.txt
    text: str                  # whitespace normalised
    file: str
    line: int


# ------------------------------------------------------------------------------------------------- writing
def write_decode_dir(out_dir: str | Path, utterances: Iterable[DecodedUtterance],
                     logprobs: Optional[Mapping[str, torch.Tensor]] = None) -> None:
    """hyp.txt, ref.txt and nbest.txt of ``utterances``, and logprobs.pt when ``logprobs`` is given."""
    hyp: List[str] = []
    ref: List[str] = []
    nbest: List[str] = []
    for u in utterances:
        hyp.append(f"{u.utt}\t{u.nbest[0].text}")
        ref.append(f"{u.utt}\t{u.ref}")
        nbest.extend(f"{u.utt}\t{rank}\t{s.score:.4f}\t{s.text}" for rank, s in enumerate(u.nbest, start=1))
    out_dir = Path(out_dir)
    _write_text_files(out_dir, {HYP: hyp, REF: ref, NBEST: nbest})
    if logprobs is not None:
        atomic_torch_save(dict(logprobs), out_dir / LOGPROBS)


def _utt(line: str) -> str:
    return line.split("\t", 1)[0]


def _utt_and_rank(line: str) -> Tuple[str, int]:
    fields = line.split("\t", 2)
    return fields[0], int(fields[1]) if len(fields) > 2 else 0


def _write_text_files(out_dir: Path, lines: Mapping[str, List[str]]) -> None:
    """The three text files, sorted by utterance (and n-best rank, numerically)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in TEXT_FILES:
        key = _utt_and_rank if name == NBEST else _utt
        atomic_write_text(out_dir / name, "".join(f"{line}\n" for line in sorted(lines[name], key=key)))


def merge_shards(shard_dirs: Sequence[str | Path], out_dir: str | Path, expected: Sequence[str], source: str) -> int:
    """Join the decode dirs of a split decoding into ``out_dir``; every utterance of ``expected`` (the ids of the
    manifest ``source``) must have been decoded exactly once. Returns the number of utterances."""
    merged: Dict[str, List[str]] = {name: [] for name in TEXT_FILES}
    for shard in shard_dirs:
        for name in TEXT_FILES:
            path = Path(shard) / name
            if not path.is_file():
                raise FileNotFoundError(f"{path} is missing: decoding job of {shard} did not finish; see its log")
            merged[name].extend(path.read_text(encoding="utf-8").splitlines())
    decoded = [_utt(line) for line in merged[HYP]]
    if sorted(decoded) != sorted(expected):
        missing = set(expected) - set(decoded)
        raise ValueError(f"the shards decoded {len(decoded)} utterances ({len(set(decoded))} distinct) but "
                         f"{source} has {len(expected)}; missing e.g. {sorted(missing)[:3]}; rerun the decoding")
    out_dir = Path(out_dir)
    _write_text_files(out_dir, merged)
    pieces = [Path(s) / LOGPROBS for s in shard_dirs if (Path(s) / LOGPROBS).is_file()]
    if pieces:
        saved: Dict[str, torch.Tensor] = {}
        for piece in pieces:
            saved.update(load_checkpoint(piece))
        atomic_torch_save(saved, out_dir / LOGPROBS)
    return len(decoded)


# ------------------------------------------------------------------------------------------------- reading
def read_references(decode_dir: str | Path) -> Dict[str, str]:
    """Utterance -> the text of ref.txt (what it holds: :func:`recorded_ref_field`)."""
    return read_utt_texts(Path(decode_dir) / REF)


def recorded_ref_field(decode_dir: str | Path) -> Optional[str]:
    """What a decode_ctc decoding put in ref.txt (``text`` or ``phones``), from the run info its jobs recorded;
    None when none did."""
    decode_dir = Path(decode_dir)
    fields = set()
    pattern = f"split*/*/{CTC_RUN_INFO}.config.yaml"
    for config in [decode_dir / f"{CTC_RUN_INFO}.config.yaml", *sorted(decode_dir.glob(pattern))]:
        if config.is_file():
            fields.add((yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("ref_field"))
    if len(fields) > 1:
        raise ValueError(f"the decoding jobs of {decode_dir} recorded different ref fields {sorted(map(str, fields))}")
    return fields.pop() if fields else None


def read_hypotheses(decode_dir: str | Path, nbest: int) -> Dict[str, List[NBestEntry]]:
    """Utterance -> its best ``nbest`` hypotheses, best first: hyp.txt for 1, nbest.txt otherwise.

    Malformed lines and repeated (utterance, rank) entries are errors naming the file and line: a decode dir
    edited by hand or merged twice must not feed training or scoring.
    """
    if nbest < 1:
        raise ValueError(f"the number of S2P hypotheses per utterance must be >= 1, got {nbest}")
    path = Path(decode_dir) / (HYP if nbest == 1 else NBEST)
    if not path.is_file():
        hint = "decode with steps/decode_ctc.sh" + ("" if nbest == 1 else f" --nbest {nbest} (or more)")
        raise FileNotFoundError(f"{path} does not exist; {hint}")
    hyps: Dict[str, List[NBestEntry]] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            utt, hyp = _parse_line(line, path, lineno, nbest == 1)
            entries = hyps.setdefault(utt, [])
            if any(h.rank == hyp.rank for h in entries):
                raise ValueError(f"{path}:{lineno}: utterance '{utt}' rank {hyp.rank} appears twice")
            entries.append(hyp)
    for entries in hyps.values():
        entries.sort(key=lambda h: h.rank)
        del entries[nbest:]
    most = max((len(entries) for entries in hyps.values()), default=0)
    if 0 < most < nbest:
        logger.warning("%s holds at most %d hypotheses per utterance, fewer than the %d asked for (decode with "
                       "--nbest %d for more)", path, most, nbest, nbest)
    return hyps


def _parse_line(line: str, path: Path, lineno: int, one_best: bool) -> Tuple[str, NBestEntry]:
    fields = line.split("\t")
    expected = 2 if one_best else 4
    if len(fields) != expected:
        layout = "utt<TAB>phones" if one_best else "utt<TAB>rank<TAB>log-prob<TAB>phones"
        raise ValueError(f"{path}:{lineno}: expected {layout} ({expected} fields), got {len(fields)}: {line[:100]!r}")
    utt = fields[0].strip()
    if not utt:
        raise ValueError(f"{path}:{lineno}: empty utterance id")
    if one_best:
        return utt, NBestEntry(1, None, " ".join(fields[1].split()), str(path), lineno)
    try:
        rank, log_prob = int(fields[1]), float(fields[2])
    except ValueError:
        raise ValueError(f"{path}:{lineno}: rank and log-prob must be numbers, got {fields[1]!r} and "
                         f"{fields[2]!r}") from None
    if rank < 1:
        raise ValueError(f"{path}:{lineno}: ranks start at 1, got {rank}")
    return utt, NBestEntry(rank, log_prob, " ".join(fields[3].split()), str(path), lineno)
