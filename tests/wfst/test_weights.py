"""LM weights chosen on dev by re-ranking saved n-best lists, applied to another set; the tuning CLI's errors."""
from __future__ import annotations

import os
import subprocess

import pytest

from phonasr.decode.outputs import read_hypotheses, read_references
from phonasr.decode.weights import apply_weight, best_texts, choose, read_candidates, sweep

# Per utterance: (words, graph cost, acoustic cost). The acoustically best hypothesis is wrong; the LM prefers the
# right one, so a moderate weight fixes u1 and u2, and a huge weight breaks u3 (whose right words the LM dislikes).
NBEST = {
    "u1": [("a b", 6.0, 10.0), ("a c", 2.0, 11.0)],
    "u2": [("d e", 5.0, 20.0), ("d f", 1.0, 21.5), ("x", 0.5, 40.0)],
    "u3": [("g h", 4.0, 30.0), ("g i", 1.0, 33.0)],
}
REFS = {"u1": "a c", "u2": "d f", "u3": "g h"}


def write_wfst_dir(path, nbest=NBEST, refs=REFS):
    path.mkdir(parents=True)
    lines, costs = [], []
    for utt, hyps in sorted(nbest.items()):
        for rank, (words, graph, acoustic) in enumerate(hyps, start=1):
            lines.append(f"{utt}\t{rank}\t{-(graph + acoustic):.4f}\t{words}\n")
            costs.append(f"{utt}\t{rank}\t{graph:.4f}\t{acoustic:.4f}\n")
    (path / "nbest.txt").write_text("".join(lines), encoding="utf-8")
    (path / "costs.txt").write_text("".join(costs), encoding="utf-8")
    (path / "hyp.txt").write_text("".join(f"{u}\t{h[0][0]}\n" for u, h in sorted(nbest.items())), encoding="utf-8")
    (path / "ref.txt").write_text("".join(f"{u}\t{r}\n" for u, r in sorted(refs.items())), encoding="utf-8")
    return path


def test_sweep_chooses_the_dev_optimum_and_rerank_follows_it(tmp_path):
    dev = write_wfst_dir(tmp_path / "dev")
    candidates = read_candidates(dev, "wfst")
    assert best_texts(candidates, 0.0) == {"u1": "a b", "u2": "d e", "u3": "g h"}   # acoustics alone
    assert best_texts(candidates, 1.0) == {"u1": "a c", "u2": "d f", "u3": "g h"}   # all right
    assert best_texts(candidates, 5.0)["u3"] == "g i"                                 # LM alone: u3 wrong
    points = sweep(candidates, REFS, [0.0, 0.5, 1.0, 1.2, 5.0])
    assert [p.errors for p in points] == [2, 0, 0, 1, 1]
    assert choose(points).weight == 0.5  # the smaller of two equally good weights
    out = tmp_path / "dev_rescored"
    apply_weight(candidates, read_references(dev), 1.0, out)
    hyps = read_hypotheses(out, 3)
    assert {u: h[0].text for u, h in hyps.items()} == REFS
    assert [h.text for h in hyps["u2"]] == ["d f", "d e", "x"]  # the whole list re-ranked, scores descending
    assert hyps["u2"][0].log_prob == pytest.approx(-(1.0 + 21.5))


def test_mls_scores_are_log_probs_plus_weighted_lm(tmp_path):
    d = tmp_path / "mls"
    d.mkdir()
    (d / "nbest.txt").write_text("u\t1\t-1.0\ta\nu\t2\t-2.0\tb\n", encoding="utf-8")
    (d / "mls_scores.txt").write_text("u\t1\t-1.0\t-9.0\nu\t2\t-2.0\t-1.0\n", encoding="utf-8")
    (d / "ref.txt").write_text("u\tb\n", encoding="utf-8")
    candidates = read_candidates(d, "mls")
    assert best_texts(candidates, 0.0) == {"u": "a"}
    assert best_texts(candidates, 1.0) == {"u": "b"}  # -2 - 1 > -1 - 9


def test_score_file_must_match_the_nbest(tmp_path):
    dev = write_wfst_dir(tmp_path / "dev")
    lines = (dev / "costs.txt").read_text().splitlines()
    (dev / "costs.txt").write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(ValueError, match="'u3' rank 2 has no line in"):
        read_candidates(dev, "wfst")
    with pytest.raises(FileNotFoundError, match="mls_scores.txt does not exist"):
        read_candidates(dev, "mls")


def test_tune_script_writes_sweep_plot_and_reranked_sets(repo_root, tmp_path):
    dev = write_wfst_dir(tmp_path / "decode_dev")
    test = write_wfst_dir(tmp_path / "decode_test", refs={"u1": "a b", "u2": "d f", "u3": "g h"})
    env = {**os.environ, "PYTHONPATH": str(repo_root)}
    run = subprocess.run(["bash", "steps/tune_lm_weight.sh", "--weights", "0 1 5", dev, tmp_path / "lmwt",
                          f"test={test}"], cwd=repo_root, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    out = tmp_path / "lmwt"
    assert (out / "weight.txt").read_text().strip() == "1"
    assert (out / "sweep.tsv").read_text().splitlines()[1:] == ["0\t33.33\t2\t6\t", "1\t0.00\t0\t6\t*",
                                                                "5\t16.67\t1\t6\t"]
    assert (out / "sweep.png").stat().st_size > 1000
    # the test set gets dev's weight, even though another weight would suit it better (u1's ref is "a b" there)
    assert (out / "test/hyp.txt").read_text() == "u1\ta c\nu2\td f\nu3\tg h\n"
    bad = subprocess.run(["bash", "steps/tune_lm_weight.sh", "--weights", "0 x", dev, tmp_path / "bad"],
                         cwd=repo_root, env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "--weights takes numbers" in bad.stderr and "Traceback" not in bad.stderr
    missing = subprocess.run(["bash", "steps/tune_lm_weight.sh", "--kind", "mls", dev, tmp_path / "bad"],
                             cwd=repo_root, env=env, capture_output=True, text=True)
    assert missing.returncode != 0 and "mls_scores.txt does not exist" in missing.stderr


def test_a_failed_decoding_ranks_last_at_every_weight():
    from phonasr.decode.weights import Candidate

    failed, found = Candidate("", float("-inf"), float("-inf")), Candidate("a", -50.0, -5.0)
    for weight in (0.0, 0.5, 3.0):
        assert failed.score(weight) == float("-inf")
        assert best_texts({"u": [failed, found]}, weight) == {"u": "a"}
