"""Feature batches: utterance ids of oversampled copies, and every DDP rank getting the same number of batches."""
from __future__ import annotations

import pytest
from lhotse import CutSet
from lhotse.dataset import DynamicBucketingSampler

from phonasr.batching.cuts import FeatureBatchDataset, ResumableSampler, make_loader, make_sampler, rank_share


def test_repeated_cuts_keep_their_utterance_ids(feature_corpus):
    cuts = CutSet.from_file(feature_corpus["dev"]).subset(first=2).repeat(2)
    batch = FeatureBatchDataset()[cuts]
    assert sorted(batch["cut_ids"]) == ["dev-000_repeat0", "dev-000_repeat1", "dev-001_repeat0", "dev-001_repeat1"]
    assert sorted(batch["utt_ids"]) == ["dev-000", "dev-000", "dev-001", "dev-001"]
    assert [c.split("_repeat")[0] for c in batch["cut_ids"]] == batch["utt_ids"]


@pytest.mark.parametrize("num, world_size", [(7, 2), (8, 2), (7, 3), (1, 3), (2, 4), (0, 2)])
def test_rank_share_gives_every_rank_the_same_number_of_batches(num, world_size):
    shares = [list(rank_share(iter(range(num)), world_size, rank)) for rank in range(world_size)]
    rounds = -(-num // world_size)
    assert [len(s) for s in shares] == [rounds] * world_size
    dealt = [shares[rank][r] for r in range(rounds) for rank in range(world_size)]
    assert dealt[:num] == list(range(num))                   # every batch once, in stream order
    assert set(dealt[num:]) <= set(range(min(num, world_size - 1)))  # the last round is padded with first batches
    with pytest.raises(ValueError, match="rank 2 outside a world of 2"):
        list(rank_share(iter(range(3)), 2, 2))


def test_ranks_share_one_batch_stream_evenly_and_resume_inside_it(feature_corpus):
    """An odd number of batches: lhotse's own split would be left to decide what the second rank does in the
    last round; here each rank runs the same number of steps on the single-process stream's batches."""
    cuts = CutSet.from_file(feature_corpus["train"][0])

    def epoch(world_size: int, rank: int, skip: int = 0) -> list:
        sampler = ResumableSampler(make_sampler(cuts, 4.0, True, 2, seed=5), world_size, rank)
        sampler.start_epoch(2, skip)
        return [sorted(c.id for c in batch) for batch in sampler]

    single = epoch(1, 0)
    assert len(single) % 2 == 1, "the corpus must give an odd number of batches for this test"
    rank0, rank1 = epoch(2, 0), epoch(2, 1)
    assert len(rank0) == len(rank1) == (len(single) + 1) // 2
    assert rank0 == single[0::2] and rank1 == single[1::2] + [single[0]]
    assert epoch(2, 1, skip=2) == rank1[2:]
    with pytest.raises(ValueError, match="world_size=1"):  # lhotse must not split the stream a second time
        ResumableSampler(DynamicBucketingSampler(cuts, max_duration=4.0, world_size=2, rank=0), 2, 0)


def test_a_loader_with_workers_resumes_after_the_skipped_batches(feature_corpus):
    """A DataLoader with workers calls iter() on its sampler twice and draws from the second iterator: the skip
    of a resumed epoch must survive the first call (it once did not, and a killed run replayed its epoch)."""
    cuts = CutSet.from_file(feature_corpus["train"][0])
    sampler = ResumableSampler(make_sampler(cuts, 4.0, True, 2, seed=5))
    loader = make_loader(sampler, num_workers=1, seed=5)
    sampler.start_epoch(2)
    whole = [batch["cut_ids"] for batch in loader]
    sampler.start_epoch(2, skip_batches=2)
    assert len(whole) > 2 and [batch["cut_ids"] for batch in loader] == whole[2:]
