// hwq's behavioural model of the Lattice ECP5 CCU2C carry-chain cell (two bits of a ripple
// adder), for simulating the Verilog of configs with `target: ecp5` (hwq/hw/accumulator.py).
// Each half has a LUT4 over {D, C, B, A} whose output is the bit's carry propagate p; the sum
// is p xor the carry in, and the carry out is the carry in when p = 1 and otherwise the
// generate g, which the cell takes from the same INIT's low four bits as a LUT2 over {B, A}
// (the LUT4's function at C = D = 0). It covers INJECT1_0 = INJECT1_1 = "NO" (the carry runs
// through both halves), which is all hwq instantiates; any other setting stops the simulation.
// Written from the primitive's documented behaviour; synthesis uses the real primitive, never
// this file.
`default_nettype none
module CCU2C (
    input wire CIN,
    input wire A0, B0, C0, D0,
    input wire A1, B1, C1, D1,
    output wire S0, S1,
    output wire COUT
);
    parameter [15:0] INIT0 = 16'h0000;
    parameter [15:0] INIT1 = 16'h0000;
    parameter INJECT1_0 = "YES";
    parameter INJECT1_1 = "YES";

    initial begin
        if (INJECT1_0 != "NO" || INJECT1_1 != "NO") begin
            $display("CCU2C model: only INJECT1_0 = INJECT1_1 = \"NO\" is modelled");
            $finish;
        end
    end

    wire p0 = INIT0[{D0, C0, B0, A0}];
    wire g0 = INIT0[{B0, A0}];
    wire c1 = p0 ? CIN : g0;
    wire p1 = INIT1[{D1, C1, B1, A1}];
    wire g1 = INIT1[{B1, A1}];
    assign S0 = p0 ^ CIN;
    assign S1 = p1 ^ c1;
    assign COUT = p1 ? c1 : g1;
endmodule
`default_nettype wire
