"""Compare the k-means backends on real encoder frames, side by side in one run: fit time, inertia and whether the
same seed gives the same centroids; the figures behind the choice recorded in :mod:`phonasr.units.kmeans`.

Candidates: faiss-cpu (Lloyd's k-means) and scikit-learn's MiniBatchKMeans (batch 10000, as HuBERT), each with
k-means++ and random initialisation, all with the same frames, seed and iteration budget. Inertia is the mean
squared distance of a frame to its nearest centroid, computed the same way for all (:func:`nearest`). Needs both
libraries (``pip install scikit-learn faiss-cpu``); phonasr itself depends on faiss only.

    cd egs/mini_pl && python ../../bench/bench_kmeans.py exp/s2p_ft_phone/final.pt data/fbank/pl/cuts_train.jsonl.gz
"""
from __future__ import annotations

import argparse
import time
from typing import Callable, Dict, List

import numpy as np
import torch

from phonasr.units.kmeans import DEFAULT_ITERATIONS, DEFAULT_MAX_FRAMES, fit_kmeans, nearest, subsample
from phonasr.units.layers import extract_layers

Fit = Callable[[np.ndarray, int, int], np.ndarray]  # (frames, k, seed) -> centroids


def faiss_random(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    import faiss

    km = faiss.Kmeans(x.shape[1], k, niter=DEFAULT_ITERATIONS, seed=seed, max_points_per_centroid=x.shape[0],
                      min_points_per_centroid=1)
    km.train(x)
    return km.centroids


def minibatch(init: str) -> Fit:
    def fit(x: np.ndarray, k: int, seed: int) -> np.ndarray:
        from sklearn.cluster import MiniBatchKMeans

        return MiniBatchKMeans(k, init=init, batch_size=10000, n_init=1, max_iter=DEFAULT_ITERATIONS,
                               random_state=seed).fit(x).cluster_centers_
    return fit


CANDIDATES: Dict[str, Fit] = {
    "faiss, k-means++ (phonasr)": lambda x, k, seed: fit_kmeans(torch.from_numpy(x), k, seed=seed).centroids.numpy(),
    "faiss, random init": faiss_random,
    "MiniBatchKMeans, k-means++": minibatch("k-means++"),
    "MiniBatchKMeans, random init": minibatch("random"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="S2P checkpoint whose encoder layer is clustered")
    parser.add_argument("cuts", help="training cut manifest with features")
    parser.add_argument("--layer", type=int, default=2)
    parser.add_argument("--ks", default="100,500", help="comma-separated numbers of centroids")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-frames", type=int, default=DEFAULT_MAX_FRAMES)
    parser.add_argument("--only", default="", help="comma-separated candidate names to run (default: all)")
    args = parser.parse_args()
    layers, _, _ = extract_layers(args.checkpoint, args.cuts, [args.layer], device=torch.device("cpu"))
    frames = subsample(torch.cat(list(layers[args.layer].values())).float(), args.max_frames, args.seed)
    x = frames.numpy()
    names = [n for n in CANDIDATES if not args.only or n in args.only.split(",")]
    print(f"{x.shape[0]} frames x {x.shape[1]} dims of layer {args.layer} of {args.checkpoint}; "
          f"{torch.get_num_threads()} threads, {DEFAULT_ITERATIONS} iterations, seed {args.seed}")
    print("backend\tk\tfit_s\tinertia\tsame_seed_same_centroids\tother_seed_differs")
    for k in (int(v) for v in args.ks.split(",")):
        for name in names:
            times: List[float] = []
            fits: List[torch.Tensor] = []
            for seed in (args.seed, args.seed, args.seed + 1):
                start = time.perf_counter()
                fits.append(torch.from_numpy(np.ascontiguousarray(CANDIDATES[name](x, k, seed), dtype=np.float32)))
                times.append(time.perf_counter() - start)
            inertia = float(nearest(frames, fits[0])[1].mean())
            print(f"{name}\t{k}\t{min(times[:2]):.2f}\t{inertia:.4f}\t{torch.equal(fits[0], fits[1])}\t"
                  f"{not torch.equal(fits[0], fits[2])}", flush=True)


if __name__ == "__main__":
    main()
