// hwq's behavioural model of the Lattice ECP5 DP16KD block RAM, for simulating the Verilog of
// configs with `target: ecp5` (hwq/hw/bram.py). It covers the subset hwq instantiates: the
// pseudo-dual-port 512 x 36 mode (DATA_WIDTH_A = DATA_WIDTH_B = 36) as Yosys' own mapping
// uses it — port A writes {DIB, DIA} at ADA[13:5] with the four 9-bit byte enables on
// ADA[3:0] (WEA high), port B reads {DOB, DOA} at ADB[13:5] — with or without the output
// register, both ports clocked on the rising edge, chip selects decoded as 0b000,
// synchronous reset of the read (RSTB). The read's low half leaves on port A's pins: hwq sets
// both ports' output registers alike (REGMODE_A = REGMODE_B, OCEA and OCEB high), and the
// model registers DOA under REGMODE_A and OCEA, DOB under REGMODE_B and OCEB, so it does not
// matter which port's settings the device applies to which half. A read of the address
// written on the same edge is undefined on the device: the model reads x. The memory starts
// at zero (no INITVAL). Any other setting stops the simulation. Written from the primitive's
// documented behaviour; synthesis uses the real primitive, never this file.
`default_nettype none
module DP16KD (
    input wire DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6,
    input wire DIA5, DIA4, DIA3, DIA2, DIA1, DIA0,
    input wire ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2,
    input wire ADA1, ADA0,
    input wire CEA, OCEA, CLKA, WEA, RSTA, CSA2, CSA1, CSA0,
    output wire DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7,
    output wire DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0,
    input wire DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6,
    input wire DIB5, DIB4, DIB3, DIB2, DIB1, DIB0,
    input wire ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2,
    input wire ADB1, ADB0,
    input wire CEB, OCEB, CLKB, WEB, RSTB, CSB2, CSB1, CSB0,
    output wire DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7,
    output wire DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0
);
    // every parameter of the primitive that hwq or Yosys sets is accepted; the ones this model
    // ignores (reset release, global reset, write modes of a port that does not write) do
    // not change what a read returns
    /* verilator lint_off UNUSEDPARAM */
    parameter DATA_WIDTH_A = 18;
    parameter DATA_WIDTH_B = 18;
    parameter REGMODE_A = "NOREG";
    parameter REGMODE_B = "NOREG";
    parameter RESETMODE = "SYNC";
    parameter ASYNC_RESET_RELEASE = "SYNC";
    parameter CSDECODE_A = "0b000";
    parameter CSDECODE_B = "0b000";
    parameter WRITEMODE_A = "NORMAL";
    parameter WRITEMODE_B = "NORMAL";
    parameter CLKAMUX = "CLKA";
    parameter CLKBMUX = "CLKB";
    parameter GSR = "ENABLED";
    /* verilator lint_on UNUSEDPARAM */

    localparam OUTREG = REGMODE_B == "OUTREG";

    initial begin
        if (DATA_WIDTH_A != 36 || DATA_WIDTH_B != 36 || REGMODE_A != REGMODE_B
                || (REGMODE_B != "NOREG" && !OUTREG) || RESETMODE != "SYNC"
                || CSDECODE_A != "0b000" || CSDECODE_B != "0b000"
                || CLKAMUX != "CLKA" || CLKBMUX != "CLKB") begin
            $display("DP16KD model: unsupported parameter setting");
            $finish;
        end
    end

    wire [35:0] di = {DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8,
                      DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0,
                      DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8,
                      DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0};
    wire [8:0] wa = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5};
    wire [3:0] be = {ADA3, ADA2, ADA1, ADA0};
    wire [8:0] ra = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5};
    wire sel_a = {CSA2, CSA1, CSA0} == 3'b000;
    wire sel_b = {CSB2, CSB1, CSB0} == 3'b000;
    wire [3:0] we = (CEA && WEA && sel_a) ? be : 4'b0000;

    reg [35:0] mem [0:511];
    integer i;
    initial for (i = 0; i < 512; i = i + 1) mem[i] = 36'd0;

    always @(posedge CLKA) begin
        if (we[0]) mem[wa][8:0] <= di[8:0];
        if (we[1]) mem[wa][17:9] <= di[17:9];
        if (we[2]) mem[wa][26:18] <= di[26:18];
        if (we[3]) mem[wa][35:27] <= di[35:27];
    end

    // the read latch (the data out of the array) and the output register behind it
    reg [35:0] rd = 36'd0, rd_q = 36'd0;
    always @(posedge CLKB) begin
        if (RSTB) begin
            rd <= 36'd0;
            rd_q <= 36'd0;
        end else begin
            if (CEB && sel_b)
                rd <= (we != 4'b0000 && wa == ra) ? {36{1'bx}} : mem[ra];
            if (OCEA)
                rd_q[17:0] <= rd[17:0];
            if (OCEB)
                rd_q[35:18] <= rd[35:18];
        end
    end
    wire [35:0] dout = OUTREG ? rd_q : rd;
    assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6,
            DOB5, DOB4, DOB3, DOB2, DOB1, DOB0,
            DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6,
            DOA5, DOA4, DOA3, DOA2, DOA1, DOA0} = dout;
endmodule
`default_nettype wire
