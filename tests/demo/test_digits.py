"""The digits demo: data and model checks, the quantized paths against each other, DoReFa's
exact integer lowering, QAT, the CLI, and (slow) the RTL path."""

import json

import numpy as np
import pytest

from hwq.cli import main
from hwq.config import load_config
from hwq.demo import digits, nn
from hwq.lower import IntLayer
from hwq.quant.dorefa import quantize_activations, quantize_weights
from hwq.ref import run_layer as ref_run_layer

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def data():
    return digits.load_data()


@pytest.fixture(scope="module")
def mlp(data):
    return digits.train_float("mlp", data, epochs=15)


@pytest.fixture(scope="module")
def cnn(data):
    return digits.train_float("cnn", data, epochs=4)


@pytest.fixture(scope="module")
def config():
    return load_config(None)


def test_data_split(data):
    assert data.x_train.shape == (1438, 8, 8, 1) and data.x_test.shape == (359, 8, 8, 1)
    assert data.x_train.min() == 0 and data.x_train.max() == 1
    # pixels are j/16 exactly
    np.testing.assert_array_equal(data.x_test * 16, np.round(data.x_test * 16))
    assert set(np.unique(data.y_test)) == set(range(10))
    again = digits.load_data()
    np.testing.assert_array_equal(again.x_test, data.x_test)


def test_float_models_learn(data, mlp, cnn):
    for blocks in (mlp, cnn):
        digits.check_model(blocks)
        assert nn.accuracy(nn.forward(blocks, data.x_test)[0], data.y_test) > 0.9


@pytest.mark.parametrize("method", digits.CALIBRATORS)
@pytest.mark.parametrize("granularity", digits.GRANULARITIES)
def test_ref_tracks_fake_quant(data, cnn, config, method, granularity):
    """The integer program's logits, dequantized, sit within a few output steps of the
    fake-quant float model on the same calibrated parameters (the integer path rounds the
    bias and the requantization, fake-quant keeps them exact)."""
    act_qps = digits.calibrate(cnn, data.x_train[:256], method)
    fq = digits.fake_quant_logits(cnn, data.x_test, act_qps, granularity)
    program = digits.lower_model(cnn, act_qps, granularity, config)
    out = ref_run_layer(program, act_qps[0].quantize(data.x_test))
    steps = np.abs(act_qps[-1].dequantize(out) - fq) / float(act_qps[-1].scale)
    assert np.percentile(steps, 99) <= 2.0
    assert np.mean(np.argmax(out, 1) == np.argmax(fq, 1)) > 0.97


def test_lowered_weights_are_the_fake_quant_weights(cnn, config):
    act_qps = digits.calibrate(cnn, np.zeros((4, 8, 8, 1)) + np.linspace(0, 1, 64).reshape(
        1, 8, 8, 1), "minmax")
    program = digits.lower_model(cnn, act_qps, "channel", config)
    gemms = [layer for layer in program.layers if isinstance(layer, IntLayer)]
    for blk, layer in zip(cnn, gemms, strict=True):
        w, _ = blk.folded()
        real = layer.weight.astype(np.float64) * layer.weight_scale.reshape(
            (-1,) + (1,) * (w.ndim - 1))
        # symmetric narrow int8 per channel: error at most half a step
        step = np.abs(w).reshape(len(w), -1).max(axis=1) / 127
        assert np.all(np.abs(real - w).reshape(len(w), -1).max(axis=1) <= step / 2 + 1e-7)


@pytest.mark.parametrize("k", [2, 4])
def test_dorefa_lowering_is_exact(data, config, k):
    """For k ≤ 7 the integer program holds DoReFa's weights and activation grid exactly."""
    blocks = digits.train_dorefa("mlp", data, k, epochs=2)
    program = digits.lower_dorefa(blocks, k, data.x_train[:256], config)
    gemms = [layer for layer in program.layers if isinstance(layer, IntLayer)]
    levels = (1 << k) - 1
    for blk, layer in zip(blocks[:-1], gemms, strict=False):
        want = quantize_weights(blk.w, k).astype(np.float64) / np.sqrt(blk.w.shape[1])
        real = layer.weight.astype(np.float64) * layer.weight_scale[:, None]
        np.testing.assert_allclose(real, want, rtol=1e-6, atol=1e-9)
        assert np.all(layer.weight % 2 == levels % 2)  # odd multiples of 1/levels
        assert (layer.act_min, layer.act_max) == (-128, levels - 128)
    # hidden codes of block 1 from block 0's codes: the DoReFa activation of the float sum
    layer = gemms[1]
    x_q = np.random.default_rng(0).integers(-128, -128 + levels + 1, (64, layer.k))
    x_q = x_q.astype(np.int8)
    codes = ref_run_layer(layer, x_q)
    x_real = (x_q.astype(np.float64) + 128) / levels
    z = x_real @ (quantize_weights(blocks[1].w, k) / np.sqrt(blocks[1].w.shape[1])).T \
        + blocks[1].b
    want = quantize_activations(z, k) * levels - 128
    assert np.mean(codes == np.rint(want)) > 0.98  # ties and the rounded bias aside


