"""What ``phonasr transcribe`` reads: audio files named on the command line, a list of files, a Kaldi
``wav.scp`` or a lhotse manifest (cuts or recordings), each turned into named inputs.

Names: a file's name without its extension (the path as given when two files share a name), the first field
of a ``wav.scp`` line, a cut's or recording's id. A ``wav.scp`` entry that is a command (``... |``) is not run:
it becomes an input that fails with a message saying so, like a missing file, and the rest still decode.
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any, List, Optional, Sequence

import numpy as np

from phonasr.serve.audio import AudioInputError, prepare, read_audio


@dataclasses.dataclass
class AudioInput:
    """One thing to transcribe: its output name and where its audio comes from."""

    name: str
    source: str                   # the path (or manifest entry) for messages
    path: Optional[str] = None
    item: Any = None              # a lhotse Cut or Recording
    error: Optional[str] = None   # known to fail before reading (a wav.scp command)

    def load(self, sample_rate: int, channel: Optional[int] = None) -> np.ndarray:
        if self.error:
            raise AudioInputError(self.error)
        if self.item is not None:
            try:
                audio = self.item.load_audio()
            except Exception as e:  # lhotse's backends raise many types for one cause: unreadable audio
                raise AudioInputError(f"cannot load audio ({' '.join(str(e).split())[:200]})") from None
            audio = np.asarray(audio, dtype=np.float32)
            return prepare(audio.T if audio.ndim == 2 else audio, self.item.sampling_rate, sample_rate, channel)
        return read_audio(self.path, sample_rate, channel)


def from_paths(paths: Sequence[str]) -> List[AudioInput]:
    stems = Counter(Path(p).stem for p in paths)
    return [AudioInput(Path(p).stem if stems[Path(p).stem] == 1 else p, p, path=p) for p in paths]


def from_list(list_file: str) -> List[AudioInput]:
    """One path per line (the whole line: paths may hold spaces); blank lines and ``#`` comments skipped."""
    lines = Path(list_file).read_text(encoding="utf-8").splitlines()
    paths = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    base = Path(list_file).parent
    return from_paths([p if Path(p).is_absolute() or Path(p).exists() else str(base / p) for p in paths])


def from_wav_scp(scp: str) -> List[AudioInput]:
    """Kaldi ``wav.scp``: ``<utt-id> <path>`` per line (the path is the rest of the line)."""
    inputs = []
    for n, line in enumerate(Path(scp).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.strip().split(maxsplit=1)
        if len(fields) != 2:
            raise ValueError(f"{scp}:{n}: expected '<utt-id> <path>', got {line!r}")
        utt, path = fields
        if path.endswith("|"):
            inputs.append(AudioInput(utt, path, error="is a command (wav.scp pipe); phonasr transcribe reads "
                                                      "files only: write the audio to a file first"))
        else:
            inputs.append(AudioInput(utt, path, path=path))
    return inputs


def from_manifest(path: str) -> List[AudioInput]:
    """A lhotse cut or recording manifest (``.jsonl.gz``): one input per cut (or recording), by id."""
    from lhotse import CutSet, RecordingSet, load_manifest

    manifest = load_manifest(path)
    if isinstance(manifest, CutSet):
        return [AudioInput(c.id, f"{path}: cut {c.id}", item=c) for c in manifest]
    if isinstance(manifest, RecordingSet):
        return [AudioInput(r.id, f"{path}: recording {r.id}", item=r) for r in manifest]
    raise ValueError(f"{path} is a {type(manifest).__name__}; pass a cut or recording manifest")
