import json
import subprocess
import sys

import numpy as np
import pytest

from hwq.cli import main
from hwq.quant import MinMaxObserver, QParams, QuantSpec


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 300)).astype(np.float32)
    path = tmp_path / "x.npy"
    np.save(path, x)
    return path, x


def test_calibrate_json_per_channel(data, capsys):
    path, x = data
    assert main(["calibrate", str(path), "--per-channel", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    spec = QuantSpec(granularity="channel", axis=0)
    assert QParams.from_dict(out["qparams"]) == MinMaxObserver(spec).update(x).qparams()
    assert out["lo"] == x.min(axis=1).tolist()


def test_calibrate_npz_batches_and_text(tmp_path, capsys):
    rng = np.random.default_rng(1)
    batches = {f"b{i}": rng.standard_normal(100) for i in range(3)}
    path = tmp_path / "d.npz"
    np.savez(path, **batches)
    assert main(["calibrate", str(path), "--method", "percentile", "--percentile", "100",
                 "--symmetric"]) == 0
    text = capsys.readouterr().out
    assert "3 batch(es)" in text
    amax = max(np.abs(b).max() for b in batches.values())
    lo = min(b.min() for b in batches.values())
    assert f"{lo:.7g}" in text and f"{amax:.7g}" in text


def test_calibrate_plot(data, tmp_path, capsys):
    path, _ = data
    png = tmp_path / "h.png"
    assert main(["calibrate", str(path), "--method", "entropy", "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args, message", [
    (["--bits", "40"], "hwq: error: bits must be an integer in 2..16, not 40"),
    (["--per-channel", "5"], "hwq: error: {path}: axis must be in -2..1 for a 2-d tensor, not 5"),
    (["--method", "minmax", "--percentile", "99"],
     "hwq: error: --percentile only applies to --method percentile"),
    (["--method", "percentile", "--percentile", "0"],
     "hwq: error: percentile must be in (0, 100], not 0.0"),
])
def test_calibrate_bad_options(data, capsys, args, message):
    path, _ = data
    assert main(["calibrate", str(path)] + args) == 1
    err = capsys.readouterr().err
    assert err.strip() == message.format(path=path)


def test_calibrate_bad_data(tmp_path, capsys):
    nan = tmp_path / "nan.npy"
    np.save(nan, np.array([1.0, np.nan]))
    assert main(["calibrate", str(nan)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"hwq: error: {nan}: calibration data contains 1 NaN or infinite value(s) out of 2; "
        "pass nan_policy='omit' to ignore them")
    assert main(["calibrate", str(nan), "--nan-policy", "omit"]) == 0
    capsys.readouterr()
    empty = tmp_path / "e.npy"
    np.save(empty, np.zeros(0))
    assert main(["calibrate", str(empty)]) == 1
    assert "calibration data is empty" in capsys.readouterr().err
    text = tmp_path / "t.npy"
    text.write_text("not numpy")
    assert main(["calibrate", str(text)]) == 1
    assert capsys.readouterr().err.startswith(f"hwq: error: cannot read DATA file '{text}'")
    assert main(["calibrate", str(tmp_path / "missing.npy")]) == 1
    assert main(["calibrate", str(tmp_path / "x.csv")]) == 1


def test_console_script_prints_one_line_without_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "hwq.cli", "calibrate", str(tmp_path / "no.npy")],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
