"""Throughput of the golden model on a 256×1024 by 1024×256 int8 linear layer.

Prints MAC/s for: the integer GEMM done with NumPy's int64 matmul (no BLAS), the same GEMM
with float64 BLAS (exact while every partial sum is below 2^53, which hwq.ref.gemm checks),
and the whole ``run_layer`` (GEMM + requantization) in each rounding mode.
Run: python benchmarks/reference.py
"""

import time

import numpy as np

from hwq.lower import make_linear
from hwq.quant import QParams, QuantSpec
from hwq.ref import run_layer


def best_of(fn, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main():
    m, k, n = 256, 1024, 256
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (m, k), dtype=np.int8)
    w = rng.integers(-127, 128, (n, k), dtype=np.int8)
    macs = m * k * n
    t_int, acc_int = best_of(lambda: x.astype(np.int64) @ w.astype(np.int64).T)
    t_f64, acc_f64 = best_of(lambda: (x.astype(np.float64) @ w.astype(np.float64).T)
                             .astype(np.int64))
    assert np.array_equal(acc_int, acc_f64)
    print(f"{'path':<34} {'ms':>9} {'MAC/s':>12}")
    print(f"{'gemm, int64 matmul':<34} {t_int * 1e3:>9.1f} {macs / t_int:>12.3g}")
    print(f"{'gemm, float64 BLAS (exact)':<34} {t_f64 * 1e3:>9.1f} {macs / t_f64:>12.3g}")
    spec_w = QuantSpec(symmetric=True, granularity="channel", axis=0)
    for rounding in ("double", "single", "double_half_up"):
        layer = make_linear(w, rng.integers(-10**5, 10**5, n), QParams(0.02, 3, QuantSpec()),
                            QParams(rng.random(n) * 1e-3 + 1e-4, 0, spec_w),
                            QParams(0.5, -5, QuantSpec()), "relu", rounding)
        t, _ = best_of(lambda layer=layer: run_layer(layer, x))
        print(f"{'run_layer, ' + rounding:<34} {t * 1e3:>9.1f} {macs / t:>12.3g}")


if __name__ == "__main__":
    main()
