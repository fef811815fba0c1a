"""``phonasr transcribe --decoder lm``: words equal to kaldi-decoder's 1-best through the packed graph on the same
S2P log-posteriors, word frames from the path, and one-line errors for an altered or a missing graph."""
from __future__ import annotations

import json
import shutil

import pytest

from phonasr.decode.wfst import WfstAlignment, WfstHypothesis, WfstOptions, one_best
from phonasr.serve.audio import read_audio
from phonasr.serve.lm_decoder import word_frames
from phonasr.serve.model_dir import load_model_dir
from phonasr.serve.recognizer import load_recognizer, split_points
from phonasr.wfst.fsts import WordTable
from phonasr.wfst.graph import load_graph

from .conftest import LM_WEIGHT, PHONES, WORDS, write_wav
from .test_transcribe_cli import in_process


def test_lm_words_are_the_graph_1best_of_the_s2p_posteriors(lm_model, tmp_path):
    model_dir = load_model_dir(lm_model)
    recognizer = load_recognizer(model_dir, overrides={"decoder": "lm"})
    samples = read_audio(write_wav(tmp_path / "a.wav", 3.0), 16000)
    transcript, = recognizer.recognize(["a"], [samples])
    lp, = recognizer.s2p_log_probs(recognizer.features([samples]))
    graph, table = load_graph(lm_model / "graph"), WordTable.read(lm_model / "graph/words.txt")
    expected, graph_cost, acoustic_cost = [], 0.0, 0.0
    for a, b in split_points(lp.argmax(dim=-1).numpy(), recognizer.segment):
        best = one_best(graph, lp[a:b], WfstOptions(lm_weight=LM_WEIGHT))
        assert best is not None
        expected += [table.symbols[w] for w in best.words]
        graph_cost, acoustic_cost = graph_cost + best.graph_cost, acoustic_cost + best.acoustic_cost
    assert expected, "the toy S2P should emit enough phonemes for words"
    assert transcript.text.split() == expected and set(expected) <= set(WORDS)
    assert transcript.graph_cost == pytest.approx(graph_cost) and transcript.acoustic_cost == pytest.approx(
        acoustic_cost)
    assert transcript.phonemes and set(transcript.phonemes.split()) <= set(PHONES)
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts) and all(0 <= w.start < w.end <= 3.04 for w in transcript.words)


def test_word_frames_give_each_word_the_phonemes_up_to_its_label():
    hyp = WfstHypothesis((1, 2, 3), 0.0, 0.0)
    # frames: a a _ b _ c _ d d _ e ; labels on frames 3 (word 1 ends on b), 5 (word 2 is c), 7 (word 3 is d e)
    alignment = WfstAlignment(hyp, (1, 1, 0, 2, 0, 3, 0, 4, 4, 0, 5), (3, 5, 7))
    spans = [(1, 0, 1), (2, 3, 3), (3, 5, 5), (4, 7, 8), (5, 10, 10)]
    assert word_frames(alignment, spans) == [(0, 3), (5, 5), (7, 10)]
    assert word_frames(WfstAlignment(WfstHypothesis((1,), 0.0, 0.0), (0, 0), (1,)), []) == [(1, 1)]


def test_transcribe_lm_json_and_ctm(lm_model, tmp_path, capsys):
    wav = write_wav(tmp_path / "a.wav", 3.0)
    status, out, err = in_process(capsys, "--decoder", "lm", "--output-format", "json", str(lm_model), str(wav))
    assert status == 0, err
    record = json.loads(out)
    assert set(record["scores"]) == {"graph", "acoustic"} and record["text"]
    assert record["text"] == " ".join(w["word"] for w in record["words"])
    status, ctm, _ = in_process(capsys, "--decoder", "lm", "--lm-weight", str(LM_WEIGHT), "--lm-beam", "20",
                                "--output-format", "ctm", str(lm_model), str(wav))
    assert status == 0 and [line.split()[4] for line in ctm.splitlines()] == record["text"].split()


def test_altered_or_missing_graph_is_one_line(lm_model, toy_model, tmp_path, capsys):
    wav = write_wav(tmp_path / "a.wav", 1.0)
    copy = tmp_path / "model"
    shutil.copytree(lm_model, copy)
    with open(copy / "graph/HLG.fst", "ab") as f:
        f.write(b"\0")
    status, _, err = in_process(capsys, "--decoder", "lm", str(copy), str(wav))
    assert status == 2 and "file 'graph/HLG.fst' was altered" in err and len(err.strip().splitlines()) == 1, err
    status, _, err = in_process(capsys, "--decoder", "lm", str(toy_model), str(wav))
    assert status == 2 and "has no decoding graph" in err and "--graph" in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    status, _, err = in_process(capsys, "--decoder", "lm", "--lm-weight", "0", str(lm_model), str(wav))
    assert status == 2 and "positive LM weight" in err and len(err.strip().splitlines()) == 1, err
    status, _, err = in_process(capsys, "--decoder", "mls", str(lm_model), str(wav))
    assert status == 2 and "not built" in err
