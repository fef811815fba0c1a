"""steps/make_pairs.sh, steps/decode_p2g.sh (+ steps/score.sh) and steps/g2p_nbest.sh as a recipe calls them."""
from __future__ import annotations

import os
import re
import subprocess

import pytest
from p2g_data import SENTENCES, UTTS, write_cuts, write_s2p_decode

from phonasr.decode.outputs import recorded_ref_field
from phonasr.scoring.texts import read_utt_texts

PHONES = dict(zip(UTTS, (p for _, p in SENTENCES)))


def _run(repo_root, *args):
    env = {**os.environ, "PYTHONPATH": str(repo_root)}
    return subprocess.run(["bash", *map(str, args)], cwd=repo_root, env=env, capture_output=True, text=True)


def test_missing_inputs_stop_the_scripts_with_their_names(repo_root, p2g_setup, tmp_path):
    (tmp_path / "exp_untrained").mkdir()
    cases = [
        (["steps/make_pairs.sh", tmp_path / "no_decode", p2g_setup["cuts"], tmp_path / "p.tsv"],
         "S2P decode dir .*no_decode does not exist"),
        (["steps/make_pairs.sh", tmp_path, tmp_path / "no_cuts.jsonl.gz", tmp_path / "p.tsv"],
         "cut manifest .*no_cuts.jsonl.gz does not exist"),
        (["steps/decode_p2g.sh", tmp_path / "exp_untrained", tmp_path, tmp_path / "out"],
         "checkpoint .*exp_untrained/final.pt does not exist"),
        (["steps/decode_p2g.sh", "--cuts", tmp_path / "c.jsonl.gz", p2g_setup["p2g"], tmp_path, tmp_path / "out"],
         "cut manifest .*c.jsonl.gz does not exist"),
        (["steps/g2p_nbest.sh", p2g_setup["g2p"], tmp_path / "t.txt", tmp_path / "l.tsv"], "--lang is required"),
        (["steps/g2p_nbest.sh", "--lang", "pl", p2g_setup["g2p"], tmp_path / "t.txt", tmp_path / "l.tsv"],
         "text file .*t.txt does not exist"),
    ]
    for args, message in cases:
        result = _run(repo_root, *args)
        assert result.returncode != 0
        assert re.search(message, result.stderr), (args, result.stderr)


@pytest.mark.slow
def test_pairs_decode_score_and_lda_through_the_scripts(repo_root, p2g_setup, tmp_path):
    s2p = write_s2p_decode(tmp_path / "decode_test", {u: [(-1.0, PHONES[u]), (-2.0, "a m a")] for u in UTTS})
    pairs = tmp_path / "pairs" / "aug.tsv"
    made = _run(repo_root, "steps/make_pairs.sh", "--nbest", "2", s2p, p2g_setup["cuts"], pairs)
    assert made.returncode == 0, made.stderr
    assert len(pairs.read_text().splitlines()) == 2 * len(UTTS)
    again = _run(repo_root, "steps/make_pairs.sh", "--nbest", "2", s2p, p2g_setup["cuts"], pairs)
    assert again.returncode == 0 and "already made; skipping" in again.stderr

    out = tmp_path / "exp" / "jsa" / "decode_test_p2g"
    decoded = _run(repo_root, "steps/decode_p2g.sh", "--cuts", p2g_setup["cuts"], "--nbest-in", "2",
                   p2g_setup["jsa"], s2p, out)
    assert decoded.returncode == 0, decoded.stderr
    assert (out / ".decode_p2g.done").is_file() and (out / "log" / "decode_p2g.log").is_file()
    scored = _run(repo_root, "steps/score.sh", "--metric", "wer", "--system", "jsa", "--test-set", "test",
                  "--results", tmp_path / "results.tsv", out / "ref.txt", out / "hyp.txt", out)
    assert scored.returncode == 0, scored.stderr
    assert (out / "summary-test-wer.txt").read_text().startswith("%WER")

    text = tmp_path / "text.txt"
    text.write_text("Ala ma kota.\nżaba\n", encoding="utf-8")
    lda = _run(repo_root, "steps/g2p_nbest.sh", "--lang", "pl", "--nbest", "2", p2g_setup["jsa"], text,
               tmp_path / "lda.tsv")
    assert lda.returncode == 0, lda.stderr
    assert [line.split("\t")[0] for line in (tmp_path / "lda.tsv").read_text().splitlines()] == ["lda-1-1", "lda-1-2"]
    assert "unknown_chars" in (tmp_path / "lda.rejects.tsv").read_text()


def test_oracle_decoding_feeds_the_p2g_the_true_phonemes(repo_root, p2g_setup, tmp_path):
    cuts = write_cuts(tmp_path / "cuts.jsonl.gz", [(u, t) for u, (t, _) in zip(UTTS, SENTENCES)], PHONES)
    oracle = tmp_path / "exp" / "oracle_phonemes" / "decode_test"
    made = _run(repo_root, "steps/oracle_decode.sh", cuts, oracle)
    assert made.returncode == 0, made.stderr
    assert read_utt_texts(oracle / "hyp.txt") == read_utt_texts(oracle / "ref.txt") == PHONES
    assert recorded_ref_field(oracle) == "phones"
    again = _run(repo_root, "steps/oracle_decode.sh", cuts, oracle)
    assert again.returncode == 0 and "skipping" in again.stderr

    # the P2G reads the oracle dir exactly as an S2P decoding that found the true phonemes
    s2p = write_s2p_decode(tmp_path / "decode_test", {u: [(0.0, PHONES[u])] for u in UTTS})
    outs = [tmp_path / "p2g_oracle", tmp_path / "p2g_s2p"]
    for decode_dir, out in zip((oracle, s2p), outs):
        decoded = _run(repo_root, "steps/decode_p2g.sh", "--cuts", cuts, p2g_setup["p2g"], decode_dir, out)
        assert decoded.returncode == 0, decoded.stderr
    assert (outs[0] / "nbest.txt").read_text() == (outs[1] / "nbest.txt").read_text()

    no_phones = write_cuts(tmp_path / "text_only.jsonl.gz", [(UTTS[0], SENTENCES[0][0])])
    failed = _run(repo_root, "steps/oracle_decode.sh", no_phones, tmp_path / "bad")
    assert failed.returncode != 0 and f"cut '{UTTS[0]}' has no supervision.custom['phones']" in failed.stderr
