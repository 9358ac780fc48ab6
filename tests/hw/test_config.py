import pytest

from hwq.config import HwConfig, load_config, min_accumulator_width


def test_default_yaml_spells_out_the_defaults():
    assert load_config("configs/default.yaml") == HwConfig()


def test_derived_accumulator_width():
    # |Σ x·w| reaches max_k · 2^14: 1024·2^14 = 2^24 -> 25 magnitude bits + sign = 26
    assert min_accumulator_width(1024) == 26
    assert min_accumulator_width(64) == 22
    assert min_accumulator_width(1) == 16
    assert HwConfig(max_k=64).accumulator_width == 22
    assert load_config("configs/narrow_acc.yaml").accumulator_width == 22


@pytest.mark.parametrize("d, message", [
    ({"array": {"rows": 0}}, r"^array\.rows must be an integer in 1\.\.64, not 0$"),
    ({"array": {"cols": "8"}}, r"^array\.cols must be an integer in 1\.\.64, not '8'$"),
    ({"array": {"dataflow": "weight_stationary"}},
     r"^array\.dataflow must be one of output_stationary, not 'weight_stationary'$"),
    ({"operands": {"bits": 4}}, r"^operands\.bits must be 8"),
    ({"operands": {"input_zero_point": "pe"}}, r"^operands\.input_zero_point must be 'folded'"),
    ({"limits": {"max_k": 1024}, "accumulator_width": 20},
     r"^accumulator_width must be >= 26 for max_k=1024 \(\|Σ x·w\| reaches 1024·2\^14\), "
     r"not 20$"),
    ({"accumulator_width": 40}, r"^accumulator_width must be an integer in 2\.\.32, not 40$"),
    ({"requant": {"rounding": "up"}}, r"^requant\.rounding must be one of double, single, "
                                      r"double_half_up, not 'up'$"),
    ({"requant": {"shift_range": [0, -5]}}, r"^requant\.shift_range must be \[low, high\] with "
                                            r"low <= high, not \[0, -5\]$"),
    ({"requant": {"shift_range": [-40, 0]}},
     r"^requant\.shift_range\[0\] must be an integer in -31\.\.30, not -40$"),
    ({"requant": {"shift_range": 3}}, r"^requant\.shift_range must be \[low, high\], not 3$"),
    ({"requant": {"lanes": 3}}, r"^requant\.lanes must divide array\.cols=8 \(a row drains in "
                                r"equal parts\), not 3$"),
    ({"requant": {"lanes": 0}}, r"^requant\.lanes must be an integer in 1\.\.8, not 0$"),
    ({"array": {"cols": 6}, "requant": {"lanes": 12}},
     r"^requant\.lanes must be an integer in 1\.\.6, not 12$"),
    ({"pipeline": {"requant_stages": 16}},
     r"^pipeline\.requant_stages must be an integer in 2\.\.15, not 16$"),
    ({"out_fifo_depth": -1}, r"^out_fifo_depth must be an integer in 0\.\.1024, not -1$"),
    ({"pipeline": {"multiplier": "yes"}}, r"^pipeline\.multiplier must be true or false, "
                                          r"not 'yes'$"),
    ({"target": "xilinx"}, r"^target must be one of generic, ecp5, ice40, not 'xilinx'$"),
    ({"target": "ecp5", "pipeline": {"multiplier": False}},
     r"^pipeline\.multiplier must be true with target 'ecp5' \(the product is registered "
     r"inside the DSP\)$"),
    ({"arrays": {}}, r"^unknown config field 'arrays' \(known: "),
    ({"array": {"row": 3}}, r"^unknown config field array\.'row' \(known: accumulator, cols, "
                            r"dataflow, rows\)$"),
    ({"array": {"accumulator": "alu"}},
     r"^array\.accumulator must be one of fabric, dsp, not 'alu'$"),
    ({"array": {"accumulator": "dsp"}},
     r"^array\.accumulator: dsp needs target ecp5 \(the ALU54B beside each pair of "
     r"MULT18X18D\), not target 'generic'$"),
    ({"array": {"accumulator": "dsp", "cols": 5}, "target": "ecp5"},
     r"^array\.accumulator: dsp needs an even array\.cols \(columns 2c and 2c \+ 1 share a "
     r"DSP slice\), not 5$"),
    ({"array": {"accumulator": "dsp"}, "target": "ecp5", "limits": {"max_k": 4096}},
     r"^array\.accumulator: dsp needs accumulator_width <= 26 \(two sums share the "
     r"ALU54B's 54 bits\), not 28$"),
    ({"array": 3}, r"^array must be a mapping, not 3$"),
    ({"name": "my engine"}, r"^name must be letters, digits and underscores, not 'my engine'$"),
])
def test_bad_configs(d, message):
    with pytest.raises(ValueError, match=message):
        HwConfig.from_dict(d)


def test_bad_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("array: {rows: 4\n")
    with pytest.raises(ValueError, match=rf"^malformed YAML in {bad} at line 2, column 1: "):
        load_config(bad)
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match=rf"^{bad}: a config must be a mapping of sections, "
                                         r"not list$"):
        load_config(bad)
    with pytest.raises(ValueError, match=r"^cannot read config '.*missing\.yaml': No such file"):
        load_config(tmp_path / "missing.yaml")


def test_round_trip_through_dict():
    for name in ("default", "nonsquare", "row1x16", "per_tensor", "single_rounding",
                 "narrow_acc"):
        c = load_config(f"configs/{name}.yaml")
        assert HwConfig.from_dict(c.to_dict()) == c


def test_requant_lanes_set_the_drain_and_the_shortest_tile():
    # one row per step by default; with L lanes a row of `cols` results takes cols/L steps, and
    # tiles must be beats·rows + cols − 1 steps apart (tests/hw/test_mac_array.py shows
    # one step fewer collides)
    assert HwConfig().requant_lanes == 8 and HwConfig().drain_beats == 1
    assert HwConfig().min_tile_steps == 8 + 8 - 1
    cfg = HwConfig.from_dict({"array": {"rows": 4, "cols": 6}, "requant": {"lanes": 2}})
    assert (cfg.requant_lanes, cfg.drain_beats, cfg.min_tile_steps) == (2, 3, 3 * 4 + 6 - 1)
    assert HwConfig.from_dict(cfg.to_dict()) == cfg
