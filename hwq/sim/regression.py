"""The stimulus of a hardware regression: random layers and every corner class.

Each job is ``(name, layer, x_rows)`` with a linear ``IntLayer`` the config can run. The corner
classes, per config:

* ``ties``: K = 1, unit weights and ``M = 2^30`` so that ``acc·M/2^31 = acc/2`` exactly; odd
  accumulators tie in the first rounding step, and biases ``2^r`` with shift ``−r`` tie in
  the second, for every ``r`` the config's shift range allows;
* ``shift_ends``: channels at both ends of the supported shift range (positive shifts wrap
  the left-shifted accumulator as the contract says);
* ``saturate``: biases of ±2^30 drive every output to −128 and 127;
* ``max_acc``: the largest |acc|, every product (−128)·(−128) at K = max_k;
* zero-points −128 and 127, M/N/K not multiples of the array, K = 1, short and long K.

``INT32_MIN·INT32_MIN`` cannot reach the doubling high multiply in hardware (the multiplier is
never negative); ``hwq.quant.fixedpoint`` covers it.
"""

from __future__ import annotations

import numpy as np

from ..config import HwConfig
from ..lower import IntLayer, make_linear
from ..quant.qparams import QParams
from ..quant.spec import QuantSpec

__all__ = ["random_job", "corner_jobs", "regression_jobs"]

_I8 = QuantSpec()


def random_job(rng, config: HwConfig, m: int, n: int, k: int, *, activation: str = "relu6",
               z_in: int | None = None, z_out: int | None = None, extreme: bool = False):
    """A random linear layer ``config`` can run, and its int8 input rows."""
    z_in = int(rng.integers(-128, 128)) if z_in is None else z_in
    z_out = int(rng.integers(-128, 128)) if z_out is None else z_out
    if extreme:   # the largest |acc|: every product (-128)·(-128)
        w = np.full((n, k), -128, np.int8)
        x = np.full((m, k), -128, np.int8)
    else:
        w = rng.integers(-128, 128, (n, k), dtype=np.int8)
        x = rng.integers(-128, 128, (m, k), dtype=np.int8)
    s_in = 0.02
    if config.per_channel:
        w_qp = QParams(rng.uniform(1e-3, 1e-2, n), 0,
                       QuantSpec(symmetric=True, granularity="channel", axis=0))
    else:
        w_qp = QParams(5e-3, 0, QuantSpec(symmetric=True))
    s_out = 5e-3 * s_in * 40 * np.sqrt(k) * float(rng.uniform(0.5, 2))
    if not config.clamp:
        activation = "none"
    layer = make_linear(w, rng.integers(-(2**12), 2**12, n), QParams(s_in, z_in, _I8), w_qp,
                        QParams(s_out, z_out, _I8), activation, config.rounding,
                        shift_range=config.shift_range)
    return layer, x


def _direct_layer(config, bias, shift, z_out, act=(-128, 127), k=1, mult=2**30):
    n = len(bias)
    return IntLayer("linear", np.ones((n, k), np.int8), np.asarray(bias, np.int32),
                    np.full(n, mult, np.int32), np.asarray(shift, np.int32), 0, z_out,
                    act[0], act[1], config.rounding)


def corner_jobs(config: HwConfig) -> list:
    """The structured corner cases (see the module docs) as ``(name, layer, x)``."""
    lo, hi = config.shift_min, config.shift_max
    codes = np.arange(-128, 128, dtype=np.int8).reshape(-1, 1)       # every int8 input
    jobs = []
    if not config.per_channel:
        # one multiplier and shift per layer: one job per shift
        shifts = sorted({lo, hi, max(lo, -1), min(hi, 0), max(lo, min(hi, -7))})
        for r in shifts:
            t = 2 ** min(max(-r, 0), 30)
            b = [t, -t, 3, 2**30 - 1, -(2**30)]
            jobs.append((f"ties_shift{r}", _direct_layer(config, b, [r] * 5, 0), codes))
        return jobs
    # right shifts the range allows (r = 31 would need acc = 2^31 for a second-step tie)
    rs = list(range(max(1, -hi), min(-lo, 30) + 1))
    bias = [2**r for r in rs] + [-(2**r) for r in rs]
    shift = [-r for r in rs] * 2
    for i in range(0, len(bias), config.max_n):
        jobs.append((f"ties{i // config.max_n}", _direct_layer(
            config, bias[i:i + config.max_n], shift[i:i + config.max_n], 0), codes))
    ends = [lo, hi, lo, hi]
    jobs.append(("shift_ends", _direct_layer(config, [0, 0, 2**12, -(2**12)], ends, -128),
                 codes))
    jobs.append(("saturate", _direct_layer(config, [2**30, -(2**30), 2**30, -(2**30)],
                                           [min(hi, 0), min(hi, 0), lo, lo], 127), codes))
    return [(name, layer, x) for name, layer, x in jobs if layer.out_channels <= config.max_n]



def regression_jobs(config: HwConfig, seed: int = 0) -> list:
    """Random layers and corner classes for one config, to run back to back."""
    rng = np.random.default_rng(seed)
    R, C = config.rows, config.cols
    k_long = min(config.max_k, config.min_tile_steps + 9)
    n_wide = min(config.max_n, 2 * C + 1)
    jobs = [
        ("edges", *random_job(rng, config, 2 * R + 1, n_wide, k_long)),
        ("k1_zp", *random_job(rng, config, 3, min(config.max_n, C + 1), 1, activation="relu",
                              z_in=-128, z_out=127)),
        ("short_k", *random_job(rng, config, R, C, 3, activation="none", z_in=127,
                                z_out=-128)),
        ("max_acc", *random_job(rng, config, R + 1, min(config.max_n, C + 2), config.max_k,
                                activation="none", z_in=-128, extreme=True)),
    ]
    jobs += corner_jobs(config)
    jobs.append(("tail", *random_job(rng, config, 5, min(config.max_n, 3), k_long)))
    return jobs
