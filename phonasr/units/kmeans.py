"""K-means units: centroids fitted on one encoder layer's frames, and each frame's nearest centroid as its unit.

Fitting uses faiss-cpu (Lloyd's k-means, k-means++ initialisation), chosen over scikit-learn's MiniBatchKMeans
(batch 10000, as HuBERT) by ``bench/bench_kmeans.py`` on real features: layer 2 of the mini recipe's 10-min
phoneme-FT S2P over the Polish training cuts (89,198 frames x 96 dims, all used), 25 iterations, seed 0, one
thread; inertia is the mean squared distance of a frame to its centroid, computed alike for all by :func:`nearest`:

    backend                          k=100: fit s  inertia    k=500: fit s  inertia    same seed -> same centroids
    faiss, k-means++ (chosen)                7.4   34.41              16.6   25.10     yes (another seed differs)
    faiss, random init                       2.1   34.87              10.1   25.26     yes
    MiniBatchKMeans, k-means++               2.6   34.64              12.8   25.65     yes
    MiniBatchKMeans, random init             1.2   35.88               7.1   25.95     yes

At the default k=500 faiss reaches a lower inertia with either initialisation than MiniBatchKMeans with either
(random-init faiss is also faster than k-means++ MiniBatchKMeans), and k-means++ faiss is the best at both k for
a few seconds more: a one-off cost per unit inventory. The timings were taken on 2 cores shared with other jobs;
with 2 threads under that load, MiniBatchKMeans with k-means++ took 42 s (k=100) and 135 s (k=500) against faiss's
7.7 s and 7.4 s (random init), so one thread per job is the safer setting there. faiss is the one dependency; it is
imported only when fitting, so loading a k-means file and assigning units need torch alone.

Assignment is batched torch (squared Euclidean via ``|x|^2 - 2 x.c + |c|^2``), so it runs wherever the centroids
are, GPU included, and never needs faiss. A k-means file is ``{"centroids": (k, D) float32, "meta": {...}}``
(meta: k, layer, checkpoint, seed, frames_used, iterations, and inertia: the mean squared distance of a fitting
frame to its centroid), saved atomically, loaded with weights_only.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Tuple

import torch

from phonasr.utils.io import atomic_torch_save, load_checkpoint

logger = logging.getLogger(__name__)

DEFAULT_K = 500
DEFAULT_MAX_FRAMES = 200_000  # 400 frames per centroid at k=500: faiss's own default cap is 256
DEFAULT_ITERATIONS = 25
ASSIGN_BATCH = 16384  # frames per distance matrix: 16384 x 500 float32 = 32 MB
META_KEYS = ("k", "layer", "checkpoint", "seed", "frames_used", "inertia")


@dataclass
class KMeans:
    """Fitted centroids (k, D) float32 and what they were fitted on (:data:`META_KEYS`, filled by the caller's
    layer and checkpoint before saving)."""

    centroids: torch.Tensor
    meta: Dict[str, Any]

    @property
    def k(self) -> int:
        return self.centroids.size(0)


def subsample(features: torch.Tensor, max_frames: int, seed: int) -> torch.Tensor:
    """At most ``max_frames`` rows of ``features``, drawn without replacement by ``seed`` (all of them, in order,
    when there are no more)."""
    if features.size(0) <= max_frames:
        return features
    generator = torch.Generator().manual_seed(seed)
    keep = torch.randperm(features.size(0), generator=generator)[:max_frames].sort().values
    return features[keep]


def fit_kmeans(features: torch.Tensor, k: int = DEFAULT_K, *, seed: int = 0,
               max_frames: int = DEFAULT_MAX_FRAMES, iterations: int = DEFAULT_ITERATIONS) -> KMeans:
    """Centroids of ``features`` (N, D), fitted on at most ``max_frames`` frames drawn by ``seed``.

    Deterministic: the same features, k, seed and thread count give identical centroids. ``k`` is lowered to the
    number of distinct frames (with a warning) when there are fewer, since more centroids than points cannot all
    be distinct. Uses torch's thread count, so a worker's ``--num-threads`` applies to faiss too.
    """
    try:
        import faiss
    except ImportError:
        raise ImportError("fitting k-means needs faiss-cpu; install it with utils/install.sh "
                           "(or .venv/bin/pip install faiss-cpu)") from None
    if features.dim() != 2 or features.size(0) == 0:
        raise ValueError(f"k-means needs (frames, dim) features with at least one frame, got {tuple(features.shape)}")
    if k < 1 or max_frames < 1 or iterations < 1:
        raise ValueError(f"k, max_frames and iterations must be positive, got {k}, {max_frames}, {iterations}")
    data = subsample(features.float(), max_frames, seed).contiguous()
    distinct = torch.unique(data, dim=0).size(0)
    if distinct < k:
        logger.warning("only %d distinct frames among the %d used for fitting: k lowered from %d to %d",
                       distinct, data.size(0), k, distinct)
        k = distinct
    faiss.omp_set_num_threads(torch.get_num_threads())
    start = time.time()
    # the caps off: the frames were already subsampled by our seed, and tiny sets are not worth a warning
    km = faiss.Kmeans(data.size(1), k, niter=iterations, seed=seed,
                      init_method=faiss.ClusteringInitMethod_KMEANS_PLUS_PLUS,
                      max_points_per_centroid=data.size(0), min_points_per_centroid=1)
    km.train(data.numpy())
    elapsed = time.time() - start
    centroids = torch.from_numpy(km.centroids.copy())
    inertia = float(nearest(data, centroids)[1].mean())
    logger.info("k-means: k=%d on %d frames x %d dims in %.1f s (%.0f frame-iterations/s), inertia %.4f",
                k, data.size(0), data.size(1), elapsed, data.size(0) * iterations / max(elapsed, 1e-9), inertia)
    return KMeans(centroids, {"k": k, "seed": seed, "frames_used": data.size(0), "inertia": inertia,
                              "iterations": iterations})


@torch.no_grad()
def nearest(features: torch.Tensor, centroids: torch.Tensor,
            batch_frames: int = ASSIGN_BATCH) -> Tuple[torch.Tensor, torch.Tensor]:
    """Each frame's nearest centroid (int64, the first on ties) and its squared Euclidean distance (float32),
    computed in batches on the centroids' device; both returned there."""
    if features.dim() != 2 or centroids.dim() != 2 or features.size(1) != centroids.size(1):
        raise ValueError(f"features {tuple(features.shape)} and centroids {tuple(centroids.shape)} must be "
                         "(frames, D) and (k, D) with the same D: use the k-means file of the same encoder layer")
    device = centroids.device
    c = centroids.float()
    c_norms = c.pow(2).sum(1)
    ids, dists = [], []
    for start in range(0, features.size(0), batch_frames):
        x = features[start:start + batch_frames].to(device=device, dtype=torch.float32)
        d = (x.pow(2).sum(1, keepdim=True) - 2 * x @ c.T + c_norms).clamp_(min=0)
        index = d.argmin(dim=1)  # argmin, not min(dim): only argmin promises the first index on ties
        ids.append(index)
        dists.append(d.gather(1, index[:, None]).squeeze(1))
    if not ids:
        return torch.zeros(0, dtype=torch.long, device=device), torch.zeros(0, device=device)
    return torch.cat(ids), torch.cat(dists)


