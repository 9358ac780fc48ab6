"""End to end on real data: scikit-learn's handwritten digits (8×8 images, shipped inside the
``sklearn`` package, no download), an MLP and a small CNN, quantized by every hwq calibrator and
run on float, fake-quant, ``hwq.ref`` and the generated RTL.

Paths (the ``path`` field of every record):

* ``float`` — the trained float model (BatchNorm on running statistics);
* ``fake_quant`` — float arithmetic on quantized values: inputs and every block output
  fake-quantized with the calibrated activation parameters, weights (BatchNorm folded) with
  the weight parameters; the bias stays float;
* ``ref`` — the integer program from ``hwq.lower`` on ``hwq.ref`` (int8 in, int8 logits out);
* ``rtl`` — the same program, every GEMM layer on the Verilog ``hwq build`` writes, through
  cocotb; ``mismatches`` counts output codes that differ from ``hwq.ref`` (must be 0).

PTQ rows calibrate activations on the first :data:`CALIB_SAMPLES` training images with each
observer (asymmetric int8); weights are symmetric narrow-range int8 per tensor or per output
channel. QAT (CNN) fine-tunes the float CNN with fake quantization and straight-through
estimators, BatchNorm folded into the weights with frozen running statistics, activation ranges
tracked by EMA — the scheme of Jacob et al. and Krishnamoorthi's whitepaper. DoReFa rows train
with DoReFa's k-bit weight and activation quantizers (k = 2, 4, 8), which lower to integers
exactly for k ≤ 7 (weights are odd multiples of ``1/(2^k − 1)``, activations ``j/(2^k − 1)``);
8-bit DoReFa weights have 256 levels, one more than symmetric int8 holds, so they are re-quantized
to int8 per channel.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..lower import (
    FlattenLayer,
    IntLayer,
    Program,
    lower_conv2d,
    lower_linear,
    make_conv2d,
    make_linear,
    quantize_bias,
)
from ..quant import QParams, QuantSpec
from ..quant.dfq import weight_qparams
from ..quant.dorefa import (
    quantize_activations,
    quantize_activations_grad,
    quantize_weights,
    quantize_weights_grad,
)
from ..quant.observers import OBSERVERS, EMAObserver, MinMaxObserver, make_observer
from ..ref import run_layer as ref_run_layer
from . import nn

CALIBRATORS = tuple(OBSERVERS)
GRANULARITIES = ("tensor", "channel")
DOREFA_BITS = (2, 4, 8)
MODELS = ("mlp", "cnn")
CALIB_SAMPLES = 512
ACT_SPEC = QuantSpec(bits=8, signed=True, symmetric=False)


def weight_spec(granularity: str) -> QuantSpec:
    """Symmetric narrow-range int8 weights (TFLite's), per tensor or per output channel."""
    if granularity == "channel":
        return QuantSpec(bits=8, signed=True, symmetric=True, narrow_range=True,
                         granularity="channel", axis=0, rounding="half_away")
    return QuantSpec(bits=8, signed=True, symmetric=True, narrow_range=True,
                     rounding="half_away")


# ----------------------------------------------------------------------------- data
@dataclass
class Data:
    """Images NHWC ``[N, 8, 8, 1]`` in [0, 1] and labels 0..9, split into train and test."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _check_images(x, y, where):
    x = np.asarray(x)
    y = np.asarray(y)
    if x.dtype.kind not in "iuf" or y.dtype.kind not in "iuf":
        raise ValueError(f"{where}: images and labels must be numeric")
    if x.ndim == 2 and x.shape[1] == 64:
        x = x.reshape(-1, 8, 8)
    if x.ndim == 4 and x.shape[3] == 1:
        x = x[..., 0]
    if x.ndim != 3 or x.shape[1:] != (8, 8):
        raise ValueError(f"{where}: images must be [N, 8, 8] or [N, 64], not shape {x.shape}")
    if y.shape != (len(x),):
        raise ValueError(f"{where}: labels must have shape ({len(x)},), not {y.shape}")
    if len(x) < 20:
        raise ValueError(f"{where}: {len(x)} images are too few (need at least 20)")
    if not np.all(np.isfinite(x)):
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(f"{where}: image {int(bad[0])} contains NaN or infinite values")
    if x.min() < 0 or x.max() > 16:
        raise ValueError(f"{where}: pixel values must be in 0..16 (scikit-learn's digits), "
                         f"not {float(x.min())}..{float(x.max())}")
    if np.any(y != np.round(y)) or y.min() < 0 or y.max() > 9:
        raise ValueError(f"{where}: labels must be integers 0..9")
    return x.astype(np.float64) / 16.0, y.astype(np.int64)


def load_data(path=None, test_fraction=0.2, seed=0) -> Data:
    """scikit-learn's digits (or ``path``, an ``.npz`` with ``images`` and ``labels`` in the
    same form), shuffled with ``seed`` and split ``1 − test_fraction : test_fraction``."""
    if path is None:
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise RuntimeError("the digits demo needs scikit-learn: pip install "
                               "'hwq[demo]'") from None
        d = load_digits()
        x, y = _check_images(d.images, d.target, "sklearn digits")
    else:
        try:
            with np.load(path, allow_pickle=False) as z:
                if "images" not in z.files or "labels" not in z.files:
                    raise ValueError(f"{path}: needs arrays 'images' and 'labels', has "
                                     f"{', '.join(z.files) or 'none'}")
                x, y = _check_images(z["images"], z["labels"], str(path))
        except (OSError, EOFError) as e:
            raise ValueError(f"{path}: cannot read data ({e})") from None
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order][..., None], y[order]
    n_test = max(1, int(round(len(x) * test_fraction)))
    return Data(x[n_test:], y[n_test:], x[:n_test], y[:n_test])


# ----------------------------------------------------------------------------- models
def _init(rng, shape, fan_in):
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)


def new_model(kind: str, seed: int = 0) -> list[nn.Block]:
    """``mlp``: 64 → 64 → 32 → 10 with ReLU. ``cnn``: conv 3×3×8 + BN + ReLU, conv 3×3×16
    stride 2 + BN + ReLU, linear 256 → 10."""
    rng = np.random.default_rng(seed)
    if kind == "mlp":
        sizes = [64, 64, 32, 10]
        return [nn.Block("linear", _init(rng, (o, i), i), np.zeros(o), relu=j < 2, flatten=j == 0)
                for j, (i, o) in enumerate(zip(sizes[:-1], sizes[1:], strict=False))]
    if kind == "cnn":
        def bn(c):
            return {"gamma": np.ones(c), "beta": np.zeros(c), "mean": np.zeros(c),
                    "var": np.ones(c)}
        return [nn.Block("conv2d", _init(rng, (8, 3, 3, 1), 9), np.zeros(8), 1, True, bn=bn(8)),
                nn.Block("conv2d", _init(rng, (16, 3, 3, 8), 72), np.zeros(16), 2, True,
                         bn=bn(16)),
                nn.Block("linear", _init(rng, (10, 256), 256), np.zeros(10), flatten=True)]
    raise ValueError(f"model must be one of {', '.join(MODELS)}, not {kind!r}")


def check_model(blocks, input_shape=(8, 8, 1), where="model"):
    """Refuse a model whose blocks do not chain from ``input_shape`` to 10 logits."""
    shape = tuple(input_shape)
    for i, blk in enumerate(blocks):
        if blk.flatten:
            shape = (int(np.prod(shape)),)
        if blk.kind == "linear":
            if len(shape) != 1 or blk.w.shape[1] != shape[0]:
                raise ValueError(f"{where}: block {i} (linear) takes {blk.w.shape[1]} inputs but "
                                 f"gets shape {shape}")
            shape = (blk.w.shape[0],)
        else:
            if len(shape) != 3 or blk.w.shape[3] != shape[2]:
                raise ValueError(f"{where}: block {i} (conv2d) takes {blk.w.shape[3]} channels "
                                 f"but gets shape {shape}")
            s = blk.stride
            shape = (-(-shape[0] // s), -(-shape[1] // s), blk.w.shape[0])
    if shape != (10,):
        raise ValueError(f"{where}: the output must be 10 logits, not shape {shape}")


def check_fits(blocks, config, where="model"):
    """Refuse, before any training, a model with a GEMM the hardware config cannot hold."""
    for i, blk in enumerate(blocks):
        n, k = blk.w.shape[0], blk.w[0].size
        if k > config.max_k or n > config.max_n:
            what = f"K={k} exceeds limits.max_k={config.max_k}" if k > config.max_k else \
                f"{n} output channels exceed limits.max_n={config.max_n}"
            raise ValueError(f"{where}: block {i} ({blk.kind}): {what} of config "
                             f"{config.name!r}")


def train_float(kind, data: Data, epochs=None, seed=0):
    blocks = new_model(kind, seed)
    epochs = epochs or {"mlp": 60, "cnn": 30}[kind]
    nn.train(blocks, data.x_train, data.y_train, epochs=epochs, lr=3e-3, seed=seed)
    return blocks


# ----------------------------------------------------------------------------- quantization
def activations(blocks, x):
    """Float activations at every quantization point: the input, then each block's output."""
    acts = [x]
    for blk in blocks:
        x, _ = nn.block_forward(blk, x, "eval")
        acts.append(x)
    return acts


