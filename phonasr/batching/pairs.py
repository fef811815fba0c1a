"""Token-sequence pairs for the P2G and G2P: TSV pair files, length filters, token-bucketed resumable batches.

A pair file has one pair per line, ``utt_id<TAB>input<TAB>output``: for SPG init the input is the S2P's decoded
phonemes (space-separated units) and the output the utterance's text. The G2P reads the same file the other way
round (``reverse=True``: text in, phonemes out), so both models train on exactly the same pairs. P2G
augmentation (S2P n-best hypotheses, true text) and language-domain adaptation (G2P phonemes of new text, text)
write the same format.

Batches hold pairs of similar input length, at most ``max_tokens`` padded input tokens each (batch size x
longest input); their order is a pure function of (seed, epoch), so a resumed run skips exactly the batches the
interrupted run consumed, as the feature sampler does.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from phonasr.batching.cuts import Batch, rank_share
from phonasr.batching.padding import pad_ids

COLUMNS = ("utt_id", "input", "output")
PathLike = Union[str, Path]


@dataclass(frozen=True)
class TextPair:
    utt_id: str
    input: str
    output: str
    where: str   # "<file>:<line>", for error messages about this pair


def read_pairs(path: PathLike, reverse: bool = False) -> List[TextPair]:
    """All pairs of a TSV pair file; ``reverse`` swaps input and output (the G2P reads the P2G's file).

    Blank lines are skipped; a line with another number of columns or an empty field is an error naming the
    file and line, since a silently skipped pair would hide a broken writer upstream.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pair file {path} not found; run the stage that writes it or fix data.train/dev")
    pairs: List[TextPair] = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) != len(COLUMNS):
                raise ValueError(f"{path}:{lineno}: expected {len(COLUMNS)} tab-separated columns "
                                 f"({', '.join(COLUMNS)}), got {len(fields)}: {line[:100]!r}")
            empty = [name for name, value in zip(COLUMNS, fields) if not value.strip()]
            if empty:
                raise ValueError(f"{path}:{lineno}: empty {' and '.join(empty)} field; every pair needs an "
                                 f"utterance id, an input and an output: {line[:100]!r}")
            utt_id, source, target = (value.strip() for value in fields)
            if reverse:
                source, target = target, source
            pairs.append(TextPair(utt_id, source, target, f"{path}:{lineno}"))
    if not pairs:
        raise ValueError(f"pair file {path} holds no pairs")
    return pairs


def pair_files(entries: Union[PathLike, Sequence[PathLike]]) -> List[Path]:
    """``data.train`` / ``data.dev`` of a token task: one pair file or a list of them."""
    files = [entries] if isinstance(entries, (str, Path)) else list(entries or [])
    if not files:
        raise ValueError("no pair files given: set data.train and data.dev to TSV pair files")
    return [Path(f) for f in files]


def violates_margin(input_len: int, output_len: int, margin: Optional[int]) -> bool:
    """The reference's P2G/G2P pair filter: keep only len(input) > len(output) + margin (None: no filter)."""
    return margin is not None and input_len <= output_len + margin


@dataclass(frozen=True)
class TokenPair:
    """An encoded pair; ``output_text`` is the reference the dev error rate is scored against."""

    utt_id: str
    input_ids: Tuple[int, ...]
    output_ids: Tuple[int, ...]
    output_text: str


class PairBatchDataset(torch.utils.data.Dataset):
    """Map-style dataset: a list of pair indices (one sampler batch) -> a padded batch, longest input first.

    Output: ``inputs`` (B, L) long zero-padded, ``input_lens`` (B,), ``targets`` (B lists of output ids),
    ``utt_ids`` and ``references`` (the output texts).
    """

    def __init__(self, pairs: Sequence[TokenPair]) -> None:
        self.pairs = list(pairs)

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, indices: Sequence[int]) -> Batch:
        items = sorted((self.pairs[i] for i in indices), key=lambda p: len(p.input_ids), reverse=True)
        inputs, input_lens = pad_ids([p.input_ids for p in items])
        return {"inputs": inputs, "input_lens": input_lens, "targets": [list(p.output_ids) for p in items],
                "utt_ids": [p.utt_id for p in items], "references": [p.output_text for p in items]}