def assign(features: torch.Tensor, centroids: torch.Tensor, batch_frames: int = ASSIGN_BATCH) -> torch.Tensor:
    """Unit ids (int64, on the centroids' device): each frame's nearest centroid by squared Euclidean distance."""
    return nearest(features, centroids, batch_frames)[0]


def deduplicate(units: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Runs of a repeated unit collapsed to one (what a unit LM reads) and the run lengths, which map the runs
    back to frames (``runs.repeat_interleave(lengths)`` restores the frame sequence)."""
    return torch.unique_consecutive(units, return_counts=True)


def save_kmeans(path: str | Path, model: KMeans) -> None:
    """Write the k-means file atomically; its meta must name everything of :data:`META_KEYS`."""
    missing = [key for key in META_KEYS if key not in model.meta]
    if missing:
        raise ValueError(f"k-means meta lacks {missing}; record the layer and checkpoint the frames came from")
    atomic_torch_save({"centroids": model.centroids.float().cpu().contiguous(), "meta": dict(model.meta)}, path)


def load_kmeans(path: str | Path) -> KMeans:
    """The k-means file ``path`` (weights_only), checked to be one."""
    stored = load_checkpoint(path)
    if not (isinstance(stored, dict) and isinstance(stored.get("centroids"), torch.Tensor)
            and stored["centroids"].dim() == 2 and isinstance(stored.get("meta"), dict)):
        raise ValueError(f"{path} is not a k-means file; fit one with 'python -m phonasr.bin.make_units fit'")
    return KMeans(stored["centroids"], stored["meta"])