def calibrate(blocks, x, method, batch=64):
    """Activation parameters (input and every block output) from ``method``'s observer fed
    ``x`` in batches of ``batch``."""
    obs = [make_observer(method, ACT_SPEC) for _ in range(len(blocks) + 1)]
    for i in range(0, len(x), batch):
        for o, a in zip(obs, activations(blocks, x[i:i + batch]), strict=True):
            o.update(a)
    return [o.qparams() for o in obs]


def fake_quant_logits(blocks, x, act_qps, granularity):
    """Float forward on quantized values (see the module docstring)."""
    spec = weight_spec(granularity)
    x = act_qps[0].fake_quantize(x).astype(np.float64)
    for i, blk in enumerate(blocks):
        w, b = blk.folded()
        w_q = weight_qparams(w, spec).fake_quantize(w).astype(np.float64)
        if blk.flatten:
            x = x.reshape(len(x), -1)
        z, _ = nn.gemm_forward(blk.kind, x, w_q, blk.stride)
        z = z + b
        if blk.relu:
            z = np.maximum(z, 0)
        x = act_qps[i + 1].fake_quantize(z).astype(np.float64)
    return x


def _hw_args(config):
    return {"rounding": config.rounding, "acc_bits": config.accumulator_width,
            "shift_range": (config.shift_min, config.shift_max)}