class PairBatchSampler(torch.utils.data.Sampler):
    """Length-bucketed batches of pair indices, at most ``max_tokens`` padded input tokens each.

    Per epoch (with ``shuffle``): the pairs, sorted by input length, are cut into ``num_buckets`` buckets of
    equal size; each bucket is shuffled and cut greedily into batches; the batches of all buckets are shuffled.
    Without ``shuffle`` (dev sets) the batches follow the length order. A pair longer than ``max_tokens`` is a
    batch of its own. Under DDP every rank builds the same list (same seed) and takes its share of it
    (:func:`phonasr.batching.cuts.rank_share`: every rank the same number of batches, even with fewer batches than
    ranks).
    """

    def __init__(self, lengths: Sequence[int], max_tokens: int, shuffle: bool, num_buckets: int, seed: int,
                 world_size: int = 1, rank: int = 0) -> None:
        super().__init__()
        if max_tokens < 1 or num_buckets < 1:
            raise ValueError(f"need max_tokens >= 1 and num_buckets >= 1, got {max_tokens} and {num_buckets}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside a world of {world_size}")
        if not lengths:
            raise ValueError("no pairs to batch")
        self.lengths = [int(n) for n in lengths]
        self.max_tokens = max_tokens
        self.shuffle = shuffle
        self.num_buckets = num_buckets
        self.seed = seed
        self.world_size = world_size
        self.rank = rank
        self.epoch = 1
        self._skip = 0

    def start_epoch(self, epoch: int, skip_batches: int = 0) -> None:
        self.epoch = epoch
        self._skip = skip_batches

    def settings(self) -> Dict[str, Any]:
        return {"max_tokens": self.max_tokens, "num_buckets": self.num_buckets, "shuffle": self.shuffle,
                "seed": self.seed, "world_size": self.world_size, "num_pairs": len(self.lengths)}

    def epoch_batches(self, epoch: int) -> List[List[int]]:
        """This rank's batches of ``epoch``, in order."""
        by_length = sorted(range(len(self.lengths)), key=lambda i: (self.lengths[i], i))
        if not self.shuffle:
            batches = self._greedy(by_length)
        else:
            rng = np.random.default_rng([self.seed, epoch])
            batches = []
            for bucket in np.array_split(np.array(by_length), min(self.num_buckets, len(by_length))):
                batches.extend(self._greedy(rng.permutation(bucket).tolist()))
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return list(rank_share(batches, self.world_size, self.rank))

    def _greedy(self, order: Sequence[int]) -> List[List[int]]:
        batches: List[List[int]] = []
        batch: List[int] = []
        longest = 0
        for i in order:
            n = self.lengths[i]
            if batch and (len(batch) + 1) * max(longest, n) > self.max_tokens:
                batches.append(batch)
                batch, longest = [], 0
            batch.append(i)
            longest = max(longest, n)
        if batch:
            batches.append(batch)
        return batches

    def __iter__(self) -> Iterator[List[int]]:
        skip, self._skip = self._skip, 0
        yield from self.epoch_batches(self.epoch)[skip:]



def make_pair_loader(pairs: Sequence[TokenPair], sampler: PairBatchSampler, num_workers: int,
                     seed: int) -> torch.utils.data.DataLoader:
    """Batches of ``pairs`` in the order of ``sampler`` (collated in ``num_workers`` processes; 0 = inline).

    The loader's own generator keeps ``iter(loader)`` from drawing on torch's global generator, which would
    shift the dropout masks of a resumed run (it starts its epoch iterator at another moment).
    """
    return torch.utils.data.DataLoader(PairBatchDataset(pairs), sampler=sampler, batch_size=None,
                                       num_workers=num_workers, persistent_workers=False,
                                       generator=torch.Generator().manual_seed(seed))
