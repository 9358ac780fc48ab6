// hwq's behavioural model of the Lattice ECP5 MULT18X18D DSP multiplier, for simulating the
// Verilog of configs with `target: ecp5` (hwq/hw/dsp.py). It covers the subset hwq
// instantiates: 18x18 signed or unsigned multiply, the A/B input, pipeline and output registers
// clocked by CLK0 with clock enable CE0 and synchronous reset RST0, and the outputs an ALU54B
// takes from it (ROA/ROB, the operands after the input registers, and SIGNEDP, the product's
// signedness beside it). Any other setting stops the simulation. Written from the primitive's
// documented behaviour; synthesis uses the real primitive, never this file.
`default_nettype none
module MULT18X18D (
    input wire A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0,
    input wire B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0,
    input wire C17, C16, C15, C14, C13, C12, C11, C10, C9, C8, C7, C6, C5, C4, C3, C2, C1, C0,
    input wire SIGNEDA, SIGNEDB, SOURCEA, SOURCEB,
    input wire CLK3, CLK2, CLK1, CLK0, CE3, CE2, CE1, CE0, RST3, RST2, RST1, RST0,
    input wire SRIA17, SRIA16, SRIA15, SRIA14, SRIA13, SRIA12, SRIA11, SRIA10, SRIA9,
    input wire SRIA8, SRIA7, SRIA6, SRIA5, SRIA4, SRIA3, SRIA2, SRIA1, SRIA0,
    input wire SRIB17, SRIB16, SRIB15, SRIB14, SRIB13, SRIB12, SRIB11, SRIB10, SRIB9,
    input wire SRIB8, SRIB7, SRIB6, SRIB5, SRIB4, SRIB3, SRIB2, SRIB1, SRIB0,
    output wire P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20,
    output wire P19, P18, P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3,
    output wire P2, P1, P0,
    output wire ROA17, ROA16, ROA15, ROA14, ROA13, ROA12, ROA11, ROA10, ROA9, ROA8, ROA7, ROA6,
    output wire ROA5, ROA4, ROA3, ROA2, ROA1, ROA0,
    output wire ROB17, ROB16, ROB15, ROB14, ROB13, ROB12, ROB11, ROB10, ROB9, ROB8, ROB7, ROB6,
    output wire ROB5, ROB4, ROB3, ROB2, ROB1, ROB0,
    output wire SIGNEDP
);
    // every parameter of the primitive is accepted; the ones this model ignores (clock
    // dividers, GSR, cascade and shift options) do not change a registered product
    /* verilator lint_off UNUSEDPARAM */
    parameter REG_INPUTA_CLK = "NONE";
    parameter REG_INPUTA_CE = "CE0";
    parameter REG_INPUTA_RST = "RST0";
    parameter REG_INPUTB_CLK = "NONE";
    parameter REG_INPUTB_CE = "CE0";
    parameter REG_INPUTB_RST = "RST0";
    parameter REG_INPUTC_CLK = "NONE";
    parameter REG_INPUTC_CE = "CE0";
    parameter REG_INPUTC_RST = "RST0";
    parameter REG_PIPELINE_CLK = "NONE";
    parameter REG_PIPELINE_CE = "CE0";
    parameter REG_PIPELINE_RST = "RST0";
    parameter REG_OUTPUT_CLK = "NONE";
    parameter REG_OUTPUT_CE = "CE0";
    parameter REG_OUTPUT_RST = "RST0";
    parameter CLK0_DIV = "ENABLED";
    parameter CLK1_DIV = "ENABLED";
    parameter CLK2_DIV = "ENABLED";
    parameter CLK3_DIV = "ENABLED";
    parameter HIGHSPEED_CLK = "NONE";
    parameter GSR = "ENABLED";
    parameter CAS_MATCH_REG = "FALSE";
    parameter SOURCEB_MODE = "B_SHIFT";
    parameter MULT_BYPASS = "DISABLED";
    parameter RESETMODE = "SYNC";
    /* verilator lint_on UNUSEDPARAM */

    localparam REG_A = REG_INPUTA_CLK == "CLK0";
    localparam REG_B = REG_INPUTB_CLK == "CLK0";
    localparam REG_PIPE = REG_PIPELINE_CLK == "CLK0";
    localparam REG_OUT = REG_OUTPUT_CLK == "CLK0";

    initial begin
        if ((REG_INPUTA_CLK != "NONE" && !REG_A) || (REG_INPUTB_CLK != "NONE" && !REG_B)
                || (REG_PIPELINE_CLK != "NONE" && !REG_PIPE)
                || (REG_OUTPUT_CLK != "NONE" && !REG_OUT) || REG_INPUTC_CLK != "NONE"
                || REG_INPUTA_CE != "CE0" || REG_INPUTB_CE != "CE0"
                || REG_PIPELINE_CE != "CE0" || REG_OUTPUT_CE != "CE0"
                || REG_INPUTA_RST != "RST0" || REG_INPUTB_RST != "RST0"
                || REG_PIPELINE_RST != "RST0" || REG_OUTPUT_RST != "RST0"
                || RESETMODE != "SYNC" || MULT_BYPASS != "DISABLED") begin
            $display("MULT18X18D model: unsupported parameter setting");
            $finish;
        end
    end

    wire [17:0] a = {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2,
                     A1, A0};
    wire [17:0] b = {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2,
                     B1, B0};
    reg [17:0] a_r = 18'd0, b_r = 18'd0;
    reg sa_r = 1'b0, sb_r = 1'b0;
    always @(posedge CLK0) begin
        if (RST0) begin
            a_r <= 18'd0; b_r <= 18'd0; sa_r <= 1'b0; sb_r <= 1'b0;
        end else if (CE0) begin
            a_r <= a; b_r <= b; sa_r <= SIGNEDA; sb_r <= SIGNEDB;
        end
    end
    wire [17:0] a_in = REG_A ? a_r : a;
    wire [17:0] b_in = REG_B ? b_r : b;
    wire sa = REG_A ? sa_r : SIGNEDA;
    wire sb = REG_B ? sb_r : SIGNEDB;
    // 36-bit product of the operands, each sign- or zero-extended
    wire signed [36:0] a_ext = {{19{sa & a_in[17]}}, a_in};
    wire signed [36:0] b_ext = {{19{sb & b_in[17]}}, b_in};
    wire signed [73:0] prod_full = a_ext * b_ext;
    wire [35:0] prod = prod_full[35:0];

    reg [35:0] pipe_r = 36'd0, out_r = 36'd0;
    reg sp_pipe_r = 1'b0, sp_out_r = 1'b0;
    wire [35:0] pipe = REG_PIPE ? pipe_r : prod;
    wire sp_pipe = REG_PIPE ? sp_pipe_r : sa | sb;
    always @(posedge CLK0) begin
        if (RST0) begin
            pipe_r <= 36'd0; out_r <= 36'd0; sp_pipe_r <= 1'b0; sp_out_r <= 1'b0;
        end else if (CE0) begin
            pipe_r <= prod; out_r <= pipe; sp_pipe_r <= sa | sb; sp_out_r <= sp_pipe;
        end
    end
    wire [35:0] p = REG_OUT ? out_r : pipe;
    assign SIGNEDP = REG_OUT ? sp_out_r : sp_pipe;
    assign {ROA17, ROA16, ROA15, ROA14, ROA13, ROA12, ROA11, ROA10, ROA9, ROA8, ROA7, ROA6, ROA5,
            ROA4, ROA3, ROA2, ROA1, ROA0} = a_in;
    assign {ROB17, ROB16, ROB15, ROB14, ROB13, ROB12, ROB11, ROB10, ROB9, ROB8, ROB7, ROB6, ROB5,
            ROB4, ROB3, ROB2, ROB1, ROB0} = b_in;
    assign {P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19,
            P18, P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1,
            P0} = p;
endmodule
`default_nettype wire
