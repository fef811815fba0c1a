"""Frame labels from CTC forced alignment: the blank rule, constructed alignments, and the worker end to end."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from lhotse import CutSet

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))  # the synthetic feature corpus

from synthetic import UNITS, write_cuts  # noqa: E402

from phonasr.bin import align_frames  # noqa: E402
from phonasr.models import subsampled_lengths  # noqa: E402
from phonasr.models.stored import model_checkpoint  # noqa: E402
from phonasr.tokenizers import PhonemeTokenizer, save_tokenizer  # noqa: E402
from phonasr.train.ctc_task import CtcTask  # noqa: E402
from phonasr.units.frame_labels import LabelStats, emissions, fill_blanks, label_frames  # noqa: E402
from phonasr.units.store import load_arrays  # noqa: E402
from phonasr.utils.io import atomic_torch_save  # noqa: E402


def test_blank_runs_are_split_at_their_midpoint_within_the_margin():
    path = [0, 0, 0, 3, 0, 0, 0, 0, 5, 5, 0, 3, 0, 0, 0, 0]
    assert emissions(path) == [(3, 4, 3), (8, 10, 5), (11, 12, 3)]
    # the leading run: 2 frames to the first phone, the rest silence; the 4-frame gap 2 + 2; the 1-frame gap to
    # the left phone (odd frames go left); the trailing run: 2 frames to the last phone
    assert fill_blanks(path, margin=2) == [0, 3, 3, 3, 3, 3, 5, 5, 5, 5, 5, 3, 3, 3, 0, 0]
    # a pause longer than two margins keeps silence in its middle; margin 0 leaves the CTC path's spikes
    assert fill_blanks([2, 0, 0, 0, 0, 0, 0, 0, 4], margin=2) == [2, 2, 2, 0, 0, 0, 4, 4, 4]
    assert fill_blanks([2, 0, 0, 0, 4], margin=2) == [2, 2, 2, 4, 4]
    assert fill_blanks([0, 2, 0, 0, 4, 0], margin=0) == [0, 2, 0, 0, 4, 0]
    # a repeated phone (blank between its emissions) and adjacent phones without a blank
    assert fill_blanks([2, 0, 2, 4], margin=1) == [2, 2, 2, 4]
    with pytest.raises(ValueError, match="margin"):
        fill_blanks([1], margin=-1)


def test_stats_count_silence_and_phone_durations():
    stats = LabelStats()
    path = [0, 0, 0, 3, 0, 0, 0, 0, 5, 5, 0, 3, 0, 0, 0, 0]
    stats.add(path, fill_blanks(path, 2), [3, 5, 3])
    assert stats.silence_share() == 3 / 16 and stats.blank_share() == 12 / 16
    assert stats.mean_phone_frames() == 13 / 3
    symbols = ["<blk>", "a", "b", "c", "d", "e"]
    assert stats.per_phone(symbols) == [("c", 2, 4.0), ("e", 1, 5.0)]


def test_forced_alignment_of_constructed_log_probs():
    """Log-posteriors whose best path to [1, 2] is known: frame 4 says 1, frame 8 says 2, the rest blank. Frames
    5-6 prefer symbol 3, which is not in the target: the forced path ignores it (a free decoder would not)."""
    scores = torch.full((1, 12, 4), -8.0)
    scores[0, :, 0] = -0.1
    scores[0, 4, 1] = scores[0, 8, 2] = 0.0
    scores[0, 5:7, 3] = 0.0
    log_probs = scores.log_softmax(-1)
    paths, labels = label_frames(log_probs, torch.tensor([12]), [[1, 2]], margin=2)
    assert paths == [[0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]]
    assert labels == [[0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 0]]


@pytest.fixture
def aligner(tmp_path) -> str:
    """An untrained tiny S2P over the synthetic corpus's phonemes, saved as a checkpoint."""
    lang = tmp_path / "lang"
    save_tokenizer(PhonemeTokenizer.from_units(UNITS), lang)
    config = {"task": "ctc", "tokenizer_dir": str(lang), "model": {"type": "conformer", "preset": "tiny",
                                                                   "num_blocks": 1}}
    task = CtcTask(config, torch.device("cpu"))
    torch.manual_seed(0)
    path = tmp_path / "aligner.pt"
    atomic_torch_save(model_checkpoint(task.build_models(), config, task.checkpoint_metadata()), path)
    return str(path)


def test_worker_labels_every_frame_and_names_the_cuts_it_skips(tmp_path, aligner, capsys):
    cuts = tmp_path / "cuts.jsonl.gz"
    short = write_cuts(cuts, tmp_path / "storage", "xx", "xx", num=4, seed=1, num_short=1)
    align_frames.main(["--num-threads", "1", aligner, str(cuts), str(tmp_path / "out")])
    labels, meta = load_arrays(tmp_path / "out" / "frame_labels.pt", "frame_labels")
    assert sorted(labels) == [f"xx-{i:03d}" for i in range(4)] and meta["skipped"] == short
    assert f"skipping cut '{short[0]}': 2 encoder frames cannot hold its 7 phonemes" in capsys.readouterr().err
    for cut in CutSet.from_file(cuts):
        if cut.id in labels:
            assert labels[cut.id].dtype == torch.long
            assert labels[cut.id].numel() == int(subsampled_lengths(torch.tensor([cut.num_frames]))[0])
    assert meta["symbols"] == ["<blk>", *UNITS] and meta["margin"] == 2 and meta["frame_shift"] == 0.04
    header, silence, *phones = (tmp_path / "out" / "phone_durations.tsv").read_text().splitlines()
    assert header.split("\t") == ["phone", "occurrences", "mean_frames", "mean_ms"]
    assert silence.startswith("<blk>\t0\t") and {row.split("\t")[0] for row in phones} <= set(UNITS)


def test_worker_error_for_a_cut_without_phonemes_is_one_line(tmp_path, aligner, capsys):
    cuts = tmp_path / "cuts.jsonl.gz"
    write_cuts(cuts, tmp_path / "storage", "xx", "xx", num=2, seed=1)
    bare = list(CutSet.from_file(cuts))
    bare[0].supervisions[0].custom = {}
    CutSet.from_cuts(bare).to_file(tmp_path / "bare.jsonl.gz")
    with pytest.raises(SystemExit):
        align_frames.main([aligner, str(tmp_path / "bare.jsonl.gz"), str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "cut 'xx-000' has no phonemes" in err and "\n" not in err
    assert not (tmp_path / "out" / "frame_labels.pt").exists()
