"""Dynamic time warping between frame sequences, many pairs at once: the distance of the machine ABX test.

Frame distance: ``angular`` (the angle between two frames over pi: 0 for the same direction, 0.5 orthogonal, 1
opposite), the default of the ZeroSpeech 2021 / Libri-light ABX, or ``cosine`` (1 - cosine similarity). Both see
only directions, so a layer's scale does not matter.

The DTW path runs from (0, 0) to (n-1, m-1) with the steps (i-1, j-1), (i, j-1), (i-1, j); its cost is the sum of
the frame distances of the cells it visits. The distance is that minimum cost divided by the number of cells on
the path: the mean frame distance along the alignment (Libri-light's normalisation), so items of different
durations are comparable and a long item is not far only for being long. Where predecessors tie, the diagonal
wins, then (i, j-1), then (i-1, j); that fixes which path, hence which length, a tie gives.

Why a wavefront: ABX items are a few frames long and there are millions of pairs, so one pair at a time is all
Python overhead. All cells of an anti-diagonal (i + j = k) depend only on the two previous anti-diagonals, so the
recursion runs as n + m - 1 tensor steps over a whole batch of pairs, on the GPU when there is one. Pairs are
batched by their lengths (:func:`length_batches`), so a batch pads little.
"""
from __future__ import annotations

import math
from typing import List, Tuple

import torch

FRAME_DISTANCES = ("angular", "cosine")


def frame_distances(x: torch.Tensor, y: torch.Tensor, kind: str = "angular") -> torch.Tensor:
    """``(B, N, M)`` distances between the frames of ``x`` ``(B, N, D)`` and ``y`` ``(B, M, D)``.

    A zero frame (no direction) counts as orthogonal to everything."""
    return _unit_distances(_unit(x), _unit(y), kind)


def _unit(frames: torch.Tensor) -> torch.Tensor:
    """Unit-length frames in float64: in float32, arccos near 1 turns the rounding of the cosine into an angle of
    1e-4 between a frame and itself, which is 1e-8 in float64."""
    return torch.nn.functional.normalize(frames.double(), dim=-1)


