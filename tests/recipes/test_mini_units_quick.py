"""egs/mini_units --quick true, stages 7-13, on the shared stages 0-6 of the session's quick mini_pl run.

The units recipe runs stages 0-6 through the JSA-SPG pipeline with the same configs (tests/recipes/
test_units_pipeline.py checks that hand-off); here they are the quick mini_pl run's, linked read-only, so the test
pays only for the units stages. Checked: every table of exp/RESULTS_units.md comes from files the stages wrote,
the files pair up frame by frame, the phoneme-classification model loads as an S2P, and a rerun redoes nothing.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import torch

from phonasr.decode.ctc import load_acoustic_model
from phonasr.units.store import check_aligned, load_arrays

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "egs/mini_units/run.sh"
SHARED_DATA = ("fbank", "subset", "lang_phone_pl", "lang_char_pl", "lang_phone")
SHARED_EXP = ("s2p_pretrain", "s2p_ft_phone")


def run_units(out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(RECIPE), "--quick", "true", "--dir", str(out), "--stage", "7"],
                          capture_output=True, text=True, timeout=1500)


@pytest.fixture(scope="module")
def units_run(quick_run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mini_units_quick") / "run"
    (out / "data").mkdir(parents=True)
    (out / "exp").mkdir()
    (out / "corpus").symlink_to(quick_run / "corpus")
    for name in SHARED_DATA:
        (out / "data" / name).symlink_to(quick_run / "data" / name)
    for name in SHARED_EXP:
        (out / "exp" / name).symlink_to(quick_run / "exp" / name)
    run = run_units(out)
    assert run.returncode == 0, run.stderr[-4000:]
    return out


@pytest.mark.slow
def test_the_report_has_every_table(units_run):
    report = (units_run / "exp/RESULTS_units.md").read_text(encoding="utf-8")
    for heading in ("## ABX error (%) of triphones on test, per layer", "## k-means units against the frame labels",
                    "## Spot-the-word accuracy (%) of the unit LMs", "## Discrete-token ASR on test"):
        assert heading in report
    lines = report.splitlines()
    for encoder in ("pretrained multilingual S2P", "phoneme classification FT, ~10 min"):
        assert sum(line.startswith(f"| {encoder} | ") for line in lines) >= 3 + 1  # layers 0-2, and its purity row
    assert any(line.startswith("| fbank (the same encoder size, from scratch) |") for line in lines)
    assert any(line.startswith("| units of phoneme CTC FT, ~10 min, layer 2 (two steps) |") for line in lines)


@pytest.mark.slow
def test_units_labels_and_features_pair_up_frame_by_frame(units_run):
    labels, _ = load_arrays(units_run / "data/units/frame_labels/test/frame_labels.pt", "frame_labels")
    units, meta = load_arrays(units_run / "data/units/frame_ce_l2/units_test.pt", "units")
    features, _ = load_arrays(units_run / "exp/units/frame_ce/layers_test/layer2.pt", "features")
    check_aligned(units, labels, "units vs labels")
    check_aligned(features, labels, "features vs labels")
    assert meta["k"] == 20 and all(int(u.max()) < 20 for u in units.values())


@pytest.mark.slow
def test_the_classification_model_loads_as_an_s2p(units_run):
    am = load_acoustic_model(str(units_run / "exp/frame_ce/final.pt"), None, str(units_run / "data/lang_phone_pl"),
                             torch.device("cpu"))
    phones = (units_run / "data/lang_phone_pl/tokens.txt").read_text(encoding="utf-8").splitlines()
    assert am.model.vocab_size == len(phones)


@pytest.mark.slow
def test_a_rerun_redoes_nothing(units_run):
    before = {p: p.stat().st_mtime for p in (units_run / "exp").rglob("*.pt")}
    run = run_units(units_run)
    assert run.returncode == 0, run.stderr[-4000:]
    assert {p: p.stat().st_mtime for p in before} == before
