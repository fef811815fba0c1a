"""The machine ABX test: DTW against hand-computed costs and a pure-Python reference, triphone items from frame
labels, the triples of each condition, the averaging, cases with a known error, and the worker and its stage."""
from __future__ import annotations

import math
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import List, Sequence

import numpy as np
import pytest
import torch
from lhotse import CutSet, MonoCut, SupervisionSegment

from phonasr.bin import abx as abx_worker
from phonasr.units.abx import Cell, Item, abx, abx_cells, average_cells, phone_runs, sample_triples, triphone_items
from phonasr.units.dtw import dtw, frame_distances, length_batches, pair_distances
from phonasr.units.store import save_arrays


def directions(*degrees: float) -> torch.Tensor:
    """Unit 2-d frames at these angles: their angular distance is the angle difference / 180."""
    return torch.tensor([[math.cos(math.radians(d)), math.sin(math.radians(d))] for d in degrees])


def one_pair(x: torch.Tensor, y: torch.Tensor, kind: str) -> float:
    return float(dtw(frame_distances(x[None], y[None], kind), torch.tensor([len(x)]), torch.tensor([len(y)]))[0])


def reference_dtw(x: Sequence[Sequence[float]], y: Sequence[Sequence[float]], kind: str) -> float:
    """Plain DTW: full cost matrix, then a back-trace from the end counting the path's cells."""
    def dist(u, v):
        cos = sum(a * b for a, b in zip(u, v)) / math.sqrt(sum(a * a for a in u) * sum(b * b for b in v))
        cos = max(-1.0, min(1.0, cos))
        return 1 - cos if kind == "cosine" else math.acos(cos) / math.pi

    n, m = len(x), len(y)
    cost = [[math.inf] * m for _ in range(n)]
    for i in range(n):
        for j in range(m):
            before = [cost[i - 1][j - 1] if i and j else math.inf, cost[i][j - 1] if j else math.inf,
                      cost[i - 1][j] if i else math.inf]
            cost[i][j] = dist(x[i], y[j]) + (0.0 if i == j == 0 else min(before))
    i, j, cells = n - 1, m - 1, 1
    while i or j:
        options = [(cost[i - 1][j - 1], i - 1, j - 1) if i and j else None, (cost[i][j - 1], i, j - 1) if j else None,
                   (cost[i - 1][j], i - 1, j) if i else None]
        _, i, j = min((o for o in options if o is not None), key=lambda o: o[0])  # first of equals: diag, left, up
        cells += 1
    return cost[n - 1][m - 1] / cells


# ------------------------------------------------------------------------------------------------- DTW
def test_dtw_hand_computed():
    # x = (0deg, 90deg), y = (0deg, 45deg, 180deg). Angular frame distances [[0, .25, 1], [.5, .25, .5]];
    # cumulative costs [[0, .25, 1.25], [.5, .25, .75]]: the path (0,0) (1,1) (1,2) costs .75 over 3 cells.
    x, y = directions(0, 90), directions(0, 45, 180)
    assert one_pair(x, y, "angular") == pytest.approx(0.25)
    # cosine: [[0, 1 - r, 2], [1, 1 - r, 1]] with r = 1/sqrt(2); the same path costs 2 - r over 3 cells
    assert one_pair(x, y, "cosine") == pytest.approx((2 - 1 / math.sqrt(2)) / 3)
    # one frame against three: the only path visits all three cells, (0 + .5 + 1) / 3
    assert one_pair(directions(0), directions(0, 90, 180), "angular") == pytest.approx(0.5)
    assert one_pair(directions(30), directions(75), "angular") == pytest.approx(0.25)


def test_batched_dtw_matches_the_python_reference_across_lengths():
    gen = torch.Generator().manual_seed(0)
    seqs = [torch.randn(int(torch.randint(1, 7, (1,), generator=gen)), 5, generator=gen) for _ in range(12)]
    frames = torch.cat(seqs)
    lengths = torch.tensor([len(s) for s in seqs])
    spans = torch.stack([torch.cumsum(lengths, 0) - lengths, lengths], dim=1)
    pairs = torch.tensor([(i, j) for i in range(12) for j in range(12)])
    for kind in ("angular", "cosine"):
        got = pair_distances(frames, spans, pairs, kind, batch_pairs=7)  # many batches of mixed lengths
        expected = [reference_dtw(seqs[i].tolist(), seqs[j].tolist(), kind) for i, j in pairs.tolist()]
        assert got.tolist() == pytest.approx(expected, abs=1e-7)
    with pytest.raises(ValueError, match="unknown frame distance"):
        frame_distances(frames[None], frames[None], "euclidean")