def test_qat_fine_tunes_with_folded_batchnorm(data, cnn, config):
    tuned, act_qps = digits.qat(cnn, data, "channel", epochs=1)
    assert tuned is not cnn and not np.array_equal(tuned[0].w, cnn[0].w)
    np.testing.assert_array_equal(tuned[0].bn["mean"], cnn[0].bn["mean"])  # frozen
    program = digits.lower_model(tuned, act_qps, "channel", config)
    out = ref_run_layer(program, act_qps[0].quantize(data.x_test))
    assert np.mean(np.argmax(out, 1) == data.y_test) > 0.9


def test_ste_fake_quant_gradient():
    from hwq.quant import QParams, QuantSpec
    qp = QParams(0.5, 0, QuantSpec(bits=8, signed=True, symmetric=True))
    a = np.array([-100.0, -64.0, 0.26, 63.5, 63.6, 70.0])
    y, back = digits._ste_fake_quant(qp)(a)
    np.testing.assert_array_equal(y, [-64.0, -64.0, 0.5, 63.5, 63.5, 63.5])
    np.testing.assert_array_equal(back(np.ones(6)), [0, 1, 1, 1, 0, 0])


def test_bad_data_files(tmp_path):
    np.savez(tmp_path / "shape.npz", images=np.zeros((30, 7, 8)), labels=np.zeros(30))
    with pytest.raises(ValueError, match=r"shape.npz: images must be \[N, 8, 8\] or \[N, 64\], "
                                         r"not shape \(30, 7, 8\)"):
        digits.load_data(tmp_path / "shape.npz")
    x = np.zeros((30, 8, 8))
    x[3, 2, 1] = np.nan
    np.savez(tmp_path / "nan.npz", images=x, labels=np.zeros(30))
    with pytest.raises(ValueError, match="image 3 contains NaN"):
        digits.load_data(tmp_path / "nan.npz")
    np.savez(tmp_path / "labels.npz", images=np.zeros((30, 64)), labels=np.full(30, 10))
    with pytest.raises(ValueError, match="labels must be integers 0..9"):
        digits.load_data(tmp_path / "labels.npz")
    np.savez(tmp_path / "keys.npz", x=np.zeros((30, 64)))
    with pytest.raises(ValueError, match="needs arrays 'images' and 'labels', has x"):
        digits.load_data(tmp_path / "keys.npz")


def test_check_model_names_the_block(mlp):
    bad = [mlp[0], mlp[2]]
    with pytest.raises(ValueError, match=r"block 1 \(linear\) takes 32 inputs but gets shape "
                                         r"\(64,\)"):
        digits.check_model(bad)


def test_layer_the_hardware_cannot_run(cnn, data):
    narrow = load_config("configs/narrow_acc.yaml")  # max_k 64; the CNN's linear has K = 256
    act_qps = digits.calibrate(cnn, data.x_train[:64], "minmax")
    with pytest.raises(ValueError, match=r"cnn: block 1 \(conv2d\): layer K=72 exceeds "
                                         r"limits.max_k=64"):
        digits.lower_model(cnn, act_qps, "channel", narrow, where="cnn")


def test_table_and_summary():
    recs = [{"model": "m", "path": "float", "calibrator": "none", "granularity": "channel",
             "accuracy": 0.99, "samples": 10},
            {"model": "m", "path": "ref", "calibrator": "minmax", "granularity": "channel",
             "accuracy": 0.985, "samples": 10},
            {"model": "m", "path": "rtl", "calibrator": "minmax", "granularity": "channel",
             "accuracy": 0.985, "samples": 10, "mismatches": 0, "simulator": "verilator"}]
    table = digits.format_table(recs).splitlines()
    assert table[0].split() == ["model", "calibrator", "weights", "float", "ref", "rtl",
                                "verilator"]
    assert table[2].split() == ["m", "minmax", "channel", "99.00", "98.50", "98.50", "(0",
                                "mism.)"]
    assert len(table) == 3
    lines = digits.summary(recs)
    assert lines[0] == "RTL vs hwq.ref: 0 mismatching output codes in 1 runs"
    assert lines[1] == "m: float 99.00%; int8 per-channel within 1 point: minmax"
    recs[1]["accuracy"] = 0.975
    assert digits.summary(recs)[1] == ("m: float 99.00%; int8 per-channel within 1 point: "
                                       "none; missed by minmax (1.50 points)")


