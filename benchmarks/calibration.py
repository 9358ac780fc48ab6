"""Cost of calibrating one tensor of 1M float32 N(0, 1) values, per observer.

Prints a table: update (histogramming) time, range() (search) time and the chosen range.
Run: python benchmarks/calibration.py
"""

import time

import numpy as np

from hwq.quant import QuantSpec
from hwq.quant.observers import OBSERVERS


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def main():
    x = np.random.default_rng(0).standard_normal(1_000_000).astype(np.float32)
    spec = QuantSpec(symmetric=True)
    print(f"{'observer':<12} {'update ms':>10} {'range ms':>10} {'total ms':>10} {'threshold':>10}")
    for name, cls in OBSERVERS.items():
        t_up, obs = best_of(lambda cls=cls: cls(spec).update(x))
        t_rng, (lo, hi) = best_of(obs.range)
        print(f"{name:<12} {t_up * 1e3:>10.1f} {t_rng * 1e3:>10.1f} {(t_up + t_rng) * 1e3:>10.1f} "
              f"{float(hi):>10.4f}")


if __name__ == "__main__":
    main()
