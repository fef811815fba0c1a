"""Cut manifests over the suite's real espeak-ng speech, plus deliberately broken audio."""
from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from lhotse import AudioSource, CutSet, MonoCut, Recording, SupervisionSegment


def speech_cut(wav: Path, lang: str, text: str) -> MonoCut:
    recording = Recording.from_file(wav, recording_id=f"{lang}-{wav.stem}")
    sup = SupervisionSegment(id=recording.id, recording_id=recording.id, start=0.0, duration=recording.duration,
                             text=text, language=lang)
    return MonoCut(id=recording.id, start=0.0, duration=recording.duration, channel=0, recording=recording,
                   supervisions=[sup])


def broken_cut(cut_id: str, path: Path) -> MonoCut:
    """A cut whose manifest looks fine but whose audio file is unreadable or absent."""
    recording = Recording(id=cut_id, sources=[AudioSource(type="file", channels=[0], source=str(path))],
                          sampling_rate=16000, num_samples=16000, duration=1.0)
    return MonoCut(id=cut_id, start=0.0, duration=1.0, channel=0, recording=recording)


@pytest.fixture(scope="session")
def speech_cuts(espeak_wavs) -> List[MonoCut]:
    return [speech_cut(wav, lang, text) for wav, lang, text in espeak_wavs]


@pytest.fixture()
def corrupt_wav(tmp_path) -> Path:
    path = tmp_path / "corrupt.wav"
    path.write_bytes(b"RIFF\x00\x10\x00\x00WAVEthis is not audio data at all" * 4)
    return path


@pytest.fixture()
def manifest_with_bad_audio(tmp_path, speech_cuts, corrupt_wav) -> Path:
    """Five good cuts, one corrupt file and one missing file, as a gzipped cut manifest."""
    cuts = list(speech_cuts) + [broken_cut("bad-corrupt", corrupt_wav),
                                broken_cut("bad-missing", tmp_path / "no_such_file.wav")]
    path = tmp_path / "cuts_test.jsonl.gz"
    CutSet.from_cuts(cuts).to_file(path)
    return path
