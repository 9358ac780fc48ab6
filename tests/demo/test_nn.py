"""The demo's NumPy network: gradients against finite differences, convolution against direct
loops, BatchNorm folding, model files."""

import copy

import numpy as np
import pytest

from hwq.demo import nn


def _bn(c, rng):
    return {"gamma": rng.uniform(0.5, 1.5, c), "beta": rng.normal(0, 0.3, c),
            "mean": rng.normal(0, 0.3, c), "var": rng.uniform(0.5, 2.0, c)}


def _blocks(rng, bn):
    return [nn.Block("conv2d", rng.normal(0, 0.5, (3, 3, 3, 2)), rng.normal(0, 0.1, 3), 1, True,
                     bn=_bn(3, rng) if bn else None),
            nn.Block("conv2d", rng.normal(0, 0.5, (4, 3, 3, 3)), rng.normal(0, 0.1, 4), 2, True,
                     bn=_bn(4, rng) if bn else None),
            nn.Block("linear", rng.normal(0, 0.5, (5, 16)), rng.normal(0, 0.1, 5), flatten=True)]


def _loss(blocks, x, y, mode):
    logits, _ = nn.forward(copy.deepcopy(blocks), x, mode)
    return nn.cross_entropy(logits, y)[0]


@pytest.mark.parametrize("mode,bn", [("eval", False), ("train", True), ("eval", True),
                                     ("frozen", True)])
def test_gradients_match_finite_differences(mode, bn):
    rng = np.random.default_rng(1)
    blocks = _blocks(rng, bn)
    x = rng.normal(0, 1, (3, 4, 4, 2))
    y = np.array([0, 3, 4])
    logits, back = nn.forward(copy.deepcopy(blocks), x, mode)
    _, d = nn.cross_entropy(logits, y)
    grads = back(d)
    eps = 1e-6
    for i, blk in enumerate(blocks):
        for name, p in blk.params().items():
            flat = p.reshape(-1)
            for j in rng.choice(flat.size, size=min(6, flat.size), replace=False):
                old = flat[j]
                flat[j] = old + eps
                up = _loss(blocks, x, y, mode)
                flat[j] = old - eps
                down = _loss(blocks, x, y, mode)
                flat[j] = old
                num = (up - down) / (2 * eps)
                got = grads[i][name].reshape(-1)[j]
                assert got == pytest.approx(num, rel=1e-4, abs=1e-7), (i, name, j)


def test_input_gradient():
    """dx chained through every block's back() matches finite differences on the input."""
    rng = np.random.default_rng(2)
    blocks = _blocks(rng, True)
    x = rng.normal(0, 1, (2, 4, 4, 2))
    y = np.array([1, 2])
    outs, backs = [x], []
    for blk in blocks:
        o, b = nn.block_forward(blk, outs[-1], "eval")
        outs.append(o)
        backs.append(b)
    _, g = nn.cross_entropy(outs[-1], y)
    for b in reversed(backs):
        g, _ = b(g)
    assert g.shape == x.shape
    eps = 1e-6
    for idx in [(0, 0, 0, 0), (1, 2, 3, 1), (0, 3, 1, 0)]:
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        num = (_loss(blocks, xp, y, "eval") - _loss(blocks, xm, y, "eval")) / (2 * eps)
        assert g[idx] == pytest.approx(num, rel=1e-4, abs=1e-8)


def test_conv_against_direct_loops():
    rng = np.random.default_rng(3)
    for stride in (1, 2):
        x = rng.normal(0, 1, (2, 5, 6, 3))
        w = rng.normal(0, 1, (4, 3, 3, 3))
        y, _ = nn.gemm_forward("conv2d", x, w, stride)
        oh, ow = -(-5 // stride), -(-6 // stride)
        # TFLite 'same': total padding max((o-1)·s + 3 - i, 0), the odd pixel at the end
        ph = max((oh - 1) * stride + 3 - 5, 0)
        pw = max((ow - 1) * stride + 3 - 6, 0)
        xp = np.zeros((2, 5 + ph, 6 + pw, 3))
        xp[:, ph // 2:ph // 2 + 5, pw // 2:pw // 2 + 6] = x
        want = np.zeros((2, oh, ow, 4))
        for n in range(2):
            for i in range(oh):
                for j in range(ow):
                    for o in range(4):
                        patch = xp[n, i * stride:i * stride + 3, j * stride:j * stride + 3]
                        want[n, i, j, o] = np.sum(patch * w[o])
        np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)


def test_frozen_forward_equals_eval():
    """Folding BatchNorm's running statistics into the weights changes nothing in eval."""
    rng = np.random.default_rng(4)
    blocks = _blocks(rng, True)
    x = rng.normal(0, 1, (3, 4, 4, 2))
    np.testing.assert_allclose(nn.forward(blocks, x, "frozen")[0], nn.forward(blocks, x)[0],
                               rtol=1e-10, atol=1e-12)


def test_train_mode_updates_running_statistics():
    rng = np.random.default_rng(5)
    blk = nn.Block("linear", rng.normal(0, 1, (3, 4)), np.zeros(3),
                   bn={"gamma": np.ones(3), "beta": np.zeros(3), "mean": np.zeros(3),
                       "var": np.ones(3)})
    x = rng.normal(2, 1, (50, 4))
    z = x @ blk.w.T
    nn.block_forward(blk, x, "train", momentum=1.0)
    np.testing.assert_allclose(blk.bn["mean"], z.mean(axis=0))
    np.testing.assert_allclose(blk.bn["var"], z.var(axis=0, ddof=1))


def test_training_learns_a_separable_problem():
    rng = np.random.default_rng(6)
    x = rng.normal(0, 1, (400, 5))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    blocks = [nn.Block("linear", rng.normal(0, 0.3, (8, 5)), np.zeros(8), relu=True),
              nn.Block("linear", rng.normal(0, 0.3, (2, 8)), np.zeros(2))]
    before = nn.accuracy(nn.forward(blocks, x)[0], y)
    nn.train(blocks, x, y, epochs=20, lr=1e-2)
    assert nn.accuracy(nn.forward(blocks, x)[0], y) > max(0.95, before)


def test_model_file_round_trip(tmp_path):
    rng = np.random.default_rng(7)
    blocks = _blocks(rng, True)
    nn.save_model(blocks, tmp_path / "m.npz")
    back = nn.load_model(tmp_path / "m.npz")
    x = rng.normal(0, 1, (2, 4, 4, 2))
    np.testing.assert_array_equal(nn.forward(back, x)[0], nn.forward(blocks, x)[0])
    assert [(b.kind, b.stride, b.relu, b.flatten) for b in back] == \
        [(b.kind, b.stride, b.relu, b.flatten) for b in blocks]


def test_model_file_errors(tmp_path):
    rng = np.random.default_rng(8)
    blocks = _blocks(rng, True)
    blocks[1].w[0, 0, 0, 0] = np.nan
    nn.save_model(blocks, tmp_path / "nan.npz")
    with pytest.raises(ValueError, match=r"nan.npz: block 1: array 'w' contains NaN"):
        nn.load_model(tmp_path / "nan.npz")
    blocks = _blocks(rng, False)
    blocks[0].b = np.zeros(5)
    nn.save_model(blocks, tmp_path / "shape.npz")
    with pytest.raises(ValueError, match=r"block 0: 'b' must have shape \(3,\), not \(5,\)"):
        nn.load_model(tmp_path / "shape.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a hwq demo model file"):
        nn.load_model(tmp_path / "junk.npz")
    with pytest.raises(ValueError, match="not a hwq demo model file"):
        nn.load_model(tmp_path / "missing.npz")