def lower_model(blocks, act_qps, granularity, config, where="model") -> Program:
    """The integer program of a float model; refuses a layer ``config`` cannot run."""
    layers = []
    for i, blk in enumerate(blocks):
        if blk.flatten:
            layers.append(FlattenLayer())
        kw = dict(weight_spec=weight_spec(granularity), batchnorm=blk.batchnorm_dict(),
                  activation="relu" if blk.relu else "none", **_hw_args(config))
        try:
            if blk.kind == "linear":
                layer = lower_linear(blk.w, blk.b, act_qps[i], act_qps[i + 1], **kw)
            else:
                layer = lower_conv2d(blk.w, blk.b, act_qps[i], act_qps[i + 1],
                                     stride=blk.stride, padding="same", **kw)
            config.check_layer(layer)
        except ValueError as e:
            raise ValueError(f"{where}: block {i} ({blk.kind}): {e}") from None
        layers.append(layer)
    return Program(layers)


def run_rtl(program: Program, x_q, config, simulator="verilator"):
    """Run every GEMM layer of ``program`` on the RTL (each on the previous layer's RTL
    output). Returns ``(int8 logits, mismatches against hwq.ref, cycles)``."""
    from ..sim import simulate_layer
    mismatches = cycles = 0
    x = x_q
    for layer in program.layers:
        if isinstance(layer, FlattenLayer):
            x = x.reshape(len(x), -1)
            continue
        x, res = simulate_layer(layer, x, config, simulator)
        mismatches += res.mismatches
        cycles += res.cycles
    return x, mismatches, cycles