def _cli_records(tmp_path, *extra):
    out = tmp_path / "r.json"
    rc = main(["demo", "digits", "--no-rtl", "--models", "mlp", "--epochs", "3",
               "--json", str(out), *extra])
    return rc, (json.loads(out.read_text()) if out.exists() else None)


def test_cli_json_records(tmp_path, capsys):
    rc, recs = _cli_records(tmp_path, "--plots", str(tmp_path / "plots"),
                            "--save-models", str(tmp_path / "models"))
    assert rc == 0
    assert {r["path"] for r in recs} == {"float", "fake_quant", "ref"}
    for r in recs:
        assert set(r) >= {"model", "path", "calibrator", "granularity", "accuracy", "samples"}
        assert 0 <= r["accuracy"] <= 1 and r["samples"] == 359
        assert r["granularity"] in ("tensor", "channel")
    cals = {r["calibrator"] for r in recs if r["path"] == "ref"}
    assert cals == set(digits.CALIBRATORS) | {"dorefa2", "dorefa4", "dorefa8"}
    for i in (1, 2):
        assert (tmp_path / "plots" / f"digits_mlp_{i}.png").stat().st_size > 10_000
    assert "fake_quant" in capsys.readouterr().out
    assert sum(r["path"] == "float" for r in recs) == 2  # one baseline per granularity
    # the saved model runs again, giving the same float accuracy
    rc, again = _cli_records(tmp_path, "--model", f"mlp={tmp_path / 'models' / 'mlp.npz'}")
    assert rc == 0
    assert again[0]["accuracy"] == recs[0]["accuracy"]


def test_cli_errors(tmp_path, capsys):
    rng = np.random.default_rng(0)
    blocks = digits.new_model("mlp")
    blocks[2].w[1, 1] = np.nan
    nn.save_model(blocks, tmp_path / "nan.npz")
    assert main(["demo", "digits", "--no-rtl", "--model", f"mlp={tmp_path / 'nan.npz'}",
                 "--models", "mlp"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nan.npz: block 2: array 'w' contains NaN" in err
    np.savez(tmp_path / "d.npz", images=rng.integers(0, 17, (40, 8, 9)), labels=np.zeros(40))
    assert main(["demo", "digits", "--no-rtl", "--data", str(tmp_path / "d.npz")]) == 1
    assert "images must be [N, 8, 8]" in capsys.readouterr().err
    assert main(["demo", "digits", "--epochs", "0"]) == 1
    assert "--epochs must be >= 1, not 0" in capsys.readouterr().err
    assert main(["demo", "digits", "--models", "vgg"]) == 1
    assert "unknown model 'vgg'" in capsys.readouterr().err
    assert main(["demo", "digits", "--model", "mlp"]) == 1
    assert "--model must be NAME=FILE.npz" in capsys.readouterr().err
    assert main(["demo", "digits", "--no-rtl", "--models", "cnn", "--epochs", "1",
                 "--config", "configs/narrow_acc.yaml"]) == 1
    err = capsys.readouterr().err
    assert err == ("hwq: error: cnn model: block 1 (conv2d): K=72 exceeds limits.max_k=64 of "
                   "config 'narrow_acc'\n")  # refused before training


@pytest.mark.slow
def test_full_demo_on_the_rtl(tmp_path, capsys):
    """The README's demo command, complete: every row on Verilator with the whole test set,
    two rows per model on Icarus, zero mismatches, and the RTL accuracy equal to hwq.ref's."""
    from simulators import require
    require("verilator")
    require("icarus")
    out = tmp_path / "digits.json"
    assert main(["demo", "digits", "--json", str(out), "--plots", str(tmp_path)]) == 0
    recs = json.loads(out.read_text())
    printed = capsys.readouterr().out
    rtl = [r for r in recs if r["path"] == "rtl"]
    ref = {(r["model"], r["calibrator"], r["granularity"]): r for r in recs
           if r["path"] == "ref"}
    assert {(r["model"], r["calibrator"], r["granularity"]) for r in rtl
            if r["simulator"] == "verilator"} == set(ref)
    icarus = [r for r in rtl if r["simulator"] == "icarus"]
    assert {r["model"] for r in icarus} == {"mlp", "cnn"} and len(icarus) == 4
    for r in rtl:
        assert r["mismatches"] == 0 and r["cycles"] > 0
        twin = ref[(r["model"], r["calibrator"], r["granularity"])]
        if r["simulator"] == "verilator":
            assert r["samples"] == twin["samples"] == 359
            assert r["accuracy"] == twin["accuracy"]
        else:
            assert r["samples"] == 60
    assert "RTL vs hwq.ref: 0 mismatching output codes" in printed
    # the goal holds for min/max on both models (the demo prints the rest)
    for model in ("mlp", "cnn"):
        fl = next(r for r in recs if r["model"] == model and r["path"] == "float")
        assert fl["accuracy"] - ref[(model, "minmax", "channel")]["accuracy"] <= 0.01