def test_length_batches_cover_every_pair_once_within_the_size():
    n = torch.tensor([1, 5, 2, 2, 9, 1, 2, 5, 3, 3])
    m = torch.tensor([2, 5, 2, 8, 1, 1, 2, 4, 3, 9])
    batches = length_batches(n, m, batch_pairs=3)
    assert sorted(torch.cat(batches).tolist()) == list(range(10))
    assert all(1 <= len(b) <= 3 for b in batches)


# ------------------------------------------------------------------------------------------------- items
def test_items_are_phone_runs_with_phone_neighbours():
    labels = torch.tensor([0, 0, 1, 1, 2, 3, 3, 0, 4, 1, 2, 2])
    assert phone_runs(labels) == [(0, 0, 2), (1, 2, 4), (2, 4, 5), (3, 5, 7), (0, 7, 8), (4, 8, 9), (1, 9, 10),
                                  (2, 10, 12)]
    # 3 is next to silence, 4 after it, the last 2 ends the cut: two triphones remain
    assert triphone_items({"c": labels}, {"c": "s"}) == [Item("c", "s", 1, 2, 3, 4, 5), Item("c", "s", 4, 1, 2, 9, 10)]
    assert [(i.start, i.end) for i in triphone_items({"c": labels}, {"c": "s"}, "triphone")] == [(2, 7), (8, 12)]
    with pytest.raises(ValueError, match="cut 'c' has frame labels but is not in the cut manifest"):
        triphone_items({"c": labels}, {})


def item(speaker: str, centre: int, prev: int = 1, nxt: int = 3) -> Item:
    return Item("cut", speaker, prev, centre, nxt, 0, 1)


def triples_of(items: List[Item], context: str, speaker: str) -> set:
    rng = np.random.default_rng(0)
    return {tuple(t) for c in abx_cells(items, context, speaker) for t in sample_triples(c, 100, rng).tolist()}


def test_triples_within_and_across_speaker():
    items = [item("s1", 2), item("s1", 2), item("s2", 2), item("s1", 5), item("s2", 5), item("s1", 5, prev=4)]
    # within: X is another occurrence of A's phone by A's speaker; s1's single in-context 5 cannot be an A
    assert triples_of(items, "within", "within") == {(0, 3, 1), (1, 3, 0)}
    # across: A and B one speaker's, X the other's
    assert triples_of(items, "within", "across") == {(0, 3, 2), (1, 3, 2), (3, 0, 4), (3, 1, 4), (2, 4, 0),
                                                     (2, 4, 1), (4, 2, 3)}
    # any context: item 5 (another left context) joins as an A, B and X of s1
    assert triples_of(items, "any", "within") == {(0, 3, 1), (1, 3, 0), (0, 5, 1), (1, 5, 0), (3, 0, 5),
                                                  (3, 1, 5), (5, 0, 3), (5, 1, 3)}
    assert len(abx_cells(items, "within", "across")) == 4


def test_a_large_cell_keeps_max_triples_distinct_valid_triples_repeatably():
    cell = Cell(None, ("s",), 1, 2, np.arange(10), np.arange(10, 30), None)
    draw = sample_triples(cell, 50, np.random.default_rng(3))
    assert draw.shape == (50, 3) and len({tuple(t) for t in draw.tolist()}) == 50
    assert all(a < 10 <= b and x < 10 and x != a for a, b, x in draw.tolist())
    assert np.array_equal(draw, sample_triples(cell, 50, np.random.default_rng(3)))


def test_averaging_is_over_contexts_then_speakers_then_phone_pairs():
    def cell(context, speaker, a, b):
        return Cell(context, (speaker,), a, b, np.arange(2), np.arange(1), None)

    cells = [cell("c1", "s1", 1, 2), cell("c2", "s1", 1, 2), cell("c1", "s2", 1, 2), cell("c1", "s1", 2, 1)]
    # (1,2): s1 = mean(0, 1) = .5, s2 = 1 -> .75; (2,1): 0 -> (.75 + 0) / 2; pooling all cells would give .5
    assert average_cells(cells, [0.0, 1.0, 1.0, 0.0]) == pytest.approx(0.375)


# ------------------------------------------------------------------------------------------------- known errors
def test_three_items_hand_computed():
    # A phone-1 items at 0deg and 30deg, a phone-2 item at 50deg. The triples (A=0, B=50, X=30): 30 > 20, wrong;
    # (A=30, B=50, X=0): 30 < 50, right. One cell, error 1/2.
    items = [Item("c", "s", 7, 1, 8, 0, 1), Item("c", "s", 7, 1, 8, 1, 2), Item("c", "s", 7, 2, 8, 2, 3)]
    result = abx({"c": directions(0, 30, 50)}, items, [("within", "within")])[0]
    assert (result.error, result.triples, result.cells) == (0.5, 2, 1)