def _unit_distances(x: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor:
    """:func:`frame_distances` of frames already scaled to unit length."""
    if kind not in FRAME_DISTANCES:
        raise ValueError(f"unknown frame distance {kind!r}; choose from {FRAME_DISTANCES}")
    cos = torch.bmm(x, y.transpose(1, 2)).clamp(-1.0, 1.0)
    if kind == "cosine":
        return 1.0 - cos
    return torch.acos(cos) / math.pi


def _shift(diagonal: torch.Tensor) -> torch.Tensor:
    """Entry i of the result is entry i-1 of ``diagonal`` (row i-1 of the previous anti-diagonal); inf at i = 0."""
    return torch.nn.functional.pad(diagonal[:, :-1], (1, 0), value=float("inf"))


def dtw(dist: torch.Tensor, n: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Path-length-normalised DTW cost of each pair: ``dist`` ``(B, N, M)`` frame distances, padded beyond the
    pairs' own ``n`` x ``m`` (what the padding holds does not matter: no cell of a pair depends on it)."""
    b, rows, cols = dist.shape
    if b == 0:
        return dist.new_zeros(0)
    diagonals = rows + cols - 1
    device = dist.device
    k = torch.arange(diagonals, device=device)[:, None]
    i = torch.arange(rows, device=device)[None, :]
    j = k - i
    # skewed[b, k, i] = dist[b, i, k - i]; inf where (i, k - i) is outside the padded matrix
    skewed = dist[:, i.expand(diagonals, rows), j.clamp(0, cols - 1)]
    skewed = skewed.masked_fill(((j < 0) | (j >= cols))[None], float("inf"))

    inf = torch.full((b, rows), float("inf"), dtype=dist.dtype, device=device)
    cost, length = skewed[:, 0], torch.ones(b, rows, dtype=dist.dtype, device=device)
    prev_cost, prev_length = inf, torch.zeros_like(length)
    costs, lengths = [cost], [length]
    for step in range(1, diagonals):
        diag_c, diag_l = _shift(prev_cost), _shift(prev_length)
        up_c, up_l = _shift(cost), _shift(length)
        left_c, left_l = cost, length
        take_diag = diag_c <= torch.minimum(left_c, up_c)
        take_left = ~take_diag & (left_c <= up_c)
        best_c = torch.where(take_diag, diag_c, torch.where(take_left, left_c, up_c))
        best_l = torch.where(take_diag, diag_l, torch.where(take_left, left_l, up_l))
        prev_cost, prev_length = cost, length
        cost, length = skewed[:, step] + best_c, best_l + 1
        costs.append(cost)
        lengths.append(length)
    end_k, end_i = (n + m - 2).to(device), (n - 1).to(device)
    rows_b = torch.arange(b, device=device)
    total = torch.stack(costs, dim=1)[rows_b, end_k, end_i]
    steps = torch.stack(lengths, dim=1)[rows_b, end_k, end_i]
    return total / steps


def pair_distances(frames: torch.Tensor, spans: torch.Tensor, pairs: torch.Tensor, kind: str = "angular",
                   batch_pairs: int = 4096) -> torch.Tensor:
    """DTW distance of each ``(P, 2)`` pair of items, as ``(P,)`` float64 on the CPU.

    ``frames`` ``(F, D)`` holds all items' frames one after the other (on the device the DTW should run on);
    item ``t`` is ``frames[spans[t, 0] : spans[t, 0] + spans[t, 1]]`` (``spans`` = (start, length) rows)."""
    if pairs.numel() == 0:
        return torch.zeros(0, dtype=torch.float64)
    device = frames.device
    frames = _unit(frames)  # once, not once per pair
    spans = spans.to(device)
    pairs = pairs.to(device)
    first, second = spans[pairs[:, 0]], spans[pairs[:, 1]]
    out = torch.empty(pairs.size(0), dtype=torch.float64, device=device)
    for batch in length_batches(first[:, 1].cpu(), second[:, 1].cpu(), batch_pairs):
        batch = batch.to(device)
        x, n = _gather(frames, first[batch])
        y, m = _gather(frames, second[batch])
        out[batch] = dtw(_unit_distances(x, y, kind), n, m)
    return out.cpu()


def length_batches(n: torch.Tensor, m: torch.Tensor, batch_pairs: int, waste: float = 1.3) -> List[torch.Tensor]:
    """Pair indices in batches of at most ``batch_pairs`` whose padded DTW work (pairs x N x (N + M) for the
    longest N, M) stays within ``waste`` times the pairs' own: batching by count alone put a few long items into
    every batch and ran 5x slower than this on the mini test set."""
    base = int(m.max()) + 1
    order = torch.argsort(n * base + m)
    keys, counts = torch.unique_consecutive((n * base + m)[order], return_counts=True)
    bounds: List[int] = [0]
    size = work = rows = cols = 0
    for key, count in zip(keys.tolist(), counts.tolist()):
        ni, mi = divmod(key, base)
        while count:
            take = min(count, batch_pairs - size)
            new_rows, new_cols = max(rows, ni), max(cols, mi)
            padded = (size + take) * new_rows * (new_rows + new_cols)
            if size and padded > waste * (work + take * ni * (ni + mi)):
                bounds.append(bounds[-1] + size)
                size = work = rows = cols = 0
                continue
            size, work, rows, cols = size + take, work + take * ni * (ni + mi), new_rows, new_cols
            count -= take
            if size == batch_pairs:
                bounds.append(bounds[-1] + size)
                size = work = rows = cols = 0
    if size:
        bounds.append(bounds[-1] + size)
    return [order[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _gather(frames: torch.Tensor, spans: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(B, L, D)`` frames of the items with these (start, length) rows, padded with each item's last frame."""
    lengths = spans[:, 1]
    steps = torch.arange(int(lengths.max()), device=frames.device)[None, :]
    index = spans[:, :1] + torch.minimum(steps, (lengths - 1)[:, None])
    return frames.index_select(0, index.flatten()).view(*index.shape, frames.size(1)), lengths