# ----------------------------------------------------------------------------- QAT
def _ste_fake_quant(qp):
    """Fake quantization with the straight-through estimator (``QParams.fake_quantize_grad``:
    the gradient passes inside the representable range, 0 where the input was clipped)."""
    def fn(a):
        return qp.fake_quantize(a).astype(np.float64), \
            lambda g: qp.fake_quantize_grad(a, g).astype(np.float64)
    return fn


def qat(blocks, data: Data, granularity, epochs=8, lr=5e-4, seed=0):
    """Quantization-aware fine-tuning of a (BatchNorm) float model; returns the tuned copy and
    its activation parameters (EMA ranges, momentum 0.01, started from min/max)."""
    blocks = copy.deepcopy(blocks)
    spec = weight_spec(granularity)
    observers = []
    for a in activations(blocks, data.x_train[:CALIB_SAMPLES]):
        o = EMAObserver(ACT_SPEC, momentum=0.01)
        o.update(a)
        observers.append(o)

    def weight_fn(w):
        return _ste_fake_quant(weight_qparams(w, spec))(w)

    def act_fn(o):
        def fn(a):
            o.update(a)
            return _ste_fake_quant(o.qparams())(a)
        return fn

    rng = np.random.default_rng(seed)
    opt = nn.Adam(blocks, lr)
    for _ in range(epochs):
        order = rng.permutation(len(data.x_train))
        for i in range(0, len(order), 32):
            idx = order[i:i + 32]
            x = data.x_train[idx]
            observers[0].update(x)
            x, _ = _ste_fake_quant(observers[0].qparams())(x)
            logits, back = nn.forward(blocks, x, "frozen", [weight_fn] * len(blocks),
                                      [act_fn(o) for o in observers[1:]])
            _, d = nn.cross_entropy(logits, data.y_train[idx])
            opt.step(back(d))
    return blocks, [o.qparams() for o in observers]


# ----------------------------------------------------------------------------- DoReFa
def _dorefa_alpha(blk):
    return 1.0 / np.sqrt(blk.w[0].size)


def dorefa_fns(blocks, k):
    """Weight and activation hooks of DoReFa-k on the hidden blocks: ``α·quantize_weights(w, k)``
    (α = 1/√fan-in keeps the pre-activations in range) and ``quantize_activations(a, k)``. The
    last layer stays full precision, as in the DoReFa paper (here: int8 per channel on the
    integer paths)."""
    def wfn(alpha):
        def fn(w):
            return alpha * quantize_weights(w, k).astype(np.float64), \
                lambda g: alpha * quantize_weights_grad(w, k, g).astype(np.float64)
        return fn

    def afn(a):
        return quantize_activations(a, k).astype(np.float64), \
            lambda g: quantize_activations_grad(a, k, g).astype(np.float64)
    w_fns = [wfn(_dorefa_alpha(b)) for b in blocks[:-1]] + [None]
    a_fns = [afn] * (len(blocks) - 1) + [None]
    return w_fns, a_fns


def train_dorefa(kind, data: Data, k, epochs=None, seed=0):
    blocks = new_model(kind, seed)
    epochs = epochs or {"mlp": 60, "cnn": 30}[kind]
    w_fns, a_fns = dorefa_fns(blocks, k)
    nn.train(blocks, data.x_train, data.y_train, epochs=epochs, lr=3e-3, seed=seed,
             weight_fns=w_fns, act_fns=a_fns)
    return blocks


def dorefa_logits(blocks, x, k):
    w_fns, a_fns = dorefa_fns(blocks, k)
    return nn.forward(blocks, x, "eval", w_fns, a_fns)[0]


