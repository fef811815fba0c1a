"""steps/decode_wfst.sh on a decode dir's saved log-posteriors: split jobs give one job's files, costs re-rank."""
from __future__ import annotations

import os
import subprocess

import pytest
import torch

from phonasr.decode.outputs import read_hypotheses
from phonasr.decode.weights import best_texts, read_candidates
from phonasr.decode.wfst import WfstOptions
from phonasr.decode.wfst_dir import decode_dir
from tests.wfst import toy

UTTS = ["u1", "u2", "u3"]


@pytest.fixture
def decoded_input(tmp_path):
    """A decode dir with logprobs.pt (random posteriors over the toy's tokens) and ref.txt."""
    in_dir = tmp_path / "decode_in"
    in_dir.mkdir()
    g = torch.Generator().manual_seed(7)
    torch.save({u: torch.log_softmax(2 * torch.randn(12 + i, 5, generator=g), -1) for i, u in enumerate(UTTS)},
               in_dir / "logprobs.pt")
    (in_dir / "ref.txt").write_text("".join(f"{u}\ta d\n" for u in UTTS), encoding="utf-8")
    return in_dir


def test_split_jobs_equal_one_job_and_costs_rerank(repo_root, tmp_path, decoded_input):
    graph = toy.write_graph(tmp_path)
    decode_dir(decoded_input, graph, tmp_path / "one", WfstOptions(lm_weight=0.7, nbest=5))
    env = {**os.environ, "PYTHONPATH": str(repo_root)}
    out = subprocess.run(["bash", "steps/decode_wfst.sh", "--nj", "2", "--lm-weight", "0.7", "--nbest", "5",
                          decoded_input, graph, tmp_path / "two"], cwd=repo_root, env=env, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    for name in ("hyp.txt", "ref.txt", "nbest.txt", "costs.txt"):
        assert (tmp_path / "two" / name).read_text() == (tmp_path / "one" / name).read_text(), name
    hyps, candidates = read_hypotheses(tmp_path / "one", 5), read_candidates(tmp_path / "one", "wfst")
    assert sorted(hyps) == sorted(candidates) == UTTS
    for utt in UTTS:
        assert len(hyps[utt]) == len(candidates[utt]) == 5
        for entry, candidate in zip(hyps[utt], candidates[utt]):
            assert entry.text == candidate.text
            assert entry.log_prob == pytest.approx(candidate.score(0.7), abs=1e-3)
    assert best_texts(candidates, 0.7) == {utt: hyps[utt][0].text for utt in UTTS}
    # a huge LM weight ranks by the graph cost (the lm part) alone
    for utt, text in best_texts(candidates, 1e6).items():
        assert text == max(candidates[utt], key=lambda c: c.lm).text


def test_one_best_mode_and_vocabulary_mismatch(tmp_path, decoded_input):
    graph = toy.write_graph(tmp_path)
    decode_dir(decoded_input, graph, tmp_path / "best", WfstOptions(), lattice=False)
    lattice_dir = tmp_path / "lattice"
    decode_dir(decoded_input, graph, lattice_dir, WfstOptions(nbest=3))
    assert (tmp_path / "best/hyp.txt").read_text() == (lattice_dir / "hyp.txt").read_text()
    torch.save({"u1": torch.zeros(4, 7)}, decoded_input / "logprobs.pt")
    with pytest.raises(ValueError, match="graph .* is over 5 tokens of toy"):
        decode_dir(decoded_input, graph, tmp_path / "bad", WfstOptions())


def test_k2_decoder_is_one_best_only_and_needs_k2(tmp_path, decoded_input):
    graph = toy.write_graph(tmp_path)
    with pytest.raises(ValueError, match="1-best only: decode with --lattice false"):
        decode_dir(decoded_input, graph, tmp_path / "k2", WfstOptions(), decoder="k2")
    with pytest.raises(ValueError, match="unknown decoder 'kaldy'"):
        decode_dir(decoded_input, graph, tmp_path / "x", WfstOptions(), lattice=False, decoder="kaldy")
    try:
        import k2  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="--decoder k2: k2 does not import"):
            decode_dir(decoded_input, graph, tmp_path / "k2", WfstOptions(), lattice=False, decoder="k2")


def test_references_from_a_word_file(tmp_path, decoded_input):
    """A phoneme model's decode dir holds phoneme references: words decoded from it are scored against words."""
    graph = toy.write_graph(tmp_path)
    words = tmp_path / "ref_words.txt"
    words.write_text("".join(f"{u}\tab d\n" for u in UTTS), encoding="utf-8")
    decode_dir(decoded_input, graph, tmp_path / "out", WfstOptions(), lattice=False, ref_file=words)
    assert (tmp_path / "out/ref.txt").read_text() == words.read_text()
    words.write_text("u1\tab d\n", encoding="utf-8")
    with pytest.raises(ValueError, match="ref_words.txt has no reference for 'u2'"):
        decode_dir(decoded_input, graph, tmp_path / "bad", WfstOptions(), lattice=False, ref_file=words)
