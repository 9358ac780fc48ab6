import numpy as np
import pytest

from hwq.quant import dorefa


def test_quantize_k_hand_values():
    # n = 3: round(0)=0, round(0.6)=1, round(1.5)=2 (half even), round(3)=3
    assert dorefa.quantize_k([0.0, 0.2, 0.5, 1.0], 2).tolist() == pytest.approx(
        [0, 1 / 3, 2 / 3, 1])
    assert dorefa.quantize_k([0.5], 1).tolist() == [0.0]  # round(0.5) = 0 (half even)
    r = np.random.default_rng(0).random(100).astype(np.float32)
    assert np.array_equal(dorefa.quantize_k(r, 32), r)
    with pytest.raises(ValueError, match=r"^r must lie in \[0, 1\]$"):
        dorefa.quantize_k([1.5], 2)
    with pytest.raises(ValueError, match=r"^k must be an integer in 1\.\.32, not 0$"):
        dorefa.quantize_k([0.5], 0)


def test_weights_hand_values():
    # tanh([0, 10, -10]) ≈ [0, 1, -1]; /(2·max) + ½ = [.5, 1, 0]; q_2 = [2/3, 1, 0]; 2q-1
    assert dorefa.quantize_weights([0.0, 10.0, -10.0], 2).tolist() == pytest.approx(
        [1 / 3, 1, -1])
    w = np.array([0.5, -1.5, 0.0, 2.0])
    assert dorefa.quantize_weights(w, 1).tolist() == [1.0, -1.0, 1.0, 1.0]
    assert np.array_equal(dorefa.quantize_weights(w, 32), w.astype(np.float32))
    levels = np.unique(dorefa.quantize_weights(np.random.default_rng(1).standard_normal(999), 3))
    assert levels.size <= 8 and np.allclose(levels, -1 + 2 * np.round((levels + 1) / 2 * 7) / 7)
    assert dorefa.quantize_weights(np.zeros(3), 4).tolist() == pytest.approx([1 / 15] * 3)


def test_activations():
    a = np.array([-1.0, 0.1, 0.5, 0.9, 3.0])
    assert dorefa.quantize_activations(a, 1).tolist() == [0, 0, 0, 1, 1]
    assert dorefa.quantize_activations(a, 2).tolist() == pytest.approx([0, 0, 2 / 3, 1, 1])
    g = np.ones(5)
    assert dorefa.quantize_activations_grad(a, 2, g).tolist() == [0, 1, 1, 1, 0]


def test_gradients():
    rng = np.random.default_rng(2)
    g = rng.standard_normal((4, 3, 5))
    g[2] = 0.0
    g[1] *= 1000.0
    q = dorefa.quantize_gradients(g, 4, np.random.default_rng(3))
    assert np.array_equal(q, dorefa.quantize_gradients(g, 4, np.random.default_rng(3)))
    assert not q[2].any()
    for n in (0, 1, 3):
        m = np.abs(g[n]).max()
        codes = (q[n] / (2 * m) + 0.5) * 15
        assert np.allclose(codes, np.round(codes), atol=1e-4)   # on the k-bit grid of sample n
        assert np.all(np.abs(q[n]) <= m * (1 + 1e-6))
    # the noise makes the quantizer unbiased in expectation away from the clip
    x = np.full((20000, 1), 0.3)
    x[0] = 1.0
    mean = dorefa.quantize_gradients(x, 2, np.random.default_rng(4))[1:].mean()
    assert abs(mean - 0.3) < 0.01
    with pytest.raises(TypeError, match=r"^rng must be a numpy\.random\.Generator"):
        dorefa.quantize_gradients(g, 4, 3)


def test_weight_ste_gradient_matches_finite_difference_of_the_transform():
    w = np.random.default_rng(5).standard_normal(10)
    t = np.tanh(w)
    m = np.abs(t).max()
    h = 1e-6
    # derivative of 2·(tanh w / 2m + ½) − 1 = tanh w / m with m held constant
    fd = (np.tanh(w + h) - np.tanh(w - h)) / (2 * h) / m
    assert np.allclose(dorefa.quantize_weights_grad(w, 4, np.ones(10)), fd, rtol=1e-5)
    assert dorefa.quantize_weights_grad(w, 1, np.full(10, 2.0)).tolist() == [2.0] * 10