def lower_dorefa(blocks, k, x_calib, config, where="model") -> Program:
    """Integer program of a DoReFa-k model: exact integer weights and activation grid for
    k ≤ 7 (see the module docstring); the last layer's weights take int8 per channel, the input
    and the logits min/max int8 ranges."""
    logits = dorefa_logits(blocks, x_calib, k)
    in_qp = MinMaxObserver(ACT_SPEC).update(x_calib).qparams()
    out_qp = MinMaxObserver(ACT_SPEC).update(logits).qparams()
    levels = (1 << k) - 1
    hidden_qp = QParams(1.0 / levels, -128, ACT_SPEC)
    w_spec = weight_spec("channel")
    layers = []
    for i, blk in enumerate(blocks):
        if blk.flatten:
            layers.append(FlattenLayer())
        alpha = _dorefa_alpha(blk)
        # BatchNorm (running statistics) folds into a per-channel scale s and bias
        if blk.bn is None:
            s, b = np.ones(blk.w.shape[0]), blk.b
        else:
            s = blk.bn["gamma"] / np.sqrt(blk.bn["var"] + nn.BN_EPS)
            b = (blk.b - blk.bn["mean"]) * s + blk.bn["beta"]
        s = np.where(s == 0, 1e-12, s)
        last = i == len(blocks) - 1
        w_dorefa = blk.w if last else quantize_weights(blk.w, k).astype(np.float64)
        sign = np.sign(s).reshape((-1,) + (1,) * (blk.w.ndim - 1))
        if k <= 7 and not last:
            w_int = np.rint(w_dorefa * levels).astype(np.int64) * sign.astype(np.int64)
            w_qp = QParams(alpha * np.abs(s) / levels, 0, w_spec)
        else:
            w_real = (1.0 if last else alpha) * w_dorefa * s.reshape(sign.shape)
            w_qp = weight_qparams(w_real, w_spec)
            w_int = w_qp.quantize(w_real)
        src = in_qp if i == 0 else hidden_qp
        dst = out_qp if last else hidden_qp
        bias_q = quantize_bias(b, src, w_qp)
        hw = _hw_args(config)
        try:
            if blk.kind == "linear":
                layer = make_linear(w_int, bias_q, src, w_qp, dst, "none" if last else "relu",
                                    **hw)
            else:
                layer = make_conv2d(w_int, bias_q, src, w_qp, dst, blk.stride, "same", 1,
                                    "none" if last else "relu", **hw)
            if not last:  # DoReFa's clip(a, 0, 1): codes −128 .. levels − 128
                layer = dataclasses.replace(layer, act_max=levels - 128)
            config.check_layer(layer)
        except ValueError as e:
            raise ValueError(f"{where}: block {i} ({blk.kind}): {e}") from None
        layers.append(layer)
    return Program(layers)


# ----------------------------------------------------------------------------- the run
def _granularity(program):
    """``tensor`` if every GEMM layer has one weight scale, else ``channel``."""
    same = all(np.all(layer.weight_scale == layer.weight_scale[0])
               for layer in program.layers if isinstance(layer, IntLayer))
    return "tensor" if same else "channel"


def _argmax_acc(out, labels):
    return float(np.mean(np.argmax(np.asarray(out), axis=1) == labels))


@dataclass
class Options:
    """What the demo runs. ``rtl`` runs the whole test set on ``simulator`` for every row;
    ``icarus_samples`` images also run on Icarus for the per-channel entropy row and the
    DoReFa-4 row of each model (0 skips Icarus)."""

    models: tuple = MODELS
    calibrators: tuple = CALIBRATORS
    granularities: tuple = GRANULARITIES
    dorefa_bits: tuple = DOREFA_BITS
    qat: bool = True
    rtl: bool = True
    simulator: str = "verilator"
    icarus_samples: int = 60
    epochs: int | None = None
    qat_epochs: int = 8
    seed: int = 0
    data_path: str | None = None
    model_paths: dict = dataclasses.field(default_factory=dict)
    save_dir: str | None = None
    plot_dir: str | None = None
    config: object = None
    log: object = None


