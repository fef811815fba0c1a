"""Stage 19, the controls: `run.sh --quick true --stage 19 --stop-stage 19 --controls true` on a copy of the
session's finished quick run (the copy, so the other tests of that run see its rows unchanged).

Each control is a system `control_<name>` with the rows of the system it controls (PER of its S2P, WER/CER of S2P
-> P2G), the JSA ones with the PER of their sample cache against the true phonemes, and a rerun redoes nothing.
(The quick run leaves control_jsa_zero_labels out: see conf/quick.conf.)
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "egs/mini_pl/run.sh"

CONTROLS = ("control_s2p_longer", "control_p2g_longer", "control_reference_jsa", "control_jsa_long")
JSA_RUNS = ("jsa", "control_reference_jsa", "control_jsa_long")
# The quick corpus's labelled subset is its whole training set: the cache rows are on "train" there
# (train_unlabelled on a corpus with unlabelled utterances).
EXPECTED_ROWS = {
    *((system, "test", metric) for system in CONTROLS for metric in ("PER", "WER", "CER")),
    *((system, "train", "PER") for system in JSA_RUNS),
}


def run_controls(out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(RECIPE), "--quick", "true", "--dir", str(out), "--stage", "19",
                           "--stop-stage", "19", "--controls", "true"], capture_output=True, text=True, timeout=1500)


@pytest.fixture(scope="module")
def controls_run(quick_run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mini_pl_controls") / "run"
    shutil.copytree(quick_run, out, symlinks=True)
    run = run_controls(out)
    assert run.returncode == 0, run.stderr[-4000:]
    return out


def results(out: Path) -> dict:
    rows = (line.split("\t") for line in (out / "exp/results.tsv").read_text().splitlines()[1:])
    return {(r[0], r[1], r[2]): r for r in rows}


@pytest.mark.slow
def test_every_control_has_its_rows(controls_run):
    rows = results(controls_run)
    assert set(rows) >= EXPECTED_ROWS, sorted(EXPECTED_ROWS - set(rows))
    for key in EXPECTED_ROWS:
        assert float(rows[key][3]) >= 0 and (controls_run / rows[key][5]).is_file(), key


@pytest.mark.slow
def test_controls_train_as_long_as_jsa_from_the_right_models(controls_run):
    config = {name: yaml.safe_load((controls_run / f"exp/{name}/train.config.yaml").read_text())
              for name in ("jsa", "control_s2p_longer", "control_p2g_longer", "control_p2g_longer_g2p",
                           "control_reference_jsa", "control_jsa_long")}
    steps = config["jsa"]["train"]["max_steps"]
    for name in ("control_s2p_longer", "control_p2g_longer", "control_p2g_longer_g2p"):
        assert config[name]["train"]["max_steps"] == steps, name
        assert (config[name]["optim"], config[name]["schedule"]) == (config["jsa"]["optim"], config["jsa"]["schedule"])
    assert config["control_s2p_longer"]["init"]["checkpoint"] == "exp/s2p_ft_phone/final.pt"
    assert config["control_s2p_longer"]["data"]["train"] == config["jsa"]["jsa"]["labelled"]
    assert config["control_p2g_longer"]["init"] == {"checkpoint": "exp/p2g_init/final.pt"}
    reference = config["control_reference_jsa"]
    assert {k: reference["jsa"][k] for k in ("weights", "cache", "score_mode", "proposal_s2p_weight",
                                              "new_chain_start")} == {
        "weights": "length_normalised", "cache": "restart", "score_mode": "train", "proposal_s2p_weight": 0,
        "new_chain_start": "proposal"}
    assert (reference["seed"], reference["train"]["max_steps"]) == (config["jsa"]["seed"], steps)
    assert config["control_jsa_long"]["train"]["max_steps"] == 4 * steps


@pytest.mark.slow
def test_controls_rerun_redoes_nothing(controls_run):
    before = (controls_run / "exp/results.tsv").read_text()
    outputs = [controls_run / f"exp/{system}/{f}" for system in CONTROLS
               for f in ("final.pt", "decode_p2g_test/hyp.txt")]
    stamps = [p.stat().st_mtime_ns for p in outputs]
    rerun = run_controls(controls_run)
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    assert [p.stat().st_mtime_ns for p in outputs] == stamps, "a rerun of stage 19 redid finished work"
    assert (controls_run / "exp/results.tsv").read_text() == before
