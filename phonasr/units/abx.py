"""Machine ABX discrimination of phoneme triphones on frame features (ZeroSpeech 2021 / Libri-light, and the
"any-context" condition of Hallap et al. 2022 that seed 001 reports).

Items. A phone occurrence is a maximal run of equal non-silence frame labels (so a doubled phone is one
occurrence); a triphone item is an occurrence whose neighbouring runs are phones too (an occurrence next to
silence or a cut's edge has no triphone and is no item): (previous, centre, next phone, speaker, cut, frames).
An item's frames are the centre phone's only by default (``span="phone"``), not the whole triphone as ZeroSpeech
2021 takes them (``span="triphone"``): in the any-context condition A and X differ in their contexts, and with the
context's frames inside the items the test would measure how alike the contexts are rather than how context-free
the centre phone's representation is (why Hallap et al., who introduced the any-context condition, take the
centre phone's frames). Both conditions use the same items, so within- and any-context errors compare; on the mini
test set the triphone span gave 2-5x the errors of the phone span at layer 2.

Triples. X has A's centre phone, B another one. Within-context: A, B, X share the previous and next phone;
any-context: the contexts are free. Within-speaker: A, B, X are one speaker's, X a different occurrence than A;
across-speaker: A and B are one speaker's, X another speaker's. A cell is (context, speaker(s), A's phone,
B's phone) with every such triple in it; one that holds more than ``max_triples`` keeps that many, drawn without
replacement from a generator seeded with (seed, condition): cells are visited in sorted order, and a condition run
alone draws the same triples as in a run of all four. On the mini test set (3569 items) 100 triples per cell moved
the any-context errors by < 0.05 points against 1000 and took a quarter of the time.

Score. A triple is an error when d(A, X) > d(B, X), half an error on a tie (:mod:`phonasr.units.dtw` distances).
A cell's error is the mean over its triples; as Libri-light does, cell errors are averaged over contexts (for each
speaker or speaker pair and phone pair), those over speakers or speaker pairs (for each phone pair), and those over
the ordered phone pairs, so (a, b) and (b, a) both count: the symmetric average. Any-context has one context.

Each distance is computed once per run, however many triples and conditions use it: the pairs of all conditions
are collected, deduplicated (lower item index first), and measured in large DTW batches.
"""
from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, Hashable, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from lhotse import CutSet

from phonasr.units.dtw import pair_distances

logger = logging.getLogger(__name__)

CONTEXTS = ("within", "any")
SPEAKERS = ("within", "across")
#: the four conditions, in the order of the results table
CONDITIONS: Tuple[Tuple[str, str], ...] = tuple((c, s) for c in CONTEXTS for s in SPEAKERS)
SPANS = ("phone", "triphone")


@dataclass(frozen=True)
class Item:
    """One triphone occurrence; ``start:end`` are its frames in the cut (the centre phone's or the triphone's)."""

    cut: str
    speaker: str
    prev: int
    centre: int
    next: int
    start: int
    end: int


@dataclass
class Cell:
    """The triples of one (context, speaker(s), A phone, B phone); X comes from ``x`` or, when ``x`` is None,
    from ``a`` less the A of the triple (within speaker)."""

    context: Hashable
    speakers: Tuple[str, ...]
    phone_a: int
    phone_b: int
    a: np.ndarray
    b: np.ndarray
    x: Optional[np.ndarray]

    def size(self) -> int:
        x = len(self.a) - 1 if self.x is None else len(self.x)
        return len(self.a) * len(self.b) * x


@dataclass
class AbxResult:
    """One condition's error (nan when no cell has a triple: too few repeated triphones), triples and cells."""

    context: str
    speaker: str
    error: float
    triples: int
    cells: int


# ------------------------------------------------------------------------------------------------- items
def phone_runs(labels: torch.Tensor) -> List[Tuple[int, int, int]]:
    """(label, start, end) of the maximal runs of equal labels, silence (0) included."""
    labels = labels.flatten()
    if labels.numel() == 0:
        return []
    change = torch.nonzero(labels[1:] != labels[:-1]).flatten() + 1
    bounds = [0] + change.tolist() + [labels.numel()]
    return [(int(labels[s]), s, e) for s, e in zip(bounds[:-1], bounds[1:])]


