"""serve.audio / serve.inputs: any rate and channel count in, the model's mono samples out; unreadable inputs
fail one by one with a reason."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from phonasr.serve.audio import AudioInputError, read_audio, resample
from phonasr.serve.inputs import from_list, from_paths, from_wav_scp

from .conftest import write_wav


def test_resampling_keeps_duration_and_pitch():
    rate, tone = 8000, 440.0
    t = np.arange(rate) / rate
    up = resample(np.sin(2 * np.pi * tone * t).astype(np.float32), rate, 16000)
    assert len(up) == 16000 and up.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(up))
    assert abs(np.argmax(spectrum) * 16000 / len(up) - tone) < 2
    assert len(resample(np.zeros(44100, np.float32), 44100, 16000)) == 16000


def test_stereo_8k_is_mixed_and_resampled(tmp_path):
    path = write_wav(tmp_path / "stereo.wav", 1.0, rate=8000, channels=2)
    mono = read_audio(path, 16000)
    assert mono.ndim == 1 and len(mono) == 16000
    left = read_audio(path, 16000, channel=0)
    assert np.abs(left).max() > np.abs(mono).max()  # channel 1 is quieter, so the mean is below channel 0
    with pytest.raises(AudioInputError, match="has 2 channel"):
        read_audio(path, 16000, channel=2)


def test_bad_files_give_one_line_reasons(tmp_path):
    empty = tmp_path / "empty.wav"
    sf.write(str(empty), np.zeros((0, 1), np.float32), 16000)
    with pytest.raises(AudioInputError, match="holds no samples"):
        read_audio(empty, 16000)
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n")
    with pytest.raises(AudioInputError, match="cannot decode audio") as e:
        read_audio(text, 16000)
    assert "\n" not in str(e.value)
    with pytest.raises(AudioInputError, match="does not exist"):
        read_audio(tmp_path / "nope.wav", 16000)


def test_names_lists_and_wav_scp(tmp_path):
    odd = write_wav(tmp_path / "mój katalog/nagranie ąę 1.flac", 0.5)
    assert len(read_audio(odd, 16000)) == 8000
    items = from_paths([str(odd), str(tmp_path / "a/x.wav"), str(tmp_path / "b/x.wav")])
    assert [i.name for i in items] == ["nagranie ąę 1", str(tmp_path / "a/x.wav"), str(tmp_path / "b/x.wav")]
    listing = tmp_path / "list.txt"
    listing.write_text(f"# audio\n{odd}\n\nmój katalog/nagranie ąę 1.flac\n", encoding="utf-8")
    assert [i.path for i in from_list(str(listing))] == [str(odd)] * 2
    scp = tmp_path / "wav.scp"
    scp.write_text(f"utt1 {odd}\nutt2 sox x.wav -t wav - |\n", encoding="utf-8")
    one, two = from_wav_scp(str(scp))
    assert (one.name, one.path) == ("utt1", str(odd)) and len(one.load(16000)) == 8000
    with pytest.raises(AudioInputError, match="is a command"):
        two.load(16000)


def test_a_lhotse_manifest_is_read_by_id(tmp_path):
    from lhotse import Recording, RecordingSet

    from phonasr.serve.inputs import from_manifest

    wav = write_wav(tmp_path / "r.wav", 0.75, rate=8000, channels=2)
    manifest = tmp_path / "recordings.jsonl.gz"
    RecordingSet.from_recordings([Recording.from_file(wav, recording_id="rec-1")]).to_file(manifest)
    item, = from_manifest(str(manifest))
    assert item.name == "rec-1" and len(item.load(16000)) == 12000
