"""A small NumPy network for the demos: linear and 2-D convolution blocks with optional
BatchNorm and ReLU, trained with Adam on softmax cross-entropy.

Every forward function returns ``(y, back)``: ``back(dy)`` gives ``(dx, grads)``. The hooks
that quantization-aware training needs are two callables on each forward:

* ``weight_fn(w) -> (w_eff, back_w)`` replaces the (BN-folded) weights, e.g. fake
  quantization with a straight-through estimator;
* ``act_fn(a) -> (a_eff, back_a)`` replaces the block's output activation.

Convolutions use NHWC data and weights ``[out, kh, kw, in]``, as ``hwq.lower`` does, and
their patches come from the reference's own :func:`hwq.ref.im2col`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..ref import im2col

BN_EPS = 1e-5


@dataclass(eq=False)
class Block:
    """One GEMM layer: ``flatten? → linear|conv2d → BatchNorm? → ReLU?``.

    ``bn`` holds ``gamma, beta, mean, var`` (running statistics) or is None.
    """

    kind: str
    w: np.ndarray
    b: np.ndarray
    stride: int = 1
    relu: bool = False
    flatten: bool = False
    bn: dict | None = None

    def params(self) -> dict:
        """The trainable arrays by name (BN running statistics are not trainable)."""
        p = {"w": self.w, "b": self.b}
        if self.bn is not None:
            p["gamma"] = self.bn["gamma"]
            p["beta"] = self.bn["beta"]
        return p

    def folded(self):
        """Weights and bias with BatchNorm (running statistics) folded in."""
        if self.bn is None:
            return self.w, self.b
        s = self.bn["gamma"] / np.sqrt(self.bn["var"] + BN_EPS)
        w = self.w * s.reshape((-1,) + (1,) * (self.w.ndim - 1))
        return w, (self.b - self.bn["mean"]) * s + self.bn["beta"]

    def batchnorm_dict(self):
        """BatchNorm as the ``batchnorm=`` argument of ``hwq.lower.lower_*``."""
        if self.bn is None:
            return None
        return {k: self.bn[k] for k in ("gamma", "beta", "mean", "var")} | {"eps": BN_EPS}


# ----------------------------------------------------------------------------- GEMM kernels
_COL_INDEX: dict = {}


def _col_index(shape, k, stride):
    """Input-element index of every im2col entry (−1 for padding), to scatter gradients."""
    key = (shape, k, stride)
    if key not in _COL_INDEX:
        idx = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
        _COL_INDEX[key] = im2col(idx, k, k, (stride, stride), (1, 1), "same", pad_value=-1)[0]
    return _COL_INDEX[key]


def gemm_forward(kind, x, w, stride=1):
    """``x · wᵀ`` for linear, or a 'same'-padded convolution; returns ``(y, back)`` with
    ``back(dy) -> (dx, dw)``."""
    if kind == "linear":
        def back(dy):
            return dy @ w, dy.T @ x
        return x @ w.T, back
    out, k = w.shape[0], w.shape[1]
    rows, (n, oh, ow) = im2col(x, k, k, (stride, stride), (1, 1), "same", pad_value=0.0)
    wm = w.reshape(out, -1)
    y = (rows @ wm.T).reshape(n, oh, ow, out)

    def back(dy):
        dyf = dy.reshape(-1, out)
        dw = (dyf.T @ rows).reshape(w.shape)
        drows = dyf @ wm
        idx = _col_index(x.shape, k, stride)
        keep = idx >= 0
        dx = np.bincount(idx[keep], weights=drows[keep], minlength=x.size).reshape(x.shape)
        return dx, dw
    return y, back


def _identity(a):
    return a, lambda g: g


# ----------------------------------------------------------------------------- blocks
def block_forward(blk: Block, x, mode="eval", weight_fn=None, act_fn=None, momentum=0.1):
    """Forward one block. ``mode``: ``"train"`` (BatchNorm on batch statistics, running
    statistics updated), ``"eval"`` (running statistics), ``"frozen"`` (running statistics
    folded into the weights before ``weight_fn``: the whitepaper's QAT scheme, gradients flow
    to ``w``, ``gamma`` and ``beta`` through the fold)."""
    weight_fn = weight_fn or _identity
    act_fn = act_fn or _identity
    in_shape = x.shape
    if blk.flatten:
        x = x.reshape(x.shape[0], -1)
    axes = tuple(range(x.ndim - 1))
    grads = {}
    if blk.bn is None or mode == "frozen":
        if blk.bn is None:
            w_f, b_f = blk.w, blk.b
        else:
            w_f, b_f = blk.folded()
            s = blk.bn["gamma"] / np.sqrt(blk.bn["var"] + BN_EPS)
        w_q, back_w = weight_fn(w_f)
        z, back_g = gemm_forward(blk.kind, x, w_q, blk.stride)
        z = z + b_f

        def back_pre(dz):
            dx, dwq = back_g(dz)
            dwf = back_w(dwq)
            dbf = dz.sum(axis=axes)
            if blk.bn is None:
                grads.update(w=dwf, b=dbf)
            else:
                shape = (-1,) + (1,) * (blk.w.ndim - 1)
                grads["w"] = dwf * s.reshape(shape)
                ds = (dwf * blk.w).reshape(len(s), -1).sum(axis=1) \
                    + dbf * (blk.b - blk.bn["mean"])
                grads["gamma"] = ds / np.sqrt(blk.bn["var"] + BN_EPS)
                grads["beta"] = dbf
                grads["b"] = dbf * s
            return dx
    else:
        w_q, back_w = weight_fn(blk.w)
        z0, back_g = gemm_forward(blk.kind, x, w_q, blk.stride)
        z0 = z0 + blk.b
        bn = blk.bn
        if mode == "train":
            mean, var = z0.mean(axis=axes), z0.var(axis=axes)
            bn["mean"] = (1 - momentum) * bn["mean"] + momentum * mean
            count = z0.size // z0.shape[-1]
            bn["var"] = (1 - momentum) * bn["var"] + momentum * var * count / max(count - 1, 1)
        else:
            mean, var = bn["mean"], bn["var"]
        inv = 1 / np.sqrt(var + BN_EPS)
        xhat = (z0 - mean) * inv
        z = bn["gamma"] * xhat + bn["beta"]

        def back_pre(dz):
            grads["gamma"] = (dz * xhat).sum(axis=axes)
            grads["beta"] = dz.sum(axis=axes)
            dxhat = dz * bn["gamma"]
            if mode == "train":
                cnt = z0.size // z0.shape[-1]
                dz0 = inv / cnt * (cnt * dxhat - dxhat.sum(axis=axes)
                                   - xhat * (dxhat * xhat).sum(axis=axes))
            else:
                dz0 = dxhat * inv
            dx, dwq = back_g(dz0)
            grads["w"] = back_w(dwq)
            grads["b"] = dz0.sum(axis=axes)
            return dx
    a = np.maximum(z, 0) if blk.relu else z
    y, back_a = act_fn(a)

    def back(dy):
        da = back_a(dy)
        dz = da * (z > 0) if blk.relu else da
        dx = back_pre(dz)
        return dx.reshape(in_shape), grads
    return y, back


def forward(blocks, x, mode="eval", weight_fns=None, act_fns=None):
    """Run the whole network; returns ``(logits, back)`` with ``back(dlogits) -> [grads]``."""
    backs = []
    for i, blk in enumerate(blocks):
        x, b = block_forward(blk, x, mode, weight_fns[i] if weight_fns else None,
                             act_fns[i] if act_fns else None)
        backs.append(b)

    def back(dy):
        out = [None] * len(blocks)
        for i in reversed(range(len(blocks))):
            dy, out[i] = backs[i](dy)
        return out
    return x, back


def cross_entropy(logits, labels):
    """Mean softmax cross-entropy and its gradient."""
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    n = len(labels)
    loss = -np.log(p[np.arange(n), labels] + 1e-12).mean()
    p[np.arange(n), labels] -= 1
    return loss, p / n


class Adam:
    """Adam over the blocks' trainable arrays (updated in place)."""

    def __init__(self, blocks, lr=1e-2, betas=(0.9, 0.999), eps=1e-8):
        self.blocks, self.lr, self.betas, self.eps = blocks, lr, betas, eps
        self.t = 0
        self.m = [{k: np.zeros_like(v) for k, v in b.params().items()} for b in blocks]
        self.v = [{k: np.zeros_like(v) for k, v in b.params().items()} for b in blocks]

    def step(self, grads):
        self.t += 1
        b1, b2 = self.betas
        for blk, g, m, v in zip(self.blocks, grads, self.m, self.v, strict=True):
            for name, p in blk.params().items():
                m[name] = b1 * m[name] + (1 - b1) * g[name]
                v[name] = b2 * v[name] + (1 - b2) * g[name] ** 2
                mh = m[name] / (1 - b1 ** self.t)
                vh = v[name] / (1 - b2 ** self.t)
                p -= self.lr * mh / (np.sqrt(vh) + self.eps)


