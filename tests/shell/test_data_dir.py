"""utils/validate_data_dir.sh and utils/fix_data_dir.sh on small Kaldi data directories."""
from __future__ import annotations

from pathlib import Path

import pytest

UTILS = Path(__file__).resolve().parents[2] / "utils"

GOOD = {
    "wav.scp": "spkA-1 a1.wav\nspkA-2 sox a2.mp3 -t wav - |\nspkB-1 b1.wav\n",
    "text": "spkA-1 dzień dobry\nspkA-2 to jest dom\nspkB-1 selamat pagi\n",
    "utt2spk": "spkA-1 spkA\nspkA-2 spkA\nspkB-1 spkB\n",
    "spk2utt": "spkA spkA-1 spkA-2\nspkB spkB-1\n",
}


def make_dir(path: Path, files: dict) -> Path:
    path.mkdir()
    for name, text in files.items():
        (path / name).write_text(text)
    return path


@pytest.fixture
def validate(run_cmd, tmp_path):
    return lambda data, *opts: run_cmd(["bash", str(UTILS / "validate_data_dir.sh"), *opts, str(data)], cwd=tmp_path)


def test_valid_dir_passes(validate, tmp_path):
    proc = validate(make_dir(tmp_path / "d", GOOD))
    assert proc.returncode == 0, proc.stderr
    assert "valid data directory (3 utterances)" in proc.stderr


@pytest.mark.parametrize("name, text, message", [
    ("utt2spk", "spkA-2 spkA\nspkA-1 spkA\nspkB-1 spkB\n", "utt2spk line 2: key spkA-1 after spkA-2: not sorted"),
    ("text", "spkA-1 a\nspkA-1 b\nspkA-2 c\nspkB-1 d\n", "text line 2: key spkA-1 appears twice"),
    ("utt2spk", "spkA-1 spkA\nspkA-2 spkB\nspkB-1 spkB\n", "utt2spk line 2: speaker spkB is not a prefix of utterance"),
    ("utt2spk", "spkA-1 spkA x\nspkA-2 spkA\nspkB-1 spkB\n", "utt2spk line 1: has 3 fields, expected 2"),
    ("text", "spkA-1 dzień dobry\nspkB-1 selamat pagi\n", "utt2spk line 2: utterance spkA-2 is not in"),
    ("wav.scp", "spkA-1 a1.wav\nspkA-2 a2.wav\nspkB-1 b1.wav\nspkB-2 b2.wav\n", "wav.scp line 4: utterance spkB-2"),
    ("spk2utt", "spkA spkA-1\nspkB spkB-1\n", "spk2utt line 1: does not match utt2spk"),
    ("text", "spkA-1 a\r\nspkA-2 b\nspkB-1 c\n", "text line 1: has a carriage return"),
])
def test_problems_name_file_and_line(validate, tmp_path, name, text, message):
    data = make_dir(tmp_path / "d", {**GOOD, name: text})
    proc = validate(data)
    assert proc.returncode == 1
    assert f"validate_data_dir.sh: {data}/{message}" in proc.stderr


def test_segments_checked_against_wav_scp(validate, tmp_path):
    files = {**GOOD, "wav.scp": "recA a.wav\nrecB b.wav\n",
             "segments": "spkA-1 recA 0 1.5\nspkA-2 recA 1.5 3\nspkB-1 recC 0 2\n"}
    proc = validate(make_dir(tmp_path / "d", files))
    assert "segments line 3: recording recC is not in" in proc.stderr
    files["segments"] = "spkA-1 recA 0 1.5\nspkA-2 recA 3 1.5\nspkB-1 recB 0 2\n"
    proc = validate(make_dir(tmp_path / "e", files))
    assert "segments line 2: segment spkA-2 needs 0 <= start < end" in proc.stderr


def test_missing_text_allowed_only_with_no_text(validate, tmp_path):
    data = make_dir(tmp_path / "d", {k: v for k, v in GOOD.items() if k != "text"})
    assert "text is missing" in validate(data).stderr
    assert validate(data, "--no-text", "true").returncode == 0


def test_fix_sorts_drops_and_lists(run_cmd, tmp_path):
    data = make_dir(tmp_path / "d", {
        "wav.scp": "spkB-1 b1.wav\nspkA-1 a1.wav\nspkA-2 a2.wav\nspkC-1 c1.wav\n",
        "text": "spkA-2 to jest dom\nspkA-1 dzień dobry\nspkA-1 dzień dobry\nspkB-1 selamat pagi\n",
        "utt2spk": "spkB-1 spkB\nspkA-1 spkA\nspkA-2 spkA\nspkC-1 spkC\nspkD-1 spkD\n",
        "spk2gender": "spkA f\nspkB m\nspkC m\nspkD f\n",
    })
    proc = run_cmd(["bash", str(UTILS / "fix_data_dir.sh"), str(data)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"dropped 2 of 5 utterances of {data}" in proc.stderr
    assert (data / "utt2spk").read_text() == GOOD["utt2spk"]
    assert (data / "text").read_text() == GOOD["text"]
    assert (data / "wav.scp").read_text() == "spkA-1 a1.wav\nspkA-2 a2.wav\nspkB-1 b1.wav\n"
    assert (data / "spk2utt").read_text() == GOOD["spk2utt"]
    assert (data / "spk2gender").read_text() == "spkA f\nspkB m\n"
    assert (data / ".backup/dropped_utts").read_text() == (
        "spkC-1 missing from text\nspkD-1 missing from text wav.scp\n"
    )
    assert (data / ".backup/utt2spk").read_text().startswith("spkB-1 spkB\n")
    assert not list(data.glob(".fix.*"))


def test_fix_with_segments_drops_unused_recordings(run_cmd, tmp_path):
    data = make_dir(tmp_path / "d", {
        "wav.scp": "recA a.wav\nrecB b.wav\nrecC c.wav\n",
        "segments": "spkA-1 recA 0 1\nspkA-2 recA 1 2\nspkB-1 recX 0 1\n",
        "text": GOOD["text"], "utt2spk": GOOD["utt2spk"],
    })
    proc = run_cmd(["bash", str(UTILS / "fix_data_dir.sh"), str(data)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (data / "wav.scp").read_text() == "recA a.wav\n"
    assert (data / ".backup/dropped_utts").read_text() == "spkB-1 missing from segments\n"


def test_fix_refuses_conflicting_duplicates(run_cmd, tmp_path):
    data = make_dir(tmp_path / "d", {**GOOD, "text": "spkA-1 a\nspkA-1 b\nspkA-2 c\nspkB-1 d\n"})
    proc = run_cmd(["bash", str(UTILS / "fix_data_dir.sh"), str(data)], cwd=tmp_path)
    assert proc.returncode == 1
    assert f"{data}/text: key spkA-1 has two different lines" in proc.stderr
    assert (data / "text").read_text() == "spkA-1 a\nspkA-1 b\nspkA-2 c\nspkB-1 d\n"
