// hwq's behavioural model of the Lattice iCE40 SB_MAC16 DSP, for simulating the Verilog of
// configs with `target: ice40` (hwq/hw/dsp.py, Mul8x2). It covers the subset hwq
// instantiates: 8x8 mode with signed A and B, the A and B input registers and both 8x8 product
// registers on, clock enable CE, the input resets IRSTTOP/IRSTBOT, outputs selecting the
// registered 8x8 products (O[31:16] = A[15:8]*B[15:8], O[15:0] = A[7:0]*B[7:0]). Any other setting stops the
// simulation. Written from the primitive's documented behaviour; tests/hw/test_dsp_models.py
// checks it against Yosys' own SB_MAC16 simulation model. Synthesis uses the real primitive,
// never this file.
`default_nettype none
module SB_MAC16 (
    input  wire        CLK, CE,
    input  wire [15:0] C, A, B, D,
    input  wire        AHOLD, BHOLD, CHOLD, DHOLD,
    input  wire        IRSTTOP, IRSTBOT, ORSTTOP, ORSTBOT,
    input  wire        OLOADTOP, OLOADBOT, ADDSUBTOP, ADDSUBBOT, OHOLDTOP, OHOLDBOT,
    input  wire        CI, ACCUMCI, SIGNEXTIN,
    output wire [31:0] O,
    output wire        CO, ACCUMCO, SIGNEXTOUT
);
    /* verilator lint_off UNUSEDPARAM */
    parameter [0:0] NEG_TRIGGER = 0;
    parameter [0:0] C_REG = 0;
    parameter [0:0] A_REG = 0;
    parameter [0:0] B_REG = 0;
    parameter [0:0] D_REG = 0;
    parameter [0:0] TOP_8x8_MULT_REG = 0;
    parameter [0:0] BOT_8x8_MULT_REG = 0;
    parameter [0:0] PIPELINE_16x16_MULT_REG1 = 0;
    parameter [0:0] PIPELINE_16x16_MULT_REG2 = 0;
    parameter [1:0] TOPOUTPUT_SELECT = 0;
    parameter [1:0] TOPADDSUB_LOWERINPUT = 0;
    parameter [0:0] TOPADDSUB_UPPERINPUT = 0;
    parameter [1:0] TOPADDSUB_CARRYSELECT = 0;
    parameter [1:0] BOTOUTPUT_SELECT = 0;
    parameter [1:0] BOTADDSUB_LOWERINPUT = 0;
    parameter [0:0] BOTADDSUB_UPPERINPUT = 0;
    parameter [1:0] BOTADDSUB_CARRYSELECT = 0;
    parameter [0:0] MODE_8x8 = 0;
    parameter [0:0] A_SIGNED = 0;
    parameter [0:0] B_SIGNED = 0;
    /* verilator lint_on UNUSEDPARAM */

    initial begin
        if (NEG_TRIGGER != 0 || A_REG != 1 || B_REG != 1 || TOP_8x8_MULT_REG != 1
                || BOT_8x8_MULT_REG != 1 || TOPOUTPUT_SELECT != 2 || BOTOUTPUT_SELECT != 2
                || MODE_8x8 != 1 || A_SIGNED != 1 || B_SIGNED != 1) begin
            $display("SB_MAC16 model (hwq): unsupported parameters in %m");
            $finish;
        end
    end

    // IRSTTOP clears the A register and the top product, IRSTBOT the B register and the
    // bottom product, asynchronously (as in the primitive's documentation and Yosys' model)
    reg [15:0] a_r = 16'd0, b_r = 16'd0;
    reg signed [15:0] top_r = 16'sd0, bot_r = 16'sd0;
    always @(posedge CLK or posedge IRSTTOP) begin
        if (IRSTTOP) begin
            a_r <= 16'd0;
            top_r <= 16'sd0;
        end else if (CE) begin
            a_r <= A;
            top_r <= $signed(a_r[15:8]) * $signed(b_r[15:8]);
        end
    end
    always @(posedge CLK or posedge IRSTBOT) begin
        if (IRSTBOT) begin
            b_r <= 16'd0;
            bot_r <= 16'sd0;
        end else if (CE) begin
            b_r <= B;
            bot_r <= $signed(a_r[7:0]) * $signed(b_r[7:0]);
        end
    end
    assign O = {top_r, bot_r};
    assign CO = 1'b0;
    assign ACCUMCO = 1'b0;
    assign SIGNEXTOUT = 1'b0;

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = &{C, D, AHOLD, BHOLD, CHOLD, DHOLD, ORSTTOP, ORSTBOT,
                    OLOADTOP, OLOADBOT, ADDSUBTOP, ADDSUBBOT, OHOLDTOP, OHOLDBOT, CI, ACCUMCI,
                    SIGNEXTIN};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule
