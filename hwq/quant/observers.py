"""Offline (static) calibration: observers that watch activations and choose a range.

Every observer has ``update(x) -> self``, ``range() -> (lo, hi)`` and ``qparams() -> QParams``;
all but :class:`EMAObserver` (order-dependent by definition) also have ``merge(other) -> self``.

Order and batch-size independence
---------------------------------
TensorRT and ModelOpt size their histogram from the first batch and double it when a later batch
exceeds it, so their thresholds change with batch order and batch size. hwq's histogram
observers instead bin ``|x|`` on a fixed family of grids: bin ``k`` covers
``[k·2^e, (k+1)·2^e)``, with ``bins·16`` bins and ``e`` the smallest integer such that
``max|x| < bins·16·2^e``. Widening the grid (``e → e+1``) sums adjacent pairs of bins, which is
exact, so the final counts are exactly those of a single pass over all the data at the final
``e`` — whatever the order, batch size or split across processes (``merge``). The exact min and
max are tracked alongside.

The ``bins``-bin histogram over ``[0, max|x|]`` that the algorithms use is read from this fine
grid by linear interpolation of its cumulative counts (uniform density inside a fine bin); the
fine grid has at least ``8·bins`` bins over that interval.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .qparams import QParams, _finite_values, qparams_from_range, reduce_range
from .spec import QuantSpec

__all__ = [
    "Observer", "MinMaxObserver", "EMAObserver", "PercentileObserver", "EntropyObserver",
    "MSEObserver", "OBSERVERS", "make_observer",
]

_UPSAMPLE = 16


class Observer:
    """Base class: holds the spec and the NaN policy and turns a range into parameters."""

    def __init__(self, spec: QuantSpec, nan_policy: str = "raise"):
        if not isinstance(spec, QuantSpec):
            raise TypeError(f"spec must be a QuantSpec, not {spec!r}")
        _finite_values(np.zeros(1), "x", nan_policy)  # validates nan_policy
        self.spec = spec
        self.nan_policy = nan_policy
        self.batches = 0

    def update(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def range(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def qparams(self) -> QParams:
        """Return the parameters for the observed range."""
        lo, hi = self.range()
        return qparams_from_range(lo, hi, self.spec)

    def _require_data(self):
        if self.batches == 0:
            raise RuntimeError(f"{type(self).__name__} has observed no data; call update() first")

    def _check_mergeable(self, other):
        if type(other) is not type(self):
            raise TypeError(f"cannot merge {type(other).__name__} into {type(self).__name__}")
        if other.spec != self.spec or other._params() != self._params():
            raise ValueError(f"cannot merge {type(self).__name__}s with different settings")

    def _params(self):
        return ()


class MinMaxObserver(Observer):
    """Running minimum and maximum, per tensor, channel or group."""

    def __init__(self, spec: QuantSpec, nan_policy: str = "raise"):
        super().__init__(spec, nan_policy)
        self.lo = self.hi = None

    def update(self, x):
        lo, hi = reduce_range(x, self.spec, self.nan_policy, name="calibration data")
        if self.lo is not None and lo.shape != self.lo.shape:
            raise ValueError(f"calibration data gives ranges of shape {lo.shape}, "
                             f"earlier batches gave {self.lo.shape}")
        self.lo = lo if self.lo is None else np.minimum(self.lo, lo)
        self.hi = hi if self.hi is None else np.maximum(self.hi, hi)
        self.batches += 1
        return self

    def range(self):
        self._require_data()
        return self.lo.copy(), self.hi.copy()

    def merge(self, other):
        self._check_mergeable(other)
        if other.batches:
            if self.batches:
                if other.lo.shape != self.lo.shape:
                    raise ValueError(f"cannot merge ranges of shape {other.lo.shape} into "
                                     f"{self.lo.shape}")
                self.lo, self.hi = np.minimum(self.lo, other.lo), np.maximum(self.hi, other.hi)
            else:
                self.lo, self.hi = other.lo.copy(), other.hi.copy()
            self.batches += other.batches
        return self


class EMAObserver(Observer):
    """Exponential smoothing of per-batch min and max (指数平滑法).

    The first batch sets ``lo`` and ``hi``; each later batch moves them by
    ``m += momentum · (new − m)``. Order-dependent by definition, so there is no ``merge``.
    """

    def __init__(self, spec: QuantSpec, momentum: float = 0.01, nan_policy: str = "raise"):
        super().__init__(spec, nan_policy)
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float, np.floating)):
            raise TypeError(f"momentum must be a number, not {momentum!r}")
        if not 0 < momentum <= 1:
            raise ValueError(f"momentum must be in (0, 1], not {momentum!r}")
        self.momentum = float(momentum)
        self.lo = self.hi = None

    def update(self, x):
        lo, hi = reduce_range(x, self.spec, self.nan_policy, name="calibration data")
        if self.lo is None:
            self.lo, self.hi = lo, hi
        else:
            if lo.shape != self.lo.shape:
                raise ValueError(f"calibration data gives ranges of shape {lo.shape}, "
                                 f"earlier batches gave {self.lo.shape}")
            c = self.momentum
            self.lo = self.lo + c * (lo - self.lo)
            self.hi = self.hi + c * (hi - self.hi)
        self.batches += 1
        return self

    def range(self):
        self._require_data()
        return self.lo.copy(), self.hi.copy()


class _Histogram:
    """Counts of negative and non-negative values by magnitude on a power-of-two grid.

    Bin ``k`` of ``neg``/``pos`` counts values with ``k·2^exp ≤ |x| < (k+1)·2^exp``
    (zeros in ``pos[0]``). ``exp`` is None while only zeros have been seen.
    """

    def __init__(self, n: int):
        self.n = n
        self.exp = None
        self.pos = np.zeros(n, np.int64)
        self.neg = np.zeros(n, np.int64)
        self.min = math.inf
        self.max = -math.inf

    def _exp_for(self, m: float) -> int:
        _, e = math.frexp(m)
        e -= self.n.bit_length() - 1
        while math.ldexp(self.n, e) <= m:
            e += 1
        while math.ldexp(self.n, e - 1) > m:
            e -= 1
        return e

    def _widen(self, exp: int):
        if self.exp is None or exp <= self.exp:
            self.exp = exp if self.exp is None else self.exp
            return
        d = exp - self.exp
        starts = np.arange(0, self.n, 1 << min(d, 62)) if d < 62 else np.array([0])
        for name in ("pos", "neg"):
            merged = np.add.reduceat(getattr(self, name), starts)
            out = np.zeros(self.n, np.int64)
            out[:merged.size] = merged
            setattr(self, name, out)
        self.exp = exp

    def update(self, x: np.ndarray):
        """Add finite float64 values ``x``."""
        m = float(np.max(np.abs(x)))
        self.min = min(self.min, float(x.min()))
        self.max = max(self.max, float(x.max()))
        if m > 0:
            self._widen(self._exp_for(m))
        if self.exp is None:  # only zeros so far: they sit in bin 0 at any scale
            self.pos[0] += x.size
            return
        idx = np.floor(np.ldexp(np.abs(x), -self.exp)).astype(np.int64)
        neg = x < 0
        self.pos += np.bincount(idx[~neg], minlength=self.n)
        self.neg += np.bincount(idx[neg], minlength=self.n)

    def merge(self, other: _Histogram):
        if other.exp is not None:
            self._widen(other.exp)
            other_pos, other_neg = other.pos, other.neg
            if other.exp < self.exp:
                tmp = _Histogram(self.n)
                tmp.exp, tmp.pos, tmp.neg = other.exp, other.pos, other.neg
                tmp._widen(self.exp)
                other_pos, other_neg = tmp.pos, tmp.neg
        else:
            other_pos, other_neg = other.pos, other.neg
        self.pos = self.pos + other_pos
        self.neg = self.neg + other_neg
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)

    # -------------------------------------------------------------- derived views
    @property
    def total(self) -> int:
        return int(self.pos.sum() + self.neg.sum())

    @property
    def amax(self) -> float:
        return max(-self.min, self.max, 0.0)

    def _edges(self):
        w = math.ldexp(1.0, self.exp if self.exp is not None else 0)
        return np.arange(self.n + 1, dtype=np.float64) * w

    def abs_cdf_knots(self):
        """Knots ``(u, C(u))`` of the piecewise-linear count of ``|x| < u``."""
        cum = np.concatenate([[0], np.cumsum(self.pos + self.neg)]).astype(np.float64)
        return self._edges(), cum

    def signed_cdf_knots(self):
        """Knots ``(t, F(t))`` of the piecewise-linear count of ``x ≤ t``."""
        edges = self._edges()
        cp = np.concatenate([[0], np.cumsum(self.pos)]).astype(np.float64)
        cn = np.concatenate([[0], np.cumsum(self.neg)]).astype(np.float64)
        n_neg = cn[-1]
        t = np.concatenate([-edges[:0:-1], edges])
        f = np.concatenate([n_neg - cn[:0:-1], n_neg + cp])
        return t, f

    def abs_histogram(self, bins: int):
        """Return ``(counts, amax)``: ``bins`` float64 counts of ``|x|`` over ``[0, amax]``."""
        amax = self.amax
        hist = np.zeros(bins, np.float64)
        if amax == 0:
            hist[0] = self.total
            return hist, 0.0
        u, c = self.abs_cdf_knots()
        edges = np.linspace(0.0, amax, bins + 1)
        cdf = np.interp(edges, u, c)
        cdf[0], cdf[-1] = 0.0, self.total  # nothing lies above amax
        return np.maximum(np.diff(cdf), 0.0), amax

    def signed_histogram(self, bins: int):
        """Return ``(counts, lo, hi)``: ``bins`` float64 counts over the range widened to 0."""
        lo, hi = min(self.min, 0.0), max(self.max, 0.0)
        hist = np.zeros(bins, np.float64)
        if lo == hi:
            hist[0] = self.total
            return hist, lo, hi
        t, f = self.signed_cdf_knots()
        edges = np.linspace(lo, hi, bins + 1)
        cdf = np.interp(edges, t, f)
        cdf[0], cdf[-1] = 0.0, self.total
        return np.maximum(np.diff(cdf), 0.0), lo, hi


def _inverse_cdf(x_knots, f_knots, target):
    """Smallest ``x`` with ``F(x) = target`` on a non-decreasing piecewise-linear CDF."""
    i = int(np.searchsorted(f_knots, target, side="left"))
    i = min(max(i, 1), len(f_knots) - 1)
    f0, f1 = f_knots[i - 1], f_knots[i]
    if f1 <= f0:
        return float(x_knots[i])
    return float(x_knots[i - 1] + (target - f0) / (f1 - f0) * (x_knots[i] - x_knots[i - 1]))


class _HistogramObserver(Observer):
    """Common part of the histogram observers: per-tensor only, exact ``merge``."""

    def __init__(self, spec: QuantSpec, bins: int = 2048, nan_policy: str = "raise"):
        super().__init__(spec, nan_policy)
        if spec.granularity != "tensor":
            raise ValueError(f"{type(self).__name__} supports per-tensor specs only, not "
                             f"granularity={spec.granularity!r}")
        if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)):
            raise TypeError(f"bins must be an integer, not {bins!r}")
        if not 8 <= bins <= 1 << 20:
            raise ValueError(f"bins must be an integer in 8..{1 << 20}, not {bins!r}")
        self.bins = int(bins)
        self._hist = _Histogram(self.bins * _UPSAMPLE)

    def _params(self):
        return (self.bins,)

    def update(self, x):
        x = _finite_values(x, "calibration data", self.nan_policy)
        x = x[~np.isnan(x)].ravel()
        self._hist.update(x)
        self.batches += 1
        return self

    def merge(self, other):
        self._check_mergeable(other)
        self._hist.merge(other._hist)
        self.batches += other.batches
        return self

    def _clip_to_observed(self, lo, hi):
        h = self._hist
        return np.float64(max(lo, h.min)), np.float64(min(hi, h.max))

    def _symmetric_range(self, threshold):
        """Range ``[−t, t]`` cut to the observed data (so ReLU outputs keep ``lo = 0``)."""
        return self._clip_to_observed(-threshold, threshold)

    def histogram(self):
        """Return ``(counts, edges)`` of the ``bins``-bin ``|x|`` histogram the search uses."""
        self._require_data()
        counts, amax = self._hist.abs_histogram(self.bins)
        return counts, np.linspace(0.0, amax, self.bins + 1)


class PercentileObserver(_HistogramObserver):
    """Histogram truncation: the range that holds ``percentile`` % of the values.

    Symmetric specs clip ``|x|`` at its ``percentile``; asymmetric ones take the
    ``100 − percentile`` and ``percentile`` points of the signed distribution. Percentiles are
    read from the fine grid's cumulative counts by linear interpolation and clipped to the
    observed min/max, so ``percentile=100`` gives exactly the min/max range.
    """

    def __init__(self, spec: QuantSpec, percentile: float = 99.99, bins: int = 2048,
                 nan_policy: str = "raise"):
        super().__init__(spec, bins, nan_policy)
        if isinstance(percentile, bool) or not isinstance(percentile, (int, float, np.floating)):
            raise TypeError(f"percentile must be a number, not {percentile!r}")
        if not 0 < percentile <= 100:
            raise ValueError(f"percentile must be in (0, 100], not {percentile!r}")
        self.percentile = float(percentile)

    def _params(self):
        return (self.bins, self.percentile)

    def range(self):
        self._require_data()
        h = self._hist
        p = self.percentile / 100.0
        if self.spec.symmetric:
            u, c = h.abs_cdf_knots()
            t = _inverse_cdf(u, c, p * h.total) if h.amax > 0 else 0.0
            return self._symmetric_range(min(t, h.amax))
        if h.amax == 0:
            return np.float64(0.0), np.float64(0.0)
        t, f = h.signed_cdf_knots()
        lo = _inverse_cdf(t, f, (1.0 - p) * h.total) if p < 1 else h.min
        hi = _inverse_cdf(t, f, p * h.total)
        return self._clip_to_observed(lo, hi)


class EntropyObserver(_HistogramObserver):
    """KL-divergence calibration, following TensorRT's description (GTC 2017).

    On a ``bins``-bin histogram of ``|x|`` over ``[0, max|x|]`` with bin width ``w``, for every
    candidate length ``i`` in ``start_bin .. bins``:

    * ``P`` = the first ``i`` bins, with the outliers (bins ``i..``) added to bin ``i − 1``;
    * ``Q`` = the input bins ``0..i−1`` (without the outliers) merged into ``quant_bins``
      levels, each level's total spread evenly over the level's non-zero input bins and zero
      on its empty ones — TensorRT's worked example;
    * both normalised, ``KL(P‖Q)``; the threshold is ``(m + ½)·w`` for the best ``m``.

    ``KL`` reduces to prefix sums over the bins and one sum over the levels per candidate (see
    ``_kl_curve``), so all candidates are evaluated at once with no Python loop.

    Empty bins: ``Q = 0 < P`` can only happen in bin ``i − 1``, when the outliers land on an
    empty input bin. TensorRT's description does not say what then. ``smoothing=1e-4``
    (default) gives that bin of ``Q`` ``ε`` counts, MXNet's ε in count units (MXNet also moves
    ``O(ε)`` mass between all other bins, which changes ``KL`` by ``O(ε/N)`` and is left out);
    ``smoothing=None`` makes such candidates ``KL = ∞``, as ModelOpt does — then an isolated
    outlier beyond an empty bin can never be clipped, and the threshold jumps to it.

    Where published implementations differ, the default is the TensorRT reading and the others
    are options:

    * ``threshold="center"`` → ``(m + ½)·w`` (TensorRT slides); ``"edge"`` → ``m·w`` (ModelOpt).
    * ``tie="first"`` → the smallest ``m`` among equal minima (NumPy argmin, TensorRT's loop);
      ``"last"`` → the largest (ModelOpt).
    * ``merge="even"`` → bin ``j`` belongs to level ``⌊j·L/i⌋`` (ModelOpt's digitize);
      ``"floor"`` → levels of ``⌊i/L⌋`` bins, the last one taking the remainder (MXNet).
    * ``quant_bins=None`` → ``2^(bits−1)`` levels for signed specs (128 for int8), ``2^bits``
      for unsigned; candidates start at ``max(start_bin, quant_bins)``.

    Not offered: ORT's signed histogram with windows one bin wider on the positive side.
    Symmetric or not, the result is ``[−t, t]`` cut to the observed min/max.
    """

    def __init__(self, spec: QuantSpec, bins: int = 2048, start_bin: int = 128,
                 quant_bins: int | None = None, threshold: str = "center", tie: str = "first",
                 merge: str = "even", smoothing: float | None = 1e-4, nan_policy: str = "raise"):
        super().__init__(spec, bins, nan_policy)
        if quant_bins is None:
            quant_bins = 1 << (spec.bits - 1) if spec.signed else 1 << spec.bits
        for name, v in (("start_bin", start_bin), ("quant_bins", quant_bins)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"{name} must be an integer, not {v!r}")
        if not 1 <= start_bin <= self.bins:
            raise ValueError(f"start_bin must be in 1..bins ({self.bins}), not {start_bin!r}")
        if not 2 <= quant_bins <= self.bins:
            raise ValueError(f"quant_bins must be in 2..bins ({self.bins}), not {quant_bins!r}")
        if smoothing is not None and (isinstance(smoothing, bool) or not isinstance(
                smoothing, (int, float, np.floating)) or not 0 < smoothing < 1):
            raise ValueError(f"smoothing must be None or a number in (0, 1), not {smoothing!r}")
        for name, v, allowed in (("threshold", threshold, ("center", "edge")),
                                 ("tie", tie, ("first", "last")),
                                 ("merge", merge, ("even", "floor"))):
            if v not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {v!r}")
        self.start_bin, self.quant_bins = int(start_bin), int(quant_bins)
        self.threshold_rule, self.tie, self.merge_rule = threshold, tie, merge
        self.smoothing = None if smoothing is None else float(smoothing)

    def _params(self):
        return (self.bins, self.start_bin, self.quant_bins, self.threshold_rule, self.tie,
                self.merge_rule, self.smoothing)

    def kl_curve(self):
        """Return ``(candidates, kl)``: every candidate length ``i`` and its ``KL(P‖Q)``."""
        h, _ = self._hist.abs_histogram(self.bins)
        return _kl_curve(h, self.start_bin, self.quant_bins, self.merge_rule, self.smoothing)

    def range(self):
        self._require_data()
        h, amax = self._hist.abs_histogram(self.bins)
        if amax == 0:
            return np.float64(0.0), np.float64(0.0)
        cand, kl = _kl_curve(h, self.start_bin, self.quant_bins, self.merge_rule, self.smoothing)
        best = np.flatnonzero(kl == kl.min())
        m = int(cand[best[0] if self.tie == "first" else best[-1]])
        w = amax / self.bins
        t = (m + 0.5) * w if self.threshold_rule == "center" else m * w
        return self._symmetric_range(min(t, amax))


def _xlogx(v):
    return np.where(v > 0, v * np.log(np.where(v > 0, v, 1.0)), 0.0)


def _kl_curve(h, start_bin, levels, merge_rule, smoothing=None):
    """``KL(P‖Q)`` for every candidate ``i`` in ``start_bin..len(h)``, vectorised.

    With ``out = Σ_{j≥i} h_j``, ``T = Σ h`` and, per level ``ℓ`` of ``h[:i]``, its sum ``S_ℓ``
    and count of non-zero bins ``n_ℓ``: ``Q_j = S_ℓ / n_ℓ`` where ``h_j > 0`` (``ΣQ = T − out``),
    and ``P = h[:i]`` with ``out`` added to ``P[i−1]`` (``ΣP = T``). Then

    ``KL = (Σ_j P_j log P_j − Σ_ℓ S_ℓ log(S_ℓ/n_ℓ) − out·log(S_last/n_last)) / T
    + log((T − out) / T)`` (the ``out`` term only when bin ``i − 1`` is non-empty).

    When ``out > 0`` lands in an empty bin ``i − 1`` (``Q = 0 < P`` there, the only place this
    can happen) ``KL = ∞``, or, with ``smoothing = ε``, that bin of ``Q`` is given ``ε`` counts.
    """
    nb = h.size
    cand = np.arange(max(start_bin, levels), nb + 1, dtype=np.int64)
    total = h.sum()
    cs = np.concatenate([[0.0], np.cumsum(h)])               # cs[k] = Σ_{j<k} h_j
    sfx = np.concatenate([np.cumsum(h[::-1])[::-1], [0.0]])  # sfx[k] = Σ_{j≥k} h_j
    nz = np.concatenate([[0], np.cumsum(h > 0)])              # nz[k] = #{j<k : h_j > 0}
    xl = np.concatenate([[0.0], np.cumsum(_xlogx(h))])
    out = sfx[cand]
    h_last = h[cand - 1]
    term_p = xl[cand - 1] + _xlogx(h_last + out)
    ell = np.arange(levels + 1, dtype=np.int64)
    if merge_rule == "even":
        bounds = (ell[None, :] * cand[:, None] + levels - 1) // levels
    else:
        bounds = ell[None, :] * (cand[:, None] // levels)
        bounds[:, -1] = cand
    s = np.maximum(np.diff(cs[bounds], axis=1), 0.0)
    n = np.diff(nz[bounds], axis=1)
    log_q = np.log(np.where((s > 0) & (n > 0), s / np.maximum(n, 1), 1.0))
    term_q = np.where(n > 0, s * log_q, 0.0).sum(axis=1)
    term_q += np.where(h_last > 0, out * log_q[:, -1], 0.0)
    empty_last = (out > 0) & (h_last <= 0)
    if smoothing is not None:
        # Q[i-1] = ε there: -Σ P log Q gains -out·log ε, and ΣQ gains ε
        term_q = term_q + np.where(empty_last, out * math.log(smoothing), 0.0)
    t_q = np.maximum(total - out + (empty_last * smoothing if smoothing else 0.0),
                     np.finfo(np.float64).tiny)
    kl = (term_p - term_q) / total + np.log(t_q / total)
    return cand, np.where(empty_last & (smoothing is None), np.inf, kl)


class MSEObserver(_HistogramObserver):
    """The range that minimises the quantization mean-squared error over the histogram.

    Candidates shrink the observed range by ``α = k / candidates`` for ``k = 1..candidates``:
    ``[−α·a, α·a]`` with ``a = max|x|`` for symmetric specs, ``[α·lo, α·hi]`` otherwise. Each
    candidate's error is ``Σ n_j (fq(c_j) − c_j)²`` over the ``bins``-bin signed histogram's
    centres ``c_j`` and counts ``n_j``, with ``fq`` the spec's own fake-quantizer (rounding
    included). Ties go to the widest range.
    """

    def __init__(self, spec: QuantSpec, bins: int = 2048, candidates: int = 256,
                 nan_policy: str = "raise"):
        super().__init__(spec, bins, nan_policy)
        if isinstance(candidates, bool) or not isinstance(candidates, (int, np.integer)):
            raise TypeError(f"candidates must be an integer, not {candidates!r}")
        if not 1 <= candidates <= 4096:
            raise ValueError(f"candidates must be in 1..4096, not {candidates!r}")
        self.candidates = int(candidates)

    def _params(self):
        return (self.bins, self.candidates)

    def mse_curve(self):
        """Return ``(alphas, lo, hi, mse)`` for every candidate range."""
        self._require_data()
        counts, lo, hi = self._hist.signed_histogram(self.bins)
        edges = np.linspace(lo, hi, self.bins + 1)
        centres = 0.5 * (edges[:-1] + edges[1:])
        alpha = np.arange(1, self.candidates + 1, dtype=np.float64) / self.candidates
        if self.spec.symmetric:
            a = max(-lo, hi)
            c_lo, c_hi = -alpha * a, alpha * a
        else:
            c_lo, c_hi = alpha * lo, alpha * hi
        grid_spec = replace(self.spec, granularity="channel", axis=0, group_size=None)
        qp = qparams_from_range(c_lo, c_hi, grid_spec)
        x = np.broadcast_to(centres, (self.candidates, centres.size))
        err = (qp.fake_quantize(x).astype(np.float64) - centres) ** 2
        return alpha, c_lo, c_hi, (err * counts).sum(axis=1) / counts.sum()

    def range(self):
        self._require_data()
        if self._hist.amax == 0:
            return np.float64(0.0), np.float64(0.0)
        alpha, c_lo, c_hi, mse = self.mse_curve()
        k = int(np.flatnonzero(mse == mse.min())[-1])
        return self._clip_to_observed(c_lo[k], c_hi[k])


OBSERVERS = {
    "minmax": MinMaxObserver,
    "ema": EMAObserver,
    "percentile": PercentileObserver,
    "entropy": EntropyObserver,
    "mse": MSEObserver,
}


def make_observer(method: str, spec: QuantSpec, **kwargs) -> Observer:
    """Return the observer named ``method`` (one of :data:`OBSERVERS`)."""
    if method not in OBSERVERS:
        raise ValueError(f"method must be one of {', '.join(OBSERVERS)}, not {method!r}")
    return OBSERVERS[method](spec, **kwargs)
