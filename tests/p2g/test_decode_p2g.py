"""decode_p2g: S2P phonemes -> P2G words, from a token-task P2G and from a JSA checkpoint."""
from __future__ import annotations

import math

import pytest
import torch
from p2g_data import SENTENCES, UTTS, write_s2p_decode

from phonasr.bin import decode_p2g
from phonasr.ctc import prefix_beam_search
from phonasr.decode.tokens import load_token_model
from phonasr.scoring.texts import read_utt_texts
from phonasr.utils.io import load_checkpoint

TEXT = dict(zip(UTTS, (t for t, _ in SENTENCES)))
PHONES = dict(zip(UTTS, (p for _, p in SENTENCES)))


def _nbest(path):
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def s2p_dir(tmp_path):
    """The true phonemes as S2P 1-best (one utterance decoded to nothing), two more hypotheses each."""
    nbest = {u: [(-2.0, PHONES[u]), (-3.0, "a m a"), (-5.0, "t o")] for u in UTTS}
    nbest["pl-002"][0] = (-1.0, "")
    return write_s2p_decode(tmp_path / "decode_test", nbest)


def _decode(ckpt, s2p_dir, out, *opts):
    decode_p2g.main([*opts, str(ckpt), str(s2p_dir), str(out)])
    return read_utt_texts(out / "hyp.txt"), read_utt_texts(out / "ref.txt"), _nbest(out / "nbest.txt")


