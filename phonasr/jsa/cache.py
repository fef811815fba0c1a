"""Per-utterance cache of accepted phoneme samples: the memory of JSA's Markov chains across epochs.

In JSA as published (Ou & Song 2020) the chain of an utterance is not restarted each time the utterance is seen:
it continues from the sample accepted for it in the previous epoch, so over training it keeps mixing towards the
posterior instead of starting again from a G2P proposal. The reference recipe restarts every minibatch; that is
``persistent=False`` here, where the cache still records the latest samples so that the same statistics (how
many changed, their PER against true phonemes) can be compared between the two modes.

Under DDP every rank holds the same, global cache: the sampler deals an utterance to different ranks in different
epochs, so the JSA task all-gathers each step's new states and applies them on every rank in rank order. The
state dict is plain data (a list of ids and two integer tensors), saved once per checkpoint, so it goes into the
trainer's checkpoint with ``weights_only=True`` loading, and a resumed run (with any number of processes)
continues every chain where it stopped.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import torch

_FORMAT = 1


class SampleCache:
    """Maps utterance id -> the phoneme id sequence its chain holds."""

    def __init__(self, persistent: bool = True) -> None:
        self.persistent = persistent
        self._entries: Dict[str, Tuple[int, ...]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, utt_id: str) -> bool:
        return utt_id in self._entries

    def get(self, utt_id: str) -> Optional[List[int]]:
        """The sample recorded for ``utt_id``, or None if it was never seen."""
        entry = self._entries.get(utt_id)
        return list(entry) if entry is not None else None

    def chain_start(self, utt_id: str) -> Optional[List[int]]:
        """Where the chain of ``utt_id`` starts this time: its cached sample, or None when chains restart."""
        return self.get(utt_id) if self.persistent else None

    def update(self, entries: Iterable[Tuple[str, Sequence[int]]]) -> None:
        """Record new chain states, (utterance id, phoneme ids) pairs applied in order (a later one wins)."""
        for utt_id, state in entries:
            self._entries[utt_id] = tuple(int(t) for t in state)

    def items(self) -> Iterable[Tuple[str, List[int]]]:
        return ((k, list(v)) for k, v in self._entries.items())

    def state_dict(self) -> dict:
        """Plain data: ids, per-entry lengths and all phonemes concatenated (compact for large corpora)."""
        utt_ids = list(self._entries)
        lengths = torch.tensor([len(self._entries[u]) for u in utt_ids], dtype=torch.long)
        phones = torch.tensor([t for u in utt_ids for t in self._entries[u]], dtype=torch.long)
        return {"format": _FORMAT, "utt_ids": utt_ids, "lengths": lengths, "phones": phones}

    def load_state_dict(self, state: dict) -> None:
        if state.get("format") != _FORMAT:
            raise ValueError(f"sample cache of format {state.get('format')!r}; this phonasr reads format {_FORMAT}")
        utt_ids, lengths, phones = state["utt_ids"], state["lengths"], state["phones"]
        if len(utt_ids) != len(lengths) or int(lengths.sum()) != len(phones):
            raise ValueError(f"corrupt sample cache: {len(utt_ids)} ids, {len(lengths)} lengths, "
                             f"{int(lengths.sum())} phonemes expected but {len(phones)} stored")
        pieces = torch.split(phones, lengths.tolist())
        self._entries = {u: tuple(p.tolist()) for u, p in zip(utt_ids, pieces)}
