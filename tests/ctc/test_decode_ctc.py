"""The CTC decoding worker and steps/decode_ctc.sh on real espeak-ng speech with a (random) tiny Conformer."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import torch
from lhotse import CutSet, Fbank, FbankConfig, NumpyFilesWriter, Recording, SupervisionSegment

from phonasr.bin import decode_ctc
from phonasr.ctc import ctc_loss
from phonasr.features import OnTheFlyFbank
from phonasr.models import build_model, subsampled_lengths
from phonasr.models.stored import load_stored_model, model_checkpoint
from phonasr.tokenizers import PhonemeTokenizer, save_tokenizer
from phonasr.utils.io import atomic_torch_save, load_checkpoint

UNITS = ["a", "b", "d", "e", "i", "o", "t͡ɕ", "ʃ"]


@pytest.fixture(scope="module")
def setup(espeak_wavs, tmp_path_factory):
    """(checkpoint, cuts manifest, lang dir) for decoding."""
    root = tmp_path_factory.mktemp("decode")
    lang = root / "lang_phone"
    tokenizer = PhonemeTokenizer.from_units(UNITS)
    save_tokenizer(tokenizer, lang)
    torch.manual_seed(0)
    model_cfg = {"type": "conformer", "preset": "tiny"}
    model = build_model(model_cfg, tokenizer.vocab_size)
    ckpt = root / "final.pt"
    atomic_torch_save(model_checkpoint({"s2p": model}, {"model": model_cfg},
                                       {"tokenizer_dir": str(lang), "symbols": tokenizer.symbols}), ckpt)
    cuts = []
    for i, (wav, lang_code, text) in enumerate(espeak_wavs):
        rec = Recording.from_file(wav, recording_id=f"utt{i}")
        sup = SupervisionSegment(id=f"utt{i}", recording_id=rec.id, start=0.0, duration=rec.duration, text=text,
                                 language=lang_code, custom={"phones": "a t͡ɕ o"})
        cut = rec.to_cut()
        cut.supervisions = [sup]
        cuts.append(cut)
    with_feats = CutSet.from_cuts(cuts).compute_and_store_features(
        Fbank(FbankConfig(num_mel_bins=80)), storage_path=root / "feats", storage_type=NumpyFilesWriter)
    manifest = root / "cuts_test.jsonl.gz"
    with_feats.to_file(manifest)
    return ckpt, manifest, lang


def _read(path: Path) -> list:
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]


def test_decode_writes_consistent_hypotheses_nbest_and_logprobs(setup, tmp_path):
    ckpt, manifest, _ = setup
    out = tmp_path / "decode_test"
    decode_ctc.main(["decode", "--beam", "8", "--nbest", "3", "--ref-field", "phones", "--save-logprobs", "true",
                     "--max-frames", "600", str(ckpt), str(manifest), str(out)])
    cuts = {c.id: c for c in CutSet.from_file(manifest)}
    hyp, ref, nbest = _read(out / "hyp.txt"), _read(out / "ref.txt"), _read(out / "nbest.txt")
    assert [u for u, _ in hyp] == sorted(cuts) == [u for u, _ in ref]
    assert all(r == "a t͡ɕ o" for _, r in ref)
    assert len(nbest) == 3 * len(cuts)
    logprobs = load_checkpoint(out / "logprobs.pt")
    tokenizer = PhonemeTokenizer.from_units(UNITS)
    for utt, text in hyp:
        rows = [r for r in nbest if r[0] == utt]
        assert [int(r[1]) for r in rows] == [1, 2, 3] and rows[0][3] == text
        scores = [float(r[2]) for r in rows]
        assert scores == sorted(scores, reverse=True)
        lp = logprobs[utt]
        assert lp.size(0) == int(subsampled_lengths(torch.tensor([cuts[utt].num_frames]))[0])
        # the score sums the alignments the beam kept: at most the exact CTC log-probability of the hypothesis
        # (equal without pruning; this random model's flat posteriors make the beam drop some)
        exact = -ctc_loss(lp[None], torch.tensor([lp.size(0)]), [tokenizer.encode(text)], backend="torch")
        assert exact.item() - 10.0 < scores[0] <= exact.item() + 1e-3
    assert (out / "decode.config.yaml").is_file() and (out / "decode.versions.json").is_file()


def test_decode_rejects_a_mismatched_tokenizer_and_an_unknown_model(setup, tmp_path):
    ckpt, manifest, _ = setup
    other = tmp_path / "lang_other"
    save_tokenizer(PhonemeTokenizer.from_units(UNITS[:-1]), other)
    with pytest.raises(ValueError, match="tokens but model"):
        decode_ctc.main(["decode", "--tokenizer-dir", str(other), str(ckpt), str(manifest), str(tmp_path / "x")])
    with pytest.raises(ValueError, match="no model 'p2g'"):
        decode_ctc.main(["decode", "--model-name", "p2g", str(ckpt), str(manifest), str(tmp_path / "x")])
    no_phones = tmp_path / "cuts_no_phones.jsonl.gz"
    CutSet.from_cuts(_without_phones(c) for c in CutSet.from_file(manifest)).to_file(no_phones)
    with pytest.raises(ValueError, match=r"cut 'utt\d' has no supervision.custom\['phones'\]"):
        decode_ctc.main(["decode", "--ref-field", "phones", str(ckpt), str(no_phones), str(tmp_path / "x")])
    assert not (tmp_path / "x").exists()


def test_decode_computes_fbank_from_audio_on_request(setup, tmp_path):
    """Audio-only cuts decode with --on-the-fly-fbank: the log-posteriors are the model's output on the backend's
    fbank of each cut (padded as in training); without the option they are refused before any decoding."""
    ckpt, manifest, _ = setup
    audio_only = tmp_path / "cuts_audio.jsonl.gz"
    CutSet.from_file(manifest).drop_features().to_file(audio_only)
    with pytest.raises(ValueError, match="has no features; .*--on-the-fly-fbank"):
        decode_ctc.main(["decode", str(ckpt), str(audio_only), str(tmp_path / "x")])
    out = tmp_path / "fly"
    decode_ctc.main(["decode", "--beam", "4", "--save-logprobs", "true", "--max-frames", "600",
                     "--on-the-fly-fbank", "kaldi-native-fbank", str(ckpt), str(audio_only), str(out)])
    logprobs = load_checkpoint(out / "logprobs.pt")
    model = load_stored_model(ckpt).build()
    fbank = OnTheFlyFbank("kaldi-native-fbank")
    cuts = list(CutSet.from_file(audio_only))
    assert sorted(logprobs) == sorted(c.id for c in cuts)
    for cut in cuts:
        feats = torch.from_numpy(fbank.features([cut])[0])[None]
        with torch.no_grad():
            expected, _ = model(feats, torch.tensor([feats.size(1)]))
        torch.testing.assert_close(logprobs[cut.id], expected[0], atol=1e-4, rtol=1e-4)


def _without_phones(cut):
    cut.supervisions[0].custom = None
    return cut


def test_shell_script_refuses_a_bad_thread_count(setup, tmp_path, repo_root):
    ckpt, manifest, _ = setup
    out = subprocess.run(["bash", "steps/decode_ctc.sh", "--num-threads", "-1", str(ckpt), str(manifest),
                          str(tmp_path / "out")], cwd=repo_root, capture_output=True, text=True)
    assert out.returncode == 1
    assert "--num-threads must be 0 (torch's choice) or a positive integer, got '-1'" in out.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_shell_script_with_two_jobs_matches_one_in_process_run(setup, tmp_path, repo_root):
    ckpt, manifest, _ = setup
    single = tmp_path / "single"
    decode_ctc.main(["decode", "--beam", "4", "--nbest", "2", str(ckpt), str(manifest), str(single)])
    out = tmp_path / "two_jobs"
    env = {**os.environ, "PYTHONPATH": str(repo_root)}
    subprocess.run(["bash", "steps/decode_ctc.sh", "--nj", "2", "--beam", "4", "--nbest", "2", str(ckpt),
                    str(manifest), str(out)], cwd=repo_root, env=env, check=True, capture_output=True)
    assert (out / "hyp.txt").read_text() == (single / "hyp.txt").read_text()
    assert (out / "ref.txt").read_text() == (single / "ref.txt").read_text()
    assert [r[:2] + r[3:] for r in _read(out / "nbest.txt")] == [r[:2] + r[3:] for r in _read(single / "nbest.txt")]
    assert (out / ".decode.done").is_file()
