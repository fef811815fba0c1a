"""Feature batches name every cut by its utterance (supervision) id too, which oversampled copies share."""
from __future__ import annotations

from lhotse import CutSet

from phonasr.data.dataset import FeatureBatchDataset


def test_repeated_cuts_keep_their_utterance_ids(feature_corpus):
    cuts = CutSet.from_file(feature_corpus["dev"]).subset(first=2).repeat(2)
    batch = FeatureBatchDataset()[cuts]
    assert sorted(batch["cut_ids"]) == ["dev-000_repeat0", "dev-000_repeat1", "dev-001_repeat0", "dev-001_repeat1"]
    assert sorted(batch["utt_ids"]) == ["dev-000", "dev-000", "dev-001", "dev-001"]
    assert [c.split("_repeat")[0] for c in batch["cut_ids"]] == batch["utt_ids"]
