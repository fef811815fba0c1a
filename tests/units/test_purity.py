"""Purity and PNMI against a 2-phone x 3-unit count matrix computed by hand."""
from __future__ import annotations

import math

import pytest
import torch

from phonasr.bin import unit_quality
from phonasr.tokenizers import PhonemeTokenizer, save_tokenizer
from phonasr.units.purity import joint_counts, load_frame_units, per_phone, quality
from phonasr.units.store import save_arrays

# Two cuts whose speech frames give counts[phone, unit] = [[3, 1, 0], [1, 0, 3]] for phones 1, 2 (row 0 = silence:
# two frames, both in unit 2).
UNITS = {"a": torch.tensor([0, 0, 0, 1, 2, 0]), "b": torch.tensor([2, 2, 2, 2])}
LABELS = {"a": torch.tensor([1, 1, 1, 1, 0, 2]), "b": torch.tensor([2, 2, 2, 0])}


def test_joint_counts_with_and_without_silence():
    assert joint_counts(UNITS, LABELS).tolist() == [[0, 0, 2], [3, 1, 0], [1, 0, 3]]
    assert joint_counts(UNITS, LABELS, exclude_silence=True).tolist() == [[0, 0, 0], [3, 1, 0], [1, 0, 3]]


def test_purities_and_pnmi_match_the_hand_computed_values():
    q = quality(joint_counts(UNITS, LABELS, exclude_silence=True))
    # phone purity: unit maxima 3 + 1 + 3 over 8 frames; cluster purity: phone maxima 3 + 3 over 8
    assert q.frames == 8 and q.phone_purity == pytest.approx(7 / 8) and q.cluster_purity == pytest.approx(6 / 8)
    # I = 3/8 ln 1.5 + 1/8 ln 2 + 1/8 ln 0.5 + 3/8 ln 2 = 3/8 ln 3; H(phone) = ln 2 (4 frames each)
    assert q.pnmi == pytest.approx(3 / 8 * math.log(3) / math.log(2))


def test_units_that_determine_phones_have_pnmi_one_and_independent_units_zero():
    assert quality(torch.tensor([[4, 0, 0], [0, 2, 2]])).pnmi == pytest.approx(1.0)
    assert quality(torch.tensor([[2, 2], [1, 1]])).pnmi == pytest.approx(0.0, abs=1e-12)


def test_per_phone_names_the_dominant_unit():
    assert per_phone(torch.tensor([[0, 0, 0], [3, 1, 0], [1, 0, 3]])) == [(1, 4, 0, 0.75), (2, 4, 2, 0.75)]


def test_deduplicated_units_are_refused(tmp_path):
    save_arrays(tmp_path / "units.pt", "units", {"a": torch.tensor([0, 1])}, {"k": 2, "deduplicated": True})
    save_arrays(tmp_path / "labels.pt", "frame_labels", {"a": torch.tensor([1, 1, 2])}, {})
    with pytest.raises(ValueError, match="deduplicated unit runs"):
        load_frame_units(tmp_path / "units.pt", tmp_path / "labels.pt")
    save_arrays(tmp_path / "units.pt", "units", {"a": torch.tensor([0, 1])}, {"k": 2})
    with pytest.raises(ValueError, match="cut 'a' has 2 frames in one file and 3"):
        load_frame_units(tmp_path / "units.pt", tmp_path / "labels.pt")


def test_unit_quality_writes_the_figures_and_names_phones(tmp_path):
    save_tokenizer(PhonemeTokenizer.from_units(["a", "b"]), tmp_path / "lang")
    save_arrays(tmp_path / "units.pt", "units", UNITS, {"k": 3})
    save_arrays(tmp_path / "labels.pt", "frame_labels", LABELS, {"lang_dir": str(tmp_path / "lang")})
    unit_quality.main([str(tmp_path / "units.pt"), str(tmp_path / "labels.pt"), str(tmp_path / "q"),
                       "--exclude-silence", "true"])
    header, row = [line.split("\t") for line in (tmp_path / "q" / "purity.tsv").read_text().splitlines()]
    figures = dict(zip(header, row))
    assert figures["phone_purity"] == "0.8750" and figures["cluster_purity"] == "0.7500"
    assert figures["pnmi"] == f"{3 / 8 * math.log2(3):.4f}" and figures["frames"] == "8" and figures["k"] == "3"
    assert (tmp_path / "q" / "purity_phones.tsv").read_text().splitlines()[1:] == ["a\t4\t0\t0.7500",
                                                                                   "b\t4\t2\t0.7500"]
    save_arrays(tmp_path / "units.pt", "units", UNITS, {"k": 3, "deduplicated": True})
    with pytest.raises(SystemExit, match="^error: .*deduplicated"):
        unit_quality.main([str(tmp_path / "units.pt"), str(tmp_path / "labels.pt"), str(tmp_path / "q")])
