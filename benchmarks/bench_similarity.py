"""SVCCA and linear CKA of (neurons, datapoints) activation pairs: ours (float64 torch on the
covariance blocks) against numpy re-implementations written here in the reference's style
(SVCCA as google/svcca's recipe: SVD of the centred activations, np.cov + pinv + eigh square
root + SVD; CKA as google-research's feature_space_linear_cka). These are reference-style
re-implementations, not the reference code itself: google/svcca's own ``cca_core`` is not
run here. Median of 3 runs; the two results are compared too.

    python benchmarks/bench_similarity.py [--threads 2] [--out FILE.json]

BLAS threads for numpy are taken from OMP/OPENBLAS/MKL_NUM_THREADS, 2 if unset.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "2")  # before numpy loads its BLAS

import argparse
import json
import statistics
import time

import numpy as np
import torch

from pruninglib.analysis.similarity import linear_cka, svcca

SIZES = ((256, 5000), (512, 10000))


def numpy_cca(a, b, epsilon=0.0):
    """google/svcca cca_core.get_cca_similarity's computation (its default epsilon=0; the
    tutorial's 1e-10 regulariser moves the small directions' correlations by ~1e-6)."""
    n1 = len(a)
    cov = np.cov(a, b)
    sxx, sxy, syy = cov[:n1, :n1], cov[:n1, n1:], cov[n1:, n1:]
    xmax, ymax = np.abs(sxx).max(), np.abs(syy).max()
    sxx, syy, sxy = sxx / xmax, syy / ymax, sxy / np.sqrt(xmax * ymax)

    def invsqrt(s):
        w, v = np.linalg.eigh(np.linalg.pinv(s + epsilon * np.eye(len(s))))
        return (v * np.sqrt(np.maximum(w, 0))) @ v.T

    return np.abs(np.linalg.svd(invsqrt(sxx) @ sxy @ invsqrt(syy), compute_uv=False))


def numpy_svcca(a, b, keep=0.99):
    """The google/svcca tutorial's SVCCA with 99% of the singular-value mass: mean rho."""
    reduced = []
    for acts in (a, b):
        _, s, vt = np.linalg.svd(acts - acts.mean(1, keepdims=True), full_matrices=False)
        k = int(np.argmax(np.cumsum(s) / s.sum() >= keep)) + 1
        reduced.append(s[:k, None] * vt[:k])
    return float(numpy_cca(*reduced).mean())


def numpy_cka(a, b):
    """google-research feature_space_linear_cka (biased), our (neurons, datapoints) layout."""
    a, b = a - a.mean(1, keepdims=True), b - b.mean(1, keepdims=True)
    return float(np.linalg.norm(a @ b.T) ** 2
                 / (np.linalg.norm(a @ a.T) * np.linalg.norm(b @ b.T)))


def activation_pair(neurons, datapoints, seed=0):
    """Two float64 (neurons, datapoints) layers sharing a 64-dimensional signal with a decaying
    spectrum, plus independent noise, so the 99% truncation keeps fewer than all directions."""
    g = torch.Generator().manual_seed(seed)
    signal = torch.randn(64, datapoints, generator=g, dtype=torch.float64)
    decay = torch.logspace(0, -2, 64, dtype=torch.float64)
    return tuple(torch.randn(neurons, 64, generator=g, dtype=torch.float64) * decay @ signal
                 + 0.05 * torch.randn(neurons, datapoints, generator=g, dtype=torch.float64)
                 for _ in range(2))


def median_seconds(fn, repeats=3):
    """(median wall-clock seconds over ``repeats`` calls, the last result)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    report = {"torch_threads": args.threads, "blas_threads": os.environ["OPENBLAS_NUM_THREADS"],
              "repeats": 3, "results": []}
    print(f"{'method':7} {'neurons x datapoints':>21} {'ours s':>8} {'numpy s':>8} "
          f"{'speedup':>8} {'|difference|':>13}   (numpy: reference-style re-implementation)")
    for neurons, datapoints in SIZES:
        x, y = activation_pair(neurons, datapoints)
        xn, yn = x.numpy(), y.numpy()
        for method, ours, reference in (
                ("svcca", lambda: svcca(x, y).similarity, lambda: numpy_svcca(xn, yn)),
                ("cka", lambda: linear_cka(x, y), lambda: numpy_cka(xn, yn))):
            ours_s, ours_value = median_seconds(ours)
            numpy_s, numpy_value = median_seconds(reference)
            row = {"method": method, "neurons": neurons, "datapoints": datapoints,
                   "ours_s": ours_s, "numpy_s": numpy_s, "speedup": numpy_s / ours_s,
                   "ours": ours_value, "numpy": numpy_value,
                   "abs_difference": abs(ours_value - numpy_value)}
            report["results"].append(row)
            print(f"{method:7} {f'{neurons} x {datapoints}':>21} {ours_s:8.3f} {numpy_s:8.3f} "
                  f"{row['speedup']:7.1f}x {row['abs_difference']:13.2e}", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