def train(blocks, x, y, *, epochs, lr, batch=32, seed=0, mode="train", weight_fns=None,
          act_fns=None, lr_decay=True):
    """Mini-batch Adam on softmax cross-entropy; returns the last epoch's mean loss."""
    rng = np.random.default_rng(seed)
    opt = Adam(blocks, lr)
    loss = float("nan")
    for epoch in range(epochs):
        if lr_decay:
            opt.lr = lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs))
        order = rng.permutation(len(x))
        losses = []
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            logits, back = forward(blocks, x[idx], mode, weight_fns, act_fns)
            loss, dlogits = cross_entropy(logits, y[idx])
            opt.step(back(dlogits))
            losses.append(loss)
        loss = float(np.mean(losses))
    return loss


def accuracy(logits, labels) -> float:
    return float(np.mean(np.argmax(logits, axis=1) == labels))


# ----------------------------------------------------------------------------- model files
_BLOCK_KEYS = ("kind", "stride", "relu", "flatten")


def save_model(blocks, path):
    """Write a float model as ``.npz``: arrays ``{i}.w``, ``{i}.b``, ``{i}.bn.*`` and a JSON
    ``meta`` describing each block."""
    arrays = {"meta": np.array(json.dumps(
        [{k: getattr(b, k) for k in _BLOCK_KEYS} | {"bn": b.bn is not None} for b in blocks]))}
    for i, b in enumerate(blocks):
        arrays[f"{i}.w"], arrays[f"{i}.b"] = b.w, b.b
        for k, v in (b.bn or {}).items():
            arrays[f"{i}.bn.{k}"] = v
    np.savez(path, **arrays)