def run(opts: Options) -> list[dict]:
    """Run the demo; returns the records (see :func:`format_table`)."""
    from ..sim.runner import default_config
    config = opts.config or default_config()
    log = opts.log or (lambda msg: None)
    data = load_data(opts.data_path, seed=opts.seed)
    x_cal = data.x_train[:CALIB_SAMPLES]
    n_test = len(data.y_test)
    records = []

    def record(model, path, calibrator, granularity, acc, samples=n_test, **extra):
        records.append({"model": model, "path": path, "calibrator": calibrator,
                        "granularity": granularity, "accuracy": acc, "samples": samples}
                       | extra)

    def int_paths(model, program, act_in, calibrator, granularity, icarus):
        x_q = act_in.quantize(data.x_test)
        ref_out = ref_run_layer(program, x_q)
        record(model, "ref", calibrator, granularity, _argmax_acc(ref_out, data.y_test))
        if opts.rtl:
            out, mism, cycles = run_rtl(program, x_q, config, opts.simulator)
            mism += int(np.count_nonzero(out != ref_out))
            record(model, "rtl", calibrator, granularity, _argmax_acc(out, data.y_test),
                   mismatches=mism, simulator=opts.simulator, cycles=cycles)
        if opts.rtl and icarus and opts.icarus_samples and opts.simulator != "icarus":
            n = min(opts.icarus_samples, n_test)
            out, mism, cycles = run_rtl(program, x_q[:n], config, "icarus")
            mism += int(np.count_nonzero(out != ref_out[:n]))
            record(model, "rtl", calibrator, granularity, _argmax_acc(out, data.y_test[:n]),
                   samples=n, mismatches=mism, simulator="icarus", cycles=cycles)

    for model in opts.models:
        where = f"{model} model"
        if model in opts.model_paths:
            blocks = nn.load_model(opts.model_paths[model])
            where = str(opts.model_paths[model])
            check_model(blocks, where=where)
            check_fits(blocks, config, where)
            log(f"{model}: loaded {where}")
        else:
            check_fits(new_model(model), config, where)  # before minutes of training
            log(f"{model}: training float model")
            blocks = train_float(model, data, opts.epochs, opts.seed)
        if opts.save_dir:
            Path(opts.save_dir).mkdir(parents=True, exist_ok=True)
            nn.save_model(blocks, Path(opts.save_dir) / f"{model}.npz")
        float_logits = nn.forward(blocks, data.x_test)[0]
        for gran in opts.granularities:  # the baseline of each granularity's rows
            record(model, "float", "none", gran, nn.accuracy(float_logits, data.y_test))
        ranges = {}
        for cal in opts.calibrators:
            act_qps = calibrate(blocks, x_cal, cal)
            ranges[cal] = act_qps
            for gran in opts.granularities:
                log(f"{model}: {cal} / {gran}")
                record(model, "fake_quant", cal, gran, _argmax_acc(
                    fake_quant_logits(blocks, data.x_test, act_qps, gran), data.y_test))
                program = lower_model(blocks, act_qps, gran, config, where)
                int_paths(model, program, act_qps[0], cal, gran,
                          icarus=(cal == "entropy" and gran == "channel"))
        if opts.plot_dir and ranges:
            plot_calibration(opts.plot_dir, blocks, x_cal, ranges, model)
        if opts.qat and any(b.bn is not None for b in blocks):
            for gran in opts.granularities:
                log(f"{model}: QAT / {gran}")
                tuned, act_qps = qat(blocks, data, gran, opts.qat_epochs, seed=opts.seed)
                record(model, "fake_quant", "qat", gran, _argmax_acc(
                    fake_quant_logits(tuned, data.x_test, act_qps, gran), data.y_test))
                int_paths(model, lower_model(tuned, act_qps, gran, config, where),
                          act_qps[0], "qat", gran, icarus=False)
        for k in opts.dorefa_bits:
            log(f"{model}: DoReFa-{k} training")
            blocks_k = train_dorefa(model, data, k, opts.epochs, opts.seed)
            cal = f"dorefa{k}"
            program = lower_dorefa(blocks_k, k, x_cal, config, where)
            gran = _granularity(program)
            record(model, "fake_quant", cal, gran,
                   nn.accuracy(dorefa_logits(blocks_k, data.x_test, k), data.y_test))
            in_qp = MinMaxObserver(ACT_SPEC).update(x_cal).qparams()
            int_paths(model, program, in_qp, cal, gran, icarus=(k == 4))
    return records


