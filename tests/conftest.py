"""Fixtures shared by the whole suite: real espeak-ng speech and the repository root."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A few short Polish and Indonesian sentences: real speech from espeak-ng, as the brief asks of tests.
SENTENCES = {
    "pl": ["dzień dobry wszystkim", "to jest bardzo ładny dom", "w czwartek pójdziemy do kina"],
    "id": ["selamat pagi semua", "saya suka makan nasi goreng"],
}


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def espeak_wavs(tmp_path_factory) -> list[tuple[Path, str, str]]:
    """Real espeak-ng utterances as 16 kHz mono 16-bit WAV: a list of (path, lang, sentence)."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.fail("espeak-ng and sox are required; run `bash utils/install.sh` (installs them as root)")
    out = tmp_path_factory.mktemp("espeak")
    items = []
    for lang, sentences in SENTENCES.items():
        for i, text in enumerate(sentences):
            raw = out / f"{lang}_{i}.22k.wav"
            wav = out / f"{lang}_{i}.wav"
            subprocess.run(["espeak-ng", "-v", lang, "-w", str(raw), text], check=True)
            subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav)], check=True)
            items.append((wav, lang, text))
    return items
