"""TSV pair files and their token-bucketed, resumable batch sampler (the data of the P2G/G2P token task)."""
from __future__ import annotations

import collections

import pytest
import torch

from phonasr.batching.pairs import PairBatchDataset, PairBatchSampler, TokenPair, read_pairs, violates_margin


def test_reads_pairs_and_reverses_them_for_the_g2p(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("u1\ta l a\tala\n\nu2\tt o\tto\r\n", encoding="utf-8")
    p2g = read_pairs(path)
    assert [(p.utt_id, p.input, p.output) for p in p2g] == [("u1", "a l a", "ala"), ("u2", "t o", "to")]
    assert p2g[1].where == f"{path}:3"
    g2p = read_pairs(path, reverse=True)
    assert [(p.utt_id, p.input, p.output) for p in g2p] == [("u1", "ala", "a l a"), ("u2", "to", "t o")]


@pytest.mark.parametrize("line, message", [
    ("u1\ta l a", r"pairs.tsv:2: expected 3 tab-separated columns \(utt_id, input, output\), got 2"),
    ("u1\ta\tb\tc", r"pairs.tsv:2: expected 3 .* got 4"),
    ("u1\t \tala", r"pairs.tsv:2: empty input field"),
    ("\ta l a\t", r"pairs.tsv:2: empty utt_id and output field"),
])
def test_bad_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "pairs.tsv"
    path.write_text(f"u0\ta\tb\n{line}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        read_pairs(path)


def test_missing_and_empty_files_are_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.tsv"):
        read_pairs(tmp_path / "nope.tsv")
    (tmp_path / "empty.tsv").write_text("\n")
    with pytest.raises(ValueError, match="holds no pairs"):
        read_pairs(tmp_path / "empty.tsv")


def test_margin_is_the_reference_filter():
    assert not violates_margin(6, 3, 2) and violates_margin(5, 3, 2) and not violates_margin(1, 9, None)


LENGTHS = [3, 9, 4, 12, 5, 5, 7, 2, 8, 6, 11, 3, 4, 10, 6, 7, 30]


def sampler(**kw) -> PairBatchSampler:
    args = dict(lengths=LENGTHS, max_tokens=24, shuffle=True, num_buckets=3, seed=5)
    args.update(kw)
    return PairBatchSampler(**args)


def test_batches_respect_the_token_budget_and_cover_every_pair_once():
    s = sampler()
    for epoch in (1, 2):
        batches = s.epoch_batches(epoch)
        assert sorted(i for b in batches for i in b) == list(range(len(LENGTHS)))
        for b in batches:
            assert len(b) * max(LENGTHS[i] for i in b) <= 24 or len(b) == 1  # an over-long pair rides alone
    assert s.epoch_batches(1) != s.epoch_batches(2)  # reshuffled per epoch
    dev = sampler(shuffle=False)
    assert dev.epoch_batches(1) == dev.epoch_batches(2)


def test_resume_skips_exactly_the_consumed_batches():
    full = sampler()
    full.start_epoch(2)
    epoch2 = list(full)
    resumed = sampler()  # a new process: same seed, nothing carried over but (epoch, batches consumed)
    resumed.start_epoch(2, skip_batches=3)
    assert list(resumed) == epoch2[3:]
    assert list(resumed) == epoch2  # the skip applies to one iteration only
    assert resumed.settings() == full.settings()


def test_ranks_get_equally_many_batches_that_together_cover_the_epoch():
    ranks = [sampler(world_size=3, rank=r).epoch_batches(1) for r in range(3)]
    assert len({len(r) for r in ranks}) == 1
    visits = collections.Counter(i for r in ranks for b in r for i in b)
    assert set(visits) == set(range(len(LENGTHS)))


def test_fewer_batches_than_ranks_still_give_every_rank_a_batch():
    # one batch and four ranks: a rank without a batch would leave the others waiting in DDP's all-reduce
    ranks = [sampler(max_tokens=10_000, num_buckets=1, world_size=4, rank=r).epoch_batches(1) for r in range(4)]
    assert [len(r) for r in ranks] == [1, 1, 1, 1]


def test_dataset_pads_inputs_longest_first():
    pairs = [TokenPair("a", (1, 2), (3,), "x"), TokenPair("b", (4, 5, 6), (7, 8), "y z")]
    batch = PairBatchDataset(pairs)[[0, 1]]
    assert batch["utt_ids"] == ["b", "a"] and batch["references"] == ["y z", "x"]
    assert torch.equal(batch["inputs"], torch.tensor([[4, 5, 6], [1, 2, 0]]))
    assert batch["input_lens"].tolist() == [3, 2] and batch["targets"] == [[7, 8], [3]]