def test_hypotheses_are_the_top_of_the_nbest_of_the_batched_beam_search(p2g_setup, s2p_dir, tmp_path):
    hyp, ref, nbest = _decode(p2g_setup["p2g"], s2p_dir, tmp_path / "out", "--cuts", str(p2g_setup["cuts"]),
                              "--beam", "6", "--nbest", "3", "--max-tokens", "20", "--save-logprobs", "true")
    assert list(hyp) == UTTS and ref == TEXT
    tm = load_token_model(str(p2g_setup["p2g"]), None, "p2g", torch.device("cpu"))
    logprobs = load_checkpoint(tmp_path / "out" / "logprobs.pt")
    for utt in UTTS:
        rows = [r for r in nbest if r[0] == utt]
        assert rows[0][3] == hyp[utt] and [r[1] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
        scores = [float(r[2]) for r in rows]
        assert scores == sorted(scores, reverse=True)
        if utt == "pl-002":  # empty S2P output: the empty word sequence, probability 1, the model not run
            assert rows == [["pl-002", "1", "0.0000", ""]] and logprobs[utt].size(0) == 0
            continue
        # each utterance alone (no padding) gives what the batches of at most 20 padded tokens gave
        ids = torch.tensor([tm.inputs.encode(PHONES[utt])])
        with torch.no_grad():
            lp, lens = tm.model(ids, torch.tensor([ids.size(1)]))
        alone = prefix_beam_search(lp, lens, beam=6, nbest=3)[0]
        words = [" ".join(tm.outputs.decode(h.tokens).split()) for h in alone]
        assert words[0] == hyp[utt] and alone[0].log_prob == pytest.approx(scores[0], abs=2e-3)
        assert set(words) == {r[3] for r in rows}  # spellings of the same words are one hypothesis
        if len(set(words)) == len(words):
            assert words == [r[3] for r in rows] and [h.log_prob for h in alone] == pytest.approx(scores, abs=2e-3)
        assert torch.allclose(logprobs[utt], lp[0], atol=1e-5)  # upsample 2: twice the phonemes
        assert logprobs[utt].shape == (2 * len(PHONES[utt].split()), tm.outputs.vocab_size)
    assert (tmp_path / "out" / "decode_p2g.config.yaml").is_file()


def test_jsa_checkpoint_decodes_like_the_p2g_it_holds(p2g_setup, s2p_dir, tmp_path):
    cuts = ["--cuts", str(p2g_setup["cuts"]), "--nbest", "2"]
    alone = _decode(p2g_setup["p2g"], s2p_dir, tmp_path / "p2g", *cuts)
    jsa = _decode(p2g_setup["jsa"], s2p_dir, tmp_path / "jsa", *cuts)  # default model name: p2g
    assert jsa == alone
    with pytest.raises(ValueError, match="has no model 'x2y'; it holds s2p, p2g, g2p"):
        _decode(p2g_setup["jsa"], s2p_dir, tmp_path / "x", "--model-name", "x2y", *cuts)
    with pytest.raises(ValueError, match="reads .*lang_char \\(char\\), not phonemes"):
        _decode(p2g_setup["jsa"], s2p_dir, tmp_path / "x", "--model-name", "g2p", *cuts)
    with pytest.raises(ValueError, match="not a token model"):
        _decode(p2g_setup["jsa"], s2p_dir, tmp_path / "x", "--model-name", "s2p", *cuts)


def _scores(p2g_setup, tmp_path, name, s2p_nbest, *opts):
    """{utt: {words: score}} of decoding an S2P n-best (beam 4, four outputs per utterance)."""
    nbest = _decode(p2g_setup["p2g"], write_s2p_decode(tmp_path / f"s2p_{name}", s2p_nbest), tmp_path / name,
                    "--cuts", str(p2g_setup["cuts"]), "--beam", "4", "--nbest", "4", *opts)[2]
    scores = {u: {} for u in UTTS}
    for utt, _, score, words in nbest:
        scores[utt][words] = float(score)
    return scores


def test_nbest_in_combines_s2p_and_p2g_scores(p2g_setup, tmp_path):
    first = _scores(p2g_setup, tmp_path, "first", {u: [(0.0, PHONES[u])] for u in UTTS})
    second = _scores(p2g_setup, tmp_path, "second", {u: [(0.0, "a m a")] for u in UTTS})
    # a second S2P hypothesis of negligible probability changes nothing but adds log P(h_1|x) to the scores
    negligible = _scores(p2g_setup, tmp_path, "neg", {u: [(-2.0, PHONES[u]), (-1e4, "a m a")] for u in UTTS},
                         "--nbest-in", "2")
    for utt in UTTS:
        n = len(first[utt])  # < 4 where spellings merged; the negligible input's outputs fill the list up
        assert list(negligible[utt])[:n] == list(first[utt])
        assert list(negligible[utt].values())[:n] == pytest.approx([s - 2.0 for s in first[utt].values()], abs=2e-3)
        assert all(s < -1000 for s in list(negligible[utt].values())[n:])
    # two S2P hypotheses: an output scores log sum_k P(h_k|x) P(y|h_k) over the inputs whose beam holds it
    both = _scores(p2g_setup, tmp_path, "both", {u: [(-1.0, PHONES[u]), (-2.0, "a m a")] for u in UTTS},
                   "--nbest-in", "2")
    for utt in UTTS:
        for words, score in both[utt].items():
            terms = [prior + out[utt][words] for prior, out in ((-1.0, first), (-2.0, second)) if words in out[utt]]
            assert score == pytest.approx(math.log(sum(math.exp(t) for t in terms)), abs=2e-3)
        best = max(both[utt].values())
        assert best >= max(-1.0 + max(first[utt].values()), -2.0 + max(second[utt].values())) - 2e-3


def test_references_come_from_cuts_or_from_a_text_s2p_ref(p2g_setup, tmp_path):
    phones_ref = write_s2p_decode(tmp_path / "s2p_phones", {u: [(-1.0, PHONES[u])] for u in UTTS})
    with pytest.raises(ValueError, match="ref.txt holds phones; pass --cuts"):
        _decode(p2g_setup["p2g"], phones_ref, tmp_path / "x")
    text_ref = write_s2p_decode(tmp_path / "s2p_text", {u: [(-1.0, PHONES[u])] for u in UTTS}, ref_field="text")
    assert _decode(p2g_setup["p2g"], text_ref, tmp_path / "text")[1] == TEXT
    partial = write_s2p_decode(tmp_path / "s2p_part", {u: [(-1.0, PHONES[u])] for u in UTTS[:3]})
    with pytest.raises(ValueError, match=r"3 references were not decoded \(e.g. \['pl-003'"):
        _decode(p2g_setup["p2g"], partial, tmp_path / "x", "--cuts", str(p2g_setup["cuts"]))
    assert not (tmp_path / "x").exists()


def test_missing_inputs_are_named(p2g_setup, tmp_path):
    s2p = write_s2p_decode(tmp_path / "s2p", {u: [(-1.0, PHONES[u])] for u in UTTS})
    with pytest.raises(FileNotFoundError, match="checkpoint .*nothing.pt does not exist"):
        _decode(tmp_path / "nothing.pt", s2p, tmp_path / "x", "--cuts", str(p2g_setup["cuts"]))
    (s2p / "nbest.txt").unlink()
    with pytest.raises(FileNotFoundError, match="s2p/nbest.txt does not exist; decode with .*--nbest 3"):
        _decode(p2g_setup["p2g"], s2p, tmp_path / "x", "--nbest-in", "3", "--cuts", str(p2g_setup["cuts"]))
    (s2p / "hyp.txt").write_text("".join(f"{u}\t{'a ʐ' if u == 'pl-003' else PHONES[u]}\n" for u in UTTS),
                                 encoding="utf-8")
    with pytest.raises(ValueError, match=r"hyp.txt:4: the S2P hypothesis does not fit the P2G's phoneme tokenizer"):
        _decode(p2g_setup["p2g"], s2p, tmp_path / "x", "--cuts", str(p2g_setup["cuts"]))