def load_model(path) -> list[Block]:
    """Read a model written by :func:`save_model`, checking every array: shapes that chain,
    finite values, positive BatchNorm variances. Errors name the file, block and array."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        meta = json.loads(str(data["meta"]))
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"{path}: not a hwq demo model file ({e})") from None
    if not isinstance(meta, list) or not meta:
        raise ValueError(f"{path}: meta must be a non-empty list of blocks")
    blocks = []
    for i, m in enumerate(meta):
        where = f"{path}: block {i}"
        if not isinstance(m, dict) or m.get("kind") not in ("linear", "conv2d"):
            raise ValueError(f"{where}: kind must be 'linear' or 'conv2d', not "
                             f"{m.get('kind') if isinstance(m, dict) else m!r}")
        arrays = {}
        names = ["w", "b"] + ([f"bn.{k}" for k in ("gamma", "beta", "mean", "var")]
                              if m.get("bn") else [])
        for name in names:
            if f"{i}.{name}" not in data:
                raise ValueError(f"{where}: array {name!r} is missing")
            a = np.asarray(data[f"{i}.{name}"], np.float64)
            if not np.all(np.isfinite(a)):
                raise ValueError(f"{where}: array {name!r} contains NaN or infinite values")
            arrays[name] = a
        w, b = arrays["w"], arrays["b"]
        ndim = 2 if m["kind"] == "linear" else 4
        if w.ndim != ndim or (ndim == 4 and w.shape[1] != w.shape[2]):
            raise ValueError(f"{where}: {m['kind']} weight must be "
                             f"{'[out, in]' if ndim == 2 else '[out, k, k, in]'}, not shape "
                             f"{w.shape}")
        for name in names[1:]:
            if arrays[name].shape != (w.shape[0],):
                raise ValueError(f"{where}: {name!r} must have shape ({w.shape[0]},), not "
                                 f"{arrays[name].shape}")
        bn = None
        if m.get("bn"):
            bn = {k: arrays[f"bn.{k}"] for k in ("gamma", "beta", "mean", "var")}
            if np.any(bn["var"] < 0):
                raise ValueError(f"{where}: BatchNorm var must be >= 0")
        blocks.append(Block(m["kind"], w, b, int(m.get("stride", 1)), bool(m.get("relu")),
                            bool(m.get("flatten")), bn))
    return blocks
