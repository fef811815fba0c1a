"""utils/split_manifest.sh + phonasr.bin.split_manifest on a real lhotse cut manifest."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
from lhotse import CutSet, MonoCut, Recording, SupervisionSegment
from lhotse.audio import AudioSource

from phonasr.bin.split_manifest import split_manifest

UTILS = Path(__file__).resolve().parents[2] / "utils"


def write_cuts(path: Path, num: int) -> list[str]:
    cuts = []
    for i in range(num):
        rec = Recording(id=f"rec{i:03d}", sources=[AudioSource(type="file", channels=[0], source=f"/a/{i}.wav")],
                        sampling_rate=16000, num_samples=16000, duration=1.0)
        sup = SupervisionSegment(id=f"utt{i:03d}", recording_id=rec.id, start=0, duration=1.0, text=f"zdanie {i}",
                                 language="pl", speaker="spk1")
        cuts.append(MonoCut(id=f"utt{i:03d}", start=0, duration=1.0, channel=0, recording=rec, supervisions=[sup]))
    CutSet.from_cuts(cuts).to_file(path)
    return [c.id for c in cuts]


@pytest.fixture
def split(run_cmd, tmp_path):
    """Runs the script as a recipe would: with path.sh's environment (venv python, PYTHONPATH), as pytest has."""
    return lambda *args: run_cmd(["bash", str(UTILS / "split_manifest.sh"), *args], cwd=tmp_path)


def test_every_cut_in_exactly_one_piece_in_order(split, tmp_path):
    ids = write_cuts(tmp_path / "cuts.jsonl.gz", 10)
    proc = split(str(tmp_path / "cuts.jsonl.gz"), "3", str(tmp_path / "exp"))
    assert proc.returncode == 0, proc.stderr
    pieces = [CutSet.from_file(tmp_path / f"exp/split3/cuts.{i}.jsonl.gz") for i in (1, 2, 3)]
    assert [len(p) for p in pieces] == [4, 3, 3]
    assert [c.id for p in pieces for c in p] == ids
    assert pieces[1][0].supervisions[0].text == "zdanie 4"
    assert not list((tmp_path / "exp/split3").glob("*.tmp*"))


# The cases below call the worker in-process: each extra `python -m` would pay the torch import again.

def test_rerun_is_a_no_op_until_the_manifest_changes(tmp_path, caplog):
    manifest = tmp_path / "cuts.jsonl.gz"
    write_cuts(manifest, 4)
    pieces = split_manifest(manifest, 2, tmp_path / "split2")
    first_mtime = pieces[0].stat().st_mtime_ns
    with caplog.at_level(logging.INFO):
        assert split_manifest(manifest, 2, tmp_path / "split2") == pieces
    assert "nothing to do" in caplog.text
    assert pieces[0].stat().st_mtime_ns == first_mtime
    write_cuts(manifest, 6)
    split_manifest(manifest, 2, tmp_path / "split2")
    assert len(CutSet.from_file(pieces[0])) == 3


def test_errors(split, tmp_path):
    manifest = tmp_path / "cuts.jsonl.gz"
    write_cuts(manifest, 2)
    with pytest.raises(ValueError, match="has 2 items, too few for 3 pieces; use at most 2 jobs"):
        split_manifest(manifest, 3, tmp_path / "split3")
    assert not (tmp_path / "split3/cuts.1.jsonl.gz").exists()
    (tmp_path / "bad.jsonl").write_text('{"id": "a"}\nnot json\n')
    with pytest.raises(ValueError, match="bad.jsonl line 2 is not JSON"):
        split_manifest(tmp_path / "bad.jsonl", 1, tmp_path / "split1")
    proc = split(str(manifest), "0", "exp")
    assert proc.returncode == 1
    assert "positive whole number" in proc.stderr