def plot_calibration(plot_dir, blocks, x, ranges, model) -> list[Path]:
    """One histogram per hidden activation (``digits_{model}_{i}.png``, the output of block
    ``i − 1``) with each calibrator's range marked."""
    from ..plot import histogram_with_ranges
    acts = activations(blocks, x)
    paths = []
    for point in range(1, len(blocks)):
        marks = {cal: (float(q[point].dequantize(q[point].qmin)),
                       float(q[point].dequantize(q[point].qmax))) for cal, q in ranges.items()}
        path = Path(plot_dir) / f"digits_{model}_{point}.png"
        histogram_with_ranges(path, acts[point], marks, title=f"digits {model}: output of "
                              f"block {point - 1} ({blocks[point - 1].kind}), {len(x)} images")
        paths.append(path)
    return paths


def format_table(records) -> str:
    """One row per (model, calibrator, granularity) with a column per path; ``float`` is the
    model's float accuracy, repeated on every row for comparison."""
    keys, rows, floats = [], {}, {}
    full = max((r["samples"] for r in records), default=0)
    for r in records:
        if r["path"] == "float":
            floats[r["model"]] = f"{100 * r['accuracy']:.2f}"
            continue
        key = (r["model"], r["calibrator"], r["granularity"])
        if key not in rows:
            keys.append(key)
            rows[key] = {}
        cell = f"{100 * r['accuracy']:.2f}"
        col = r["path"]
        if r["path"] == "rtl":
            cell += f" ({r['mismatches']} mism.)"
            col = f"rtl {r.get('simulator', '')}".strip()
            if r["samples"] != full:
                cell += f" n={r['samples']}"
        rows[key][col] = cell
    cols = []
    for key in keys:
        cols += [c for c in rows[key] if c not in cols]
    header = ["model", "calibrator", "weights", "float"] + cols
    table = [header] + [list(key) + [floats.get(key[0], "")] + [rows[key].get(c, "")
                                                              for c in cols] for key in keys]
    widths = [max(len(str(r[i])) for r in table) for i in range(len(header))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
             for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary(records) -> list[str]:
    """The checks the demo exists for: RTL mismatches and the int8 per-channel accuracy goal
    (within 1 point of float on ``hwq.ref``), calibrator by calibrator; PTQ against QAT."""
    out = []
    mism = sum(r.get("mismatches", 0) for r in records if r["path"] == "rtl")
    n_rtl = sum(1 for r in records if r["path"] == "rtl")
    if n_rtl:
        out.append(f"RTL vs hwq.ref: {mism} mismatching output codes in {n_rtl} runs")
    for model in dict.fromkeys(r["model"] for r in records):
        fl = [r["accuracy"] for r in records if r["model"] == model and r["path"] == "float"]
        ch = [r for r in records if r["model"] == model and r["path"] == "ref"
              and r["granularity"] == "channel" and r["calibrator"] in CALIBRATORS]
        if fl and ch:
            met = [r for r in ch if fl[0] - r["accuracy"] <= 0.01 + 1e-12]
            missed = [r for r in ch if r not in met]
            line = (f"{model}: float {100 * fl[0]:.2f}%; int8 per-channel within 1 point: "
                    + (", ".join(r["calibrator"] for r in met) or "none"))
            if missed:
                line += "; missed by " + ", ".join(
                    f"{r['calibrator']} ({100 * (fl[0] - r['accuracy']):.2f} points)"
                    for r in missed)
            out.append(line)
        for q in (r for r in records if r["model"] == model and r["path"] == "ref"
                  and r["calibrator"] == "qat"):
            p = next((r for r in records if r["model"] == model and r["path"] == "ref"
                      and r["calibrator"] == "minmax"
                      and r["granularity"] == q["granularity"]), None)
            if p:
                out.append(f"{model}: int8 per-{q['granularity']} PTQ (minmax) "
                           f"{100 * p['accuracy']:.2f}% vs QAT {100 * q['accuracy']:.2f}%")
    return out


def write_json(records, path):
    Path(path).write_text(json.dumps(records, indent=1) + "\n")


def main(argv=None):  # pragma: no cover - examples/digits.py calls the CLI
    from ..cli import main as cli_main
    return cli_main(["demo", "digits", *(argv if argv is not None else sys.argv[1:])])