def random_items(count: int, seed: int) -> List[Item]:
    rng = random.Random(seed)
    return [Item(f"c{k}", f"s{k % 3}", rng.choice([1, 2]), rng.choice([3, 4, 5]), rng.choice([1, 2]), 0,
                 rng.randint(1, 4)) for k in range(count)]


def test_features_that_encode_the_centre_phone_score_0_and_independent_ones_about_half():
    items = random_items(120, 0)
    one_hot = {i.cut: torch.nn.functional.one_hot(torch.full((i.end,), i.centre), 8).float() for i in items}
    noise = {i.cut: torch.randn(i.end, 8, generator=torch.Generator().manual_seed(k)) for k, i in enumerate(items)}
    constant = {i.cut: torch.ones(i.end, 8) for i in items}
    for r in abx(one_hot, items):
        assert r.error == 0.0 and r.triples > 0
    for r in abx(noise, items, max_triples=200):
        assert abs(r.error - 0.5) < 0.08, r
    for r in abx(constant, items):  # every triple a tie
        assert r.error == 0.5


def test_missing_or_short_features_name_the_cut():
    items = [item("s", 2), item("s", 2)]
    with pytest.raises(ValueError, match="cut 'cut' has frame labels but no features"):
        abx({}, items)
    with pytest.raises(ValueError, match="cut 'cut' has 0 feature frames"):
        abx({"cut": torch.zeros(0, 4)}, items)


# ------------------------------------------------------------------------------------------------- worker
def write_inputs(tmp_path: Path, frames_of_b: int = 9):
    """Two speakers' cuts with repeated triphones, their frame labels, and one-hot features of the labels."""
    labels = {"a": torch.tensor([0, 1, 2, 2, 3, 1, 4, 3, 0]), "b": torch.tensor([1, 2, 3, 1, 4, 3, 1, 2, 3])}
    cuts = CutSet.from_cuts(MonoCut(cut_id, 0.0, 1.0, 0, supervisions=[
        SupervisionSegment(cut_id, cut_id, 0.0, 1.0, speaker=f"spk_{cut_id}")]) for cut_id in labels)
    cuts.to_file(tmp_path / "cuts.jsonl.gz")
    save_arrays(tmp_path / "labels.pt", "frame_labels", labels, {})
    feats = {k: torch.nn.functional.one_hot(v, 5).half() for k, v in labels.items()}
    feats["b"] = feats["b"][:frames_of_b]
    save_arrays(tmp_path / "layer3.pt", "features", feats, {"layer": 3})
    return [str(tmp_path / n) for n in ("labels.pt", "cuts.jsonl.gz")], str(tmp_path / "layer3.pt")


def test_worker_writes_the_table(tmp_path):
    inputs, features = write_inputs(tmp_path)
    abx_worker.main([*inputs, str(tmp_path / "out"), features])
    rows = [line.split("\t") for line in (tmp_path / "out" / "abx.tsv").read_text().splitlines()]
    assert rows[0] == list(abx_worker.HEADER)
    assert [r[:3] for r in rows[1:]] == [["3", c, s] for c in ("within", "any") for s in ("within", "across")]
    assert all(r[3] == "0.0000" for r in rows[1:] if r[5] != "0")
    assert (tmp_path / "out" / "abx.versions.json").is_file()


def test_worker_states_misaligned_features_in_one_line(tmp_path, capsys):
    inputs, features = write_inputs(tmp_path, frames_of_b=8)
    with pytest.raises(SystemExit) as exit_:
        abx_worker.main([*inputs, str(tmp_path / "out"), features])
    assert exit_.value.code == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]  # after the log lines, no traceback
    assert last.startswith("error: ") and "cut 'b' has 8 frames in one file and 9" in last


def test_stage_runs_once(repo_root, tmp_path):
    inputs, features = write_inputs(tmp_path)
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}",
           "PYTHONPATH": str(repo_root)}
    cmd = ["bash", "steps/abx.sh", "--device", "cpu", *inputs, str(tmp_path / "out"), features]
    first = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "out" / "abx.tsv").is_file() and (tmp_path / "out" / ".abx.done").is_file()
    second = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True)
    assert second.returncode == 0 and "skipping" in second.stderr
    bad = subprocess.run(cmd[:-1] + [str(tmp_path / "nope.pt")], cwd=repo_root, env=env, capture_output=True,
                         text=True)
    assert bad.returncode != 0 and "nope.pt does not exist" in bad.stderr
