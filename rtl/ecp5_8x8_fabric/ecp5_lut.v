// hwq's behavioural models of three Lattice ECP5 slice cells, for simulating the Verilog of
// configs with `target: ecp5` (hwq/hw/mux.py builds wide multiplexers from them):
//   LUT4    Z = INIT[{D, C, B, A}]
//   PFUMX   Z = C0 ? ALUT : BLUT   (the slice's multiplexer of its two LUT4 outputs)
//   L6MUX21 Z = SD ? D1 : D0       (the multiplexer of two slices' PFUMX outputs)
// Written from the primitives' documented behaviour; synthesis uses the real primitives,
// never this file.
`default_nettype none
module LUT4 (
    input wire A, B, C, D,
    output wire Z
);
    parameter [15:0] INIT = 16'h0000;
    assign Z = INIT[{D, C, B, A}];
endmodule

module PFUMX (
    input wire ALUT, BLUT, C0,
    output wire Z
);
    assign Z = C0 ? ALUT : BLUT;
endmodule

module L6MUX21 (
    input wire D0, D1, SD,
    output wire Z
);
    assign Z = SD ? D1 : D0;
endmodule
`default_nettype wire