def triphone_items(labels: Mapping[str, torch.Tensor], speakers: Mapping[str, str],
                   span: str = "phone") -> List[Item]:
    """The triphone items of every cut of ``labels`` (frame labels, 0 = silence), in cut-id then time order."""
    if span not in SPANS:
        raise ValueError(f"unknown item span {span!r}; choose from {SPANS}")
    items: List[Item] = []
    for cut in sorted(labels):
        if cut not in speakers:
            raise ValueError(f"cut '{cut}' has frame labels but is not in the cut manifest; use the manifest the "
                             "frame labels were computed from")
        runs = phone_runs(labels[cut])
        for (prev, p_start, _), (centre, start, end), (nxt, _, n_end) in zip(runs, runs[1:], runs[2:]):
            if prev and centre and nxt:
                frames = (start, end) if span == "phone" else (p_start, n_end)
                items.append(Item(cut, speakers[cut], prev, centre, nxt, *frames))
    return items


def cut_speakers(cuts_path: str) -> Dict[str, str]:
    """cut id -> the speaker of its supervisions, from a lhotse cut manifest."""
    speakers: Dict[str, str] = {}
    for cut in CutSet.from_file(cuts_path):
        names = {s.speaker for s in cut.supervisions}
        if len(names) != 1 or None in names:
            raise ValueError(f"{cuts_path}: cut '{cut.id}' has speakers {sorted(map(str, names))}; the ABX test "
                             "needs exactly one speaker per cut (supervision.speaker)")
        speakers[cut.id] = names.pop()
    return speakers


# ------------------------------------------------------------------------------------------------- cells
def abx_cells(items: Sequence[Item], context: str, speaker: str) -> List[Cell]:
    """Every cell with at least one triple of the condition (``context`` within|any, ``speaker`` within|across),
    sorted by (context, speakers, A phone, B phone)."""
    if context not in CONTEXTS or speaker not in SPEAKERS:
        raise ValueError(f"unknown ABX condition ({context!r}, {speaker!r}); contexts {CONTEXTS}, speakers "
                         f"{SPEAKERS}")
    lists: Dict[Hashable, Dict[str, Dict[int, List[int]]]] = defaultdict(lambda: defaultdict(dict))
    for index, item in enumerate(items):
        key = (item.prev, item.next) if context == "within" else None
        lists[key][item.speaker].setdefault(item.centre, []).append(index)
    cells: List[Cell] = []
    for key in sorted(lists, key=lambda k: (-1, -1) if k is None else k):
        by_speaker = {s: {p: np.array(ids, dtype=np.int64) for p, ids in phones.items()}
                      for s, phones in lists[key].items()}
        for s in sorted(by_speaker):
            phones = by_speaker[s]
            x_speakers = [(s,)] if speaker == "within" else [(s, t) for t in sorted(by_speaker) if t != s]
            for speakers in x_speakers:
                x_phones = None if speaker == "within" else by_speaker[speakers[1]]
                for a in sorted(phones):
                    x = None if x_phones is None else x_phones.get(a)
                    if (x_phones is None and len(phones[a]) < 2) or (x_phones is not None and x is None):
                        continue
                    for b in sorted(phones):
                        if b != a:
                            cells.append(Cell(key, speakers, a, b, phones[a], phones[b], x))
    return cells


def sample_triples(cell: Cell, max_triples: int, rng: np.random.Generator) -> np.ndarray:
    """``(T, 3)`` item indices (A, B, X) of the cell: all of them, or ``max_triples`` drawn without replacement."""
    nx = len(cell.a) - 1 if cell.x is None else len(cell.x)
    total = cell.size()
    flat = np.arange(total) if total <= max_triples else rng.choice(total, max_triples, replace=False)
    ia, rest = np.divmod(flat, len(cell.b) * nx)
    ib, ix = np.divmod(rest, nx)
    if cell.x is None:
        x = cell.a[ix + (ix >= ia)]  # X is any A item but the triple's own A
    else:
        x = cell.x[ix]
    return np.stack([cell.a[ia], cell.b[ib], x], axis=1)


def cell_errors(d_ax: torch.Tensor, d_bx: torch.Tensor, cell_of: torch.Tensor, cells: int) -> torch.Tensor:
    """Per cell, the fraction of its triples with d(A, X) > d(B, X), a tie counting half."""
    wrong = (d_ax > d_bx).double() + 0.5 * (d_ax == d_bx).double()
    sums = torch.zeros(cells, dtype=torch.float64).index_add_(0, cell_of, wrong)
    counts = torch.zeros(cells, dtype=torch.float64).index_add_(0, cell_of, torch.ones_like(wrong))
    return sums / counts


