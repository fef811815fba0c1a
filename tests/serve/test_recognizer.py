"""serve.recognizer: CTC spans and word grouping, pause-based segmentation, chunked S2P that tiles the
recording exactly, and a 10-minute recording decoded in bounded pieces."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from phonasr.models.conformer import subsampled_lengths
from phonasr.serve.audio import read_audio
from phonasr.serve.model_dir import load_model_dir
from phonasr.serve.recognizer import load_recognizer, spans, split_points, word_groups
from phonasr.tokenizers import CharTokenizer

from .conftest import write_wav


def test_spans_merge_repeats_and_blanks_separate():
    assert spans([0, 3, 3, 0, 3, 5, 5, 0, 0, 2], offset=10) == [(3, 11, 12), (3, 14, 14), (5, 15, 16), (2, 19, 19)]
    assert spans([0, 0]) == []


def test_split_points_cut_long_sequences_in_the_longest_pause():
    best = np.array([1] * 30 + [0] * 12 + [2] * 30 + [0] * 3 + [1] * 25)
    segments = split_points(best, 60)
    assert segments[0][0] == 0 and segments[-1][1] == len(best)
    assert all(b - a <= 60 for a, b in segments) and all(x[1] == y[0] for x, y in zip(segments, segments[1:]))
    assert 30 <= segments[0][1] < 42  # inside the 12-frame pause
    assert split_points(np.ones(500, dtype=int), 100)[-1][1] == 500  # no pause at all: still bounded
    assert split_points(best, 1000) == [(0, len(best))]


def test_word_groups_follow_the_word_boundary_mark():
    chars = CharTokenizer.from_texts(["ab cd"])
    ids = chars.encode("ab cd")
    groups = word_groups(ids, chars)
    assert ["".join(chars.symbols[ids[i]] for i in g) for g in groups] == ["ab", "cd"]


def test_chunked_s2p_tiles_the_recording(toy_model, tmp_path):
    model_dir = load_model_dir(toy_model)
    whole = load_recognizer(model_dir)
    chunked = load_recognizer(model_dir, overrides={"chunk_seconds": 1.0, "context_seconds": 0.2})
    samples = read_audio(write_wav(tmp_path / "a.wav", 3.37), 16000)
    feats = whole.features([samples])
    expected_frames = int(subsampled_lengths(torch.tensor(feats[0].shape[0])))
    one, = whole.s2p_log_probs(feats)
    tiled, = chunked.s2p_log_probs(feats)
    assert one.shape == tiled.shape == (expected_frames, whole.s2p.outputs.vocab_size)
    # the first chunk's kept frames are those of the network run on the chunk and its right context
    first = chunked.chunk + chunked.context
    direct, _ = chunked.s2p.run(feats[0][None, :first], np.array([first]))
    keep = chunked.chunk // 4
    torch.testing.assert_close(tiled[:keep], direct[0, :keep])
    assert torch.allclose(torch.logsumexp(tiled, dim=-1), torch.zeros(expected_frames), atol=1e-4)
    # no chunking below one chunk plus its contexts: the recipe's whole-utterance decoding
    short = feats[0][: chunked.chunk + 2 * chunked.context]
    torch.testing.assert_close(chunked.s2p_log_probs([short])[0], whole.s2p_log_probs([short])[0])


@pytest.mark.slow
def test_a_ten_minute_recording_is_decoded_in_bounded_pieces(toy_model, tmp_path):
    """10 minutes at 8 kHz: resampled, 20 S2P chunks, P2G segments of at most 20 s, word times in order."""
    path = write_wav(tmp_path / "long.wav", 600.0, rate=8000)
    recognizer = load_recognizer(load_model_dir(toy_model), overrides={"decoder": "greedy"})
    start = time.time()
    transcript, = recognizer.recognize(["long"], [read_audio(path, 16000)])
    assert transcript.duration == pytest.approx(600.0)
    assert transcript.segments >= 30  # <= 20 s each
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts) and starts[0] >= 0 and transcript.words[-1].end <= 600.0 + 0.04
    assert time.time() - start < 120


def test_clips_shorter_than_the_front_end_decode_to_nothing(toy_model):
    recognizer = load_recognizer(load_model_dir(toy_model))
    clips = [np.full(n, 0.01, dtype=np.float32) for n in (1, 50, 400, 1000)]
    transcripts = recognizer.recognize(["a", "b", "c", "d"], clips)
    assert [t.name for t in transcripts] == ["a", "b", "c", "d"]
    assert all(t.text == "" and t.words == [] for t in transcripts[:3])  # under 7 fbank frames: no S2P output
