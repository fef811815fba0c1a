"""The end-to-end smoke run: `egs/mini_pl/run.sh --quick true` from nothing to the results table.

This proves every stage runs, hands its outputs to the next, scores into exp/results.tsv, and that a rerun skips
finished work; and that the 10-minute phoneme fine-tuning learns: its PER is clearly below that of the model it
starts from, so a change that breaks learning fails here. (The other quick models train a handful of steps.)
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "egs/mini_pl/run.sh"

LM_SYSTEMS = ("s2p_ft_text_lm", "spg_init_lm", "jsa_lm", "jsa_aug_lm", "jsa_phone_g2p_lm",
              "s2p_ft_phone_full_lexicon_lm", "spg_init_mls", "jsa_mls", "jsa_aug_mls", "jsa_phone_g2p_mls",
              # the LDA comparison: the adaptation LM under the subword baseline, and under JSA-SPG + LDA
              "s2p_ft_text_lda_lm", "jsa_lda_lm", "jsa_lda_mls")
TEST_SETS = ("test", "test_other")  # conf/quick.conf: the small test set and the tiny other-domain one
WORD_SYSTEMS = ("s2p_ft_text", "spg_init", "jsa", "jsa_aug", "jsa_lda")  # no-LM word outputs, dev-decoded for LMs
# (system, test set, metric): the target's test sets for every system, and the pretrained model's PER on the dev
# set of each pretraining language of the quick corpus (es, cs).
EXPECTED_ROWS = {
    ("s2p_pretrain", "dev_cs", "PER"), ("s2p_pretrain", "dev_es", "PER"),
    *((system, t, "PER") for system in ("s2p_pretrain", "s2p_ft_phone", "s2p_ft_phone_full", "spg_init", "jsa",
                                        "jsa_aug") for t in TEST_SETS),
    *((system, t, metric) for system in (*WORD_SYSTEMS, "oracle_phonemes_p2g") for t in TEST_SETS
      for metric in ("WER", "CER")),
    # stages 14-16: each LM's perplexity and OOV rate; the no-LM dev decodings that LM weights are chosen on; the
    # LM and MLS systems on the test sets
    *((lm, t, metric) for lm in ("lm", "lm_lda") for t in ("dev", *TEST_SETS) for metric in ("PPL", "OOV")),
    ("s2p_ft_phone_full", "dev", "PER"), ("jsa", "dev", "PER"),
    *((system, "dev", metric) for system in WORD_SYSTEMS for metric in ("WER", "CER")),
    *((system, t, metric) for system in LM_SYSTEMS for t in TEST_SETS for metric in ("WER", "CER")),
}


# How far below the starting model's PER the 10-minute fine-tuned S2P must be, in points. Learning nothing keeps
# it where it was (4 steps of fine-tuning: 100 -> 98); the quick fine-tuning reaches about 19 from 100.
LEARNED_PER_POINTS = 30


def run_recipe(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(RECIPE), "--quick", "true", "--dir", str(out), *args], capture_output=True,
                          text=True, timeout=1500)


@pytest.mark.slow
def test_quick_recipe_fills_the_results_table(quick_run):
    lines = (quick_run / "exp/results.tsv").read_text().splitlines()
    assert lines[0].split("\t") == ["system", "test_set", "metric", "value", "errors/total", "details"]
    rows = [line.split("\t") for line in lines[1:]]
    assert {(r[0], r[1], r[2]) for r in rows} == EXPECTED_ROWS
    for system, _, _, value, errors, details in rows:
        assert float(value) >= 0 and "/" in errors
        assert (quick_run / details).is_file(), f"{system}: no error details at {details}"


@pytest.mark.slow
def test_quick_recipe_leaves_every_stage_output(quick_run):
    for path in ("corpus/pl/train.tsv", "data/manifests/pl/cuts_train.jsonl.gz", "data/fbank/pl/cuts_test.jsonl.gz",
                 "data/lang_phone/tokens.txt", "data/subset/pl/coverage.txt", "exp/s2p_pretrain/final.pt",
                 "exp/s2p_ft_phone/curves.png", "exp/p2g_init/final.pt", "exp/g2p_init/final.pt",
                 "exp/jsa/final.pt", "exp/p2g_aug/final.pt", "exp/p2g_lda/final.pt",
                 "exp/jsa/decode_p2g_test/hyp.txt", "data/pairs/lda_train.tsv", "data/lm_pl/lm.arpa",
                 "corpus/pl/test_other.tsv", "data/fbank/pl/cuts_test_other.jsonl.gz", "data/lm_pl_lda/lm.arpa",
                 "exp/graph_text_lda/HLG.fst", "exp/graph_text/HLG.fst", "exp/graph_phone_g2p/HLG.fst",
                 "exp/graph_phone_lexicon/HLG.fst",
                 *(f"exp/{system}/lmwt/{f}" for system in LM_SYSTEMS
                   for f in ("sweep.tsv", "sweep.png", "weight.txt"))):
        assert (quick_run / path).exists(), f"missing {path}"
    assert list((quick_run / "exp/jsa/tensorboard").iterdir()), "no TensorBoard logs for JSA"
    timed = [line.split("\t") for line in (quick_run / "exp/stage_times.tsv").read_text().splitlines()]
    assert [row[0] for row in timed] == [str(n) for n in range(19)] and all(int(row[1]) >= 0 for row in timed)
    for decode_dir in ("exp/s2p_ft_phone/decode_test", "exp/jsa/decode_p2g_test"):  # what LM / MLS decoding reads
        ranks = [line.split("\t")[1] for line in (quick_run / decode_dir / "nbest.txt").read_text().splitlines()]
        assert max(map(int, ranks)) > 1, f"{decode_dir}/nbest.txt holds only 1-best hypotheses"
        assert (quick_run / decode_dir / "logprobs.pt").is_file()


@pytest.mark.slow
def test_rerun_skips_finished_stages(quick_run):
    results = quick_run / "exp/results.tsv"
    before = results.read_text()
    outputs = [quick_run / p for p in ("data/fbank/pl/cuts_train.jsonl.gz", "exp/s2p_ft_phone/final.pt",
                                       "exp/jsa/final.pt", "exp/jsa/decode_test/hyp.txt", "data/pairs/aug_train.tsv",
                                       "data/lm_pl/lm.arpa", "exp/graph_phone_g2p/HLG.fst",
                                       "exp/jsa_lm/decode_test/nbest.txt", "exp/jsa_mls/decode_test/nbest.txt")]
    stamps = [p.stat().st_mtime_ns for p in outputs]
    rerun = run_recipe(quick_run)
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    assert [p.stat().st_mtime_ns for p in outputs] == stamps, "a rerun redid finished work"
    assert results.read_text() == before


@pytest.mark.slow
def test_quick_fine_tuning_learns(quick_run):
    per = {(r[0], r[1], r[2]): float(r[3]) for r in
           (line.split("\t") for line in (quick_run / "exp/results.tsv").read_text().splitlines()[1:])}
    before, after = per[("s2p_pretrain", "test", "PER")], per[("s2p_ft_phone", "test", "PER")]
    assert after <= before - LEARNED_PER_POINTS, f"fine-tuning learned too little: PER {before} -> {after}"


@pytest.mark.slow
def test_quick_recipe_exports_valid_kaldi_data_dirs(quick_run, repo_root):
    for lang in ("pl", "es", "cs"):
        for split in ("train", "dev", "test", *(("test_other",) if lang == "pl" else ())):
            data = quick_run / "data/kaldi" / lang / split
            check = subprocess.run(["bash", "utils/validate_data_dir.sh", str(data)], cwd=repo_root,
                                   capture_output=True, text=True)
            assert check.returncode == 0, check.stderr


@pytest.mark.slow
def test_spg_init_models_read_the_same_pairs_in_opposite_directions(quick_run):
    # the configs as the trainings read them (lang dirs and pairs come from the pipeline, not the YAMLs)
    p2g, g2p, aug, lda = (yaml.safe_load((quick_run / f"exp/{name}/train.config.yaml").read_text())
                          for name in ("p2g_init", "g2p_init", "p2g_aug", "p2g_lda"))
    assert (g2p["data"]["train"], g2p["data"]["dev"]) == (p2g["data"]["train"], p2g["data"]["dev"])
    assert g2p["data"]["reverse"] and not p2g["data"]["reverse"]
    assert (g2p["input_tokenizer"], g2p["output_tokenizer"]) == ("data/lang_char_pl", p2g["input_tokenizer"])
    for cfg in (aug, lda):
        assert (cfg["input_tokenizer"], cfg["output_tokenizer"]) == (p2g["input_tokenizer"], p2g["output_tokenizer"])
        assert cfg["init"] == {"checkpoint": "exp/jsa/final.pt", "model_name": "p2g"}


def test_recipe_help_and_bad_option():
    help_run = subprocess.run(["bash", str(RECIPE), "--help"], capture_output=True, text=True, timeout=120)
    assert help_run.returncode == 0 and "--stop-stage" in help_run.stdout and "JSA training" in help_run.stdout
    listed = {int(n) for n in re.findall(r"(?:^|  )(\d+) (?=\S)", help_run.stdout.split("Options:")[0], re.M)}
    assert listed == set(range(20)), f"--help lists stages {sorted(listed)}"
    bad = subprocess.run(["bash", str(RECIPE), "--no-such-option", "1"], capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "invalid option --no-such-option" in bad.stderr