def average_cells(cells: Sequence[Cell], errors: Sequence[float]) -> float:
    """Mean over contexts, then over speakers (or speaker pairs), then over ordered phone pairs."""
    def mean_by(scores: Mapping[Hashable, float], key) -> Dict[Hashable, float]:
        groups: Dict[Hashable, List[float]] = defaultdict(list)
        for k, v in scores.items():
            groups[key(k)].append(v)
        return {k: sum(v) / len(v) for k, v in groups.items()}

    if not cells:
        return math.nan
    per_cell = {(c.context, c.speakers, c.phone_a, c.phone_b): e for c, e in zip(cells, errors)}
    per_speakers = mean_by(per_cell, lambda k: k[1:])
    per_pair = mean_by(per_speakers, lambda k: k[1:])
    return sum(per_pair.values()) / len(per_pair)


# ------------------------------------------------------------------------------------------------- scoring
def item_frames(features: Mapping[str, torch.Tensor], items: Sequence[Item],
                device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """All items' frames concatenated (float32, on ``device``) and their (start, length) rows."""
    for item in items:
        if item.cut not in features:
            raise ValueError(f"cut '{item.cut}' has frame labels but no features; extract the features from the "
                             "same cut manifest")
    chunks = [features[item.cut][item.start:item.end].float() for item in items]
    for item, chunk in zip(items, chunks):
        if chunk.size(0) != item.end - item.start:
            raise ValueError(f"cut '{item.cut}' has {features[item.cut].size(0)} feature frames but frame labels up "
                             f"to frame {item.end}; compute both with the same encoder (store.check_aligned)")
    lengths = torch.tensor([c.size(0) for c in chunks], dtype=torch.long)
    starts = torch.cumsum(lengths, 0) - lengths
    return torch.cat(chunks).to(device), torch.stack([starts, lengths], dim=1)


def abx(features: Mapping[str, torch.Tensor], items: Sequence[Item],
        conditions: Sequence[Tuple[str, str]] = CONDITIONS, *, distance: str = "angular",
        max_triples: int = 100, seed: int = 0, device: Optional[torch.device] = None,
        batch_pairs: int = 4096) -> List[AbxResult]:
    """ABX error of ``features`` (cut id -> (T', D) frames) on ``items`` for each (context, speaker) condition;
    the DTW runs on ``device`` (default: the CPU)."""
    start = time.time()
    frames, spans = item_frames(features, items, device or torch.device("cpu"))
    per_condition = []
    for context, speaker in conditions:
        cells = abx_cells(items, context, speaker)
        rng = np.random.default_rng([seed, CONDITIONS.index((context, speaker))])
        triples = [torch.from_numpy(sample_triples(cell, max_triples, rng)) for cell in cells]
        per_condition.append((cells, triples))
    all_triples = torch.cat([t for _, ts in per_condition for t in ts] or [torch.zeros(0, 3, dtype=torch.long)])
    n = len(items)
    codes = torch.cat([_pair_code(all_triples[:, 0], all_triples[:, 2], n),
                       _pair_code(all_triples[:, 1], all_triples[:, 2], n)])
    unique = torch.unique(codes)
    distances = pair_distances(frames, spans, torch.stack([unique // n, unique % n], dim=1), distance, batch_pairs)
    elapsed = time.time() - start
    logger.info("%d DTW distances of %d items for %d triples in %.1f s (%.0f distances/s)", unique.numel(), n,
                all_triples.size(0), elapsed, unique.numel() / max(elapsed, 1e-9))

    results = []
    for (context, speaker), (cells, triples) in zip(conditions, per_condition):
        if not cells:
            results.append(AbxResult(context, speaker, math.nan, 0, 0))
            continue
        t = torch.cat(triples)
        cell_of = torch.repeat_interleave(torch.arange(len(cells)), torch.tensor([x.size(0) for x in triples]))
        d_ax = distances[torch.searchsorted(unique, _pair_code(t[:, 0], t[:, 2], n))]
        d_bx = distances[torch.searchsorted(unique, _pair_code(t[:, 1], t[:, 2], n))]
        errors = cell_errors(d_ax, d_bx, cell_of, len(cells)).tolist()
        results.append(AbxResult(context, speaker, average_cells(cells, errors), t.size(0), len(cells)))
    return results


def _pair_code(first: torch.Tensor, second: torch.Tensor, n: int) -> torch.Tensor:
    """One int64 per unordered item pair (lower index first), so each distance is computed once."""
    return torch.minimum(first, second) * n + torch.maximum(first, second)
