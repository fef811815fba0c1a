"""`phonasr transcribe` (python -m phonasr.command transcribe): outputs in input order, bad inputs reported one
line each while the rest finish, the exit status counting them, and user errors as one line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Tuple

import numpy as np
import pytest
import soundfile as sf

from phonasr.bin.transcribe import main

from .conftest import write_wav

ROOT = Path(__file__).resolve().parents[2]


def transcribe(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "phonasr.command", "transcribe", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=300)


def test_good_and_bad_inputs_in_one_batch(toy_model, tmp_path):
    good = write_wav(tmp_path / "good.wav", 2.0)
    stereo = write_wav(tmp_path / "stereo 8k.wav", 1.5, rate=8000, channels=2)
    odd = write_wav(tmp_path / "katalog ze spacją/żółć ąę.wav", 1.0, seed=3)
    empty = tmp_path / "empty.wav"
    sf.write(str(empty), np.zeros((0, 1), np.float32), 16000)
    text = tmp_path / "notes.wav"
    text.write_text("not audio\n")
    run = transcribe(str(toy_model), str(good), str(text), str(stereo), str(empty), str(odd),
                     str(tmp_path / "missing.wav"))
    assert run.returncode == 3, run.stderr
    names = [line.split("\t")[0] for line in run.stdout.splitlines()]
    assert names == ["good", "stereo 8k", "żółć ąę"]
    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 3 and "Traceback" not in run.stderr
    assert any(e.startswith("error: notes (") and "cannot decode audio" in e for e in errors)
    assert any(e.startswith("error: empty (") and "holds no samples" in e for e in errors)
    assert any(e.startswith("error: missing (") and "does not exist" in e for e in errors)


def in_process(capsys, *args: str) -> Tuple[int, str, str]:
    """The worker run in this process (no interpreter start): (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def test_json_and_ctm(toy_model, tmp_path, capsys):
    wav = write_wav(tmp_path / "a.wav", 3.0)
    status, out, err = in_process(capsys, "--output-format", "json", "--decoder", "greedy", str(toy_model), str(wav))
    assert status == 0, err
    record = json.loads(out)
    assert set(record) == {"name", "text", "phonemes", "words", "scores", "duration", "segments"}
    assert record["text"] == " ".join(w["word"] for w in record["words"])
    assert all(0 <= w["start"] <= w["end"] <= 3.0 + 0.04 for w in record["words"])
    assert set(record["scores"]) == {"s2p", "p2g"} and record["duration"] == 3.0
    ctm = tmp_path / "out.ctm"
    status, out, _ = in_process(capsys, "--output-format", "ctm", "--decoder", "greedy", "--output", str(ctm),
                                str(toy_model), str(wav))
    assert status == 0 and out == ""
    lines = [line.split() for line in ctm.read_text().splitlines()]
    assert [line[4] for line in lines] == [w["word"] for w in record["words"]]
    assert all(line[:2] == ["a", "1"] and float(line[3]) >= 0 for line in lines)


def test_user_errors_are_one_line(toy_model, tmp_path, capsys):
    wav = write_wav(tmp_path / "a.wav", 1.0)
    for args, message in [(["--decoder", "lm", str(toy_model), str(wav)], "pack it with --graph"),
                          ([str(tmp_path), str(wav)], "has no model.yaml"),
                          (["--backend", "onnx", str(toy_model), str(wav)], "phonasr export-onnx"),
                          ([str(toy_model)], "no input")]:
        status, _, err = in_process(capsys, *args)
        assert status == 2, (args, err)
        assert message in err and "Traceback" not in err, err
