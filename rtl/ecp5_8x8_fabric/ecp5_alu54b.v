// hwq's behavioural model of the Lattice ECP5 ALU54B (the ALU beside a pair of MULT18X18D),
// for simulating the Verilog of configs with `array.accumulator: dsp` (hwq/hw/dsp.py,
// MacPair). It covers what hwq instantiates: the output register clocked by CLK0 with
// clock enable CE0 and synchronous reset RST0, opcode and C inputs unregistered, and the
// opcodes R <- AMUX +/- BMUX +/- CMUX (OP[10:7] = 0100 .. 0111) and the logic functions
// of BMUX and CMUX (the other OP[10:7] values), with AMUX = OP[1:0] (00 R, 01 MA, 11
// zero), BMUX = OP[3:2] (00 MB shifted left 18, 01 MB), CMUX = OP[6:4] (000 zero, 011
// C, 101 R, 110 RNDPAT, 111 RNDPAT - 1); MA and MB are sign-extended when SIGNEDIA,
// SIGNEDIB say so. Any other setting gives an unknown result or stops the simulation.
// Read from Yosys' translation of Lattice's own simulation model of ALU54B, which
// lakeroad keeps (gussmith23/lakeroad, racket/generated/lattice-ecp5-alu54b.rkt); the
// opcode fields agree with Lattice's IPexpress adder wrapper and prjtrellis' ALU54B
// timing fuzzer (README). Synthesis uses the real primitive, never this file.
`default_nettype none
module ALU54B (
    input wire A35, A34, A33, A32, A31, A30, A29, A28, A27, A26, A25, A24, A23, A22, A21, A20,
               A19, A18, A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3,
               A2, A1, A0,
    input wire B35, B34, B33, B32, B31, B30, B29, B28, B27, B26, B25, B24, B23, B22, B21, B20,
               B19, B18, B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3,
               B2, B1, B0,
    input wire C53, C52, C51, C50, C49, C48, C47, C46, C45, C44, C43, C42, C41, C40, C39, C38,
               C37, C36, C35, C34, C33, C32, C31, C30, C29, C28, C27, C26, C25, C24, C23, C22,
               C21, C20, C19, C18, C17, C16, C15, C14, C13, C12, C11, C10, C9, C8, C7, C6, C5,
               C4, C3, C2, C1, C0,
    input wire CFB53, CFB52, CFB51, CFB50, CFB49, CFB48, CFB47, CFB46, CFB45, CFB44, CFB43,
               CFB42, CFB41, CFB40, CFB39, CFB38, CFB37, CFB36, CFB35, CFB34, CFB33, CFB32,
               CFB31, CFB30, CFB29, CFB28, CFB27, CFB26, CFB25, CFB24, CFB23, CFB22, CFB21,
               CFB20, CFB19, CFB18, CFB17, CFB16, CFB15, CFB14, CFB13, CFB12, CFB11, CFB10,
               CFB9, CFB8, CFB7, CFB6, CFB5, CFB4, CFB3, CFB2, CFB1, CFB0,
    input wire MA35, MA34, MA33, MA32, MA31, MA30, MA29, MA28, MA27, MA26, MA25, MA24, MA23,
               MA22, MA21, MA20, MA19, MA18, MA17, MA16, MA15, MA14, MA13, MA12, MA11, MA10,
               MA9, MA8, MA7, MA6, MA5, MA4, MA3, MA2, MA1, MA0,
    input wire MB35, MB34, MB33, MB32, MB31, MB30, MB29, MB28, MB27, MB26, MB25, MB24, MB23,
               MB22, MB21, MB20, MB19, MB18, MB17, MB16, MB15, MB14, MB13, MB12, MB11, MB10,
               MB9, MB8, MB7, MB6, MB5, MB4, MB3, MB2, MB1, MB0,
    input wire CIN53, CIN52, CIN51, CIN50, CIN49, CIN48, CIN47, CIN46, CIN45, CIN44, CIN43,
               CIN42, CIN41, CIN40, CIN39, CIN38, CIN37, CIN36, CIN35, CIN34, CIN33, CIN32,
               CIN31, CIN30, CIN29, CIN28, CIN27, CIN26, CIN25, CIN24, CIN23, CIN22, CIN21,
               CIN20, CIN19, CIN18, CIN17, CIN16, CIN15, CIN14, CIN13, CIN12, CIN11, CIN10,
               CIN9, CIN8, CIN7, CIN6, CIN5, CIN4, CIN3, CIN2, CIN1, CIN0,
    input wire OP10, OP9, OP8, OP7, OP6, OP5, OP4, OP3, OP2, OP1, OP0,
    input wire CE3, CE2, CE1, CE0, CLK3, CLK2, CLK1, CLK0, RST3, RST2, RST1, RST0,
    input wire SIGNEDIA, SIGNEDIB, SIGNEDCIN,
    output wire R53, R52, R51, R50, R49, R48, R47, R46, R45, R44, R43, R42, R41, R40, R39, R38,
                R37, R36, R35, R34, R33, R32, R31, R30, R29, R28, R27, R26, R25, R24, R23, R22,
                R21, R20, R19, R18, R17, R16, R15, R14, R13, R12, R11, R10, R9, R8, R7, R6, R5,
                R4, R3, R2, R1, R0,
    output wire CO53, CO52, CO51, CO50, CO49, CO48, CO47, CO46, CO45, CO44, CO43, CO42, CO41,
                CO40, CO39, CO38, CO37, CO36, CO35, CO34, CO33, CO32, CO31, CO30, CO29, CO28,
                CO27, CO26, CO25, CO24, CO23, CO22, CO21, CO20, CO19, CO18, CO17, CO16, CO15,
                CO14, CO13, CO12, CO11, CO10, CO9, CO8, CO7, CO6, CO5, CO4, CO3, CO2, CO1, CO0,
    output wire EQZ, EQZM, EQOM, EQPAT, EQPATB, OVER, UNDER, OVERUNDER, SIGNEDR
);
    // every parameter of the primitive is accepted; the ones this model ignores (clock
    // dividers, GSR, the pattern-match flags' masks) do not change R
    /* verilator lint_off UNUSEDPARAM */
    parameter REG_INPUTC0_CLK = "NONE";
    parameter REG_INPUTC0_CE = "CE0";
    parameter REG_INPUTC0_RST = "RST0";
    parameter REG_INPUTC1_CLK = "NONE";
    parameter REG_INPUTC1_CE = "CE0";
    parameter REG_INPUTC1_RST = "RST0";
    parameter REG_OPCODEOP0_0_CLK = "NONE";
    parameter REG_OPCODEOP0_0_CE = "CE0";
    parameter REG_OPCODEOP0_0_RST = "RST0";
    parameter REG_OPCODEOP1_0_CLK = "NONE";
    parameter REG_OPCODEOP0_1_CLK = "NONE";
    parameter REG_OPCODEOP0_1_CE = "CE0";
    parameter REG_OPCODEOP0_1_RST = "RST0";
    parameter REG_OPCODEOP1_1_CLK = "NONE";
    parameter REG_OPCODEIN_0_CLK = "NONE";
    parameter REG_OPCODEIN_0_CE = "CE0";
    parameter REG_OPCODEIN_0_RST = "RST0";
    parameter REG_OPCODEIN_1_CLK = "NONE";
    parameter REG_OPCODEIN_1_CE = "CE0";
    parameter REG_OPCODEIN_1_RST = "RST0";
    parameter REG_OUTPUT0_CLK = "NONE";
    parameter REG_OUTPUT0_CE = "CE0";
    parameter REG_OUTPUT0_RST = "RST0";
    parameter REG_OUTPUT1_CLK = "NONE";
    parameter REG_OUTPUT1_CE = "CE0";
    parameter REG_OUTPUT1_RST = "RST0";
    parameter REG_FLAG_CLK = "NONE";
    parameter REG_FLAG_CE = "CE0";
    parameter REG_FLAG_RST = "RST0";
    parameter REG_INPUTCFB_CLK = "NONE";
    parameter REG_INPUTCFB_CE = "CE0";
    parameter REG_INPUTCFB_RST = "RST0";
    parameter MCPAT_SOURCE = "STATIC";
    parameter MASKPAT_SOURCE = "STATIC";
    parameter MASK01 = "0x00000000000000";
    parameter CLK0_DIV = "ENABLED";
    parameter CLK1_DIV = "ENABLED";
    parameter CLK2_DIV = "ENABLED";
    parameter CLK3_DIV = "ENABLED";
    parameter MCPAT = "0x00000000000000";
    parameter MASKPAT = "0x00000000000000";
    parameter RNDPAT = "0x00000000000000";
    parameter GSR = "ENABLED";
    parameter RESETMODE = "SYNC";
    parameter MULT9_MODE = "DISABLED";
    parameter FORCE_ZERO_BARREL_SHIFT = "DISABLED";
    parameter LEGACY = "DISABLED";
    /* verilator lint_on UNUSEDPARAM */

    localparam REG_OUT = REG_OUTPUT0_CLK == "CLK0" && REG_OUTPUT1_CLK == "CLK0";
    initial begin
        if (!REG_OUT || REG_OUTPUT0_CE != "CE0" || REG_OUTPUT1_CE != "CE0"
                || REG_OUTPUT0_RST != "RST0" || REG_OUTPUT1_RST != "RST0"
                || REG_INPUTC0_CLK != "NONE" || REG_INPUTC1_CLK != "NONE"
                || REG_INPUTCFB_CLK != "NONE" || REG_OPCODEIN_0_CLK != "NONE"
                || REG_OPCODEIN_1_CLK != "NONE" || REG_OPCODEOP0_0_CLK != "NONE"
                || REG_OPCODEOP0_1_CLK != "NONE" || REG_OPCODEOP1_0_CLK != "NONE"
                || REG_OPCODEOP1_1_CLK != "NONE" || RESETMODE != "SYNC"
                || LEGACY != "DISABLED" || MULT9_MODE != "DISABLED"
                || RNDPAT[127:112] != "0x") begin
            $display("ALU54B model: unsupported parameter setting");
            $finish;
        end
    end

    // RNDPAT's 14 hex digits after "0x", most significant first
    function [55:0] hex56(input [127:0] s);
        integer i;
        reg [7:0] ch, digit;
        begin
            hex56 = 56'd0;
            for (i = 13; i >= 0; i = i - 1) begin
                ch = s[8 * i +: 8];
                digit = ch >= "a" ? ch - 8'd87 : ch >= "A" ? ch - 8'd55 : ch - 8'd48;
                hex56 = {hex56[51:0], digit[3:0]};
            end
        end
    endfunction
    localparam [55:0] RND = hex56(RNDPAT);

    wire [35:0] ma = {MA35, MA34, MA33, MA32, MA31, MA30, MA29, MA28, MA27, MA26, MA25, MA24,
                      MA23, MA22, MA21, MA20, MA19, MA18, MA17, MA16, MA15, MA14, MA13, MA12,
                      MA11, MA10, MA9, MA8, MA7, MA6, MA5, MA4, MA3, MA2, MA1, MA0};
    wire [35:0] mb = {MB35, MB34, MB33, MB32, MB31, MB30, MB29, MB28, MB27, MB26, MB25, MB24,
                      MB23, MB22, MB21, MB20, MB19, MB18, MB17, MB16, MB15, MB14, MB13, MB12,
                      MB11, MB10, MB9, MB8, MB7, MB6, MB5, MB4, MB3, MB2, MB1, MB0};
    wire [53:0] c = {C53, C52, C51, C50, C49, C48, C47, C46, C45, C44, C43, C42, C41, C40, C39,
                     C38, C37, C36, C35, C34, C33, C32, C31, C30, C29, C28, C27, C26, C25, C24,
                     C23, C22, C21, C20, C19, C18, C17, C16, C15, C14, C13, C12, C11, C10, C9,
                     C8, C7, C6, C5, C4, C3, C2, C1, C0};
    wire [10:0] op = {OP10, OP9, OP8, OP7, OP6, OP5, OP4, OP3, OP2, OP1, OP0};

    reg [54:0] r_q = 55'd0;              // the output register, with SIGNEDR on top
    reg [54:0] amux, bmux, cmux, r_d;
    always @* begin
        case (op[1:0])
            2'b00: amux = r_q;
            2'b01: amux = {{19{SIGNEDIA & ma[35]}}, ma};
            2'b11: amux = 55'd0;
            default: amux = {55{1'bx}};
        endcase
        case (op[3:2])
            2'b00: bmux = {1'b0, mb, 18'd0};
            2'b01: bmux = {{19{SIGNEDIB & mb[35]}}, mb};
            default: bmux = {55{1'bx}};
        endcase
        case (op[6:4])
            3'b000: cmux = 55'd0;
            3'b011: cmux = {1'b0, c};
            3'b101: cmux = r_q;
            3'b110: cmux = {1'b0, RND[53:0]};
            3'b111: cmux = {1'b0, RND[53:0] - 54'd1};
            default: cmux = {55{1'bx}};
        endcase
        case (op[10:7])
            4'b0100: r_d = amux + bmux + cmux;
            4'b0101: r_d = amux - bmux + cmux;
            4'b0110: r_d = amux + bmux - cmux;
            4'b0111: r_d = amux - bmux - cmux;
            4'b0000: r_d = ~(bmux & cmux);
            4'b1100: r_d = ~(bmux ^ cmux);
            4'b1110: r_d = bmux ^ cmux;
            4'b1000: r_d = bmux & cmux;
            4'b0011: r_d = bmux | cmux;
            4'b1011: r_d = ~(bmux | cmux);
            default: r_d = 55'd0;
        endcase
    end
    always @(posedge CLK0) begin
        if (RST0)
            r_q <= 55'd0;
        else if (CE0)
            r_q <= r_d;
    end
    assign {SIGNEDR, R53, R52, R51, R50, R49, R48, R47, R46, R45, R44, R43, R42, R41, R40, R39,
            R38, R37, R36, R35, R34, R33, R32, R31, R30, R29, R28, R27, R26, R25, R24, R23,
            R22, R21, R20, R19, R18, R17, R16, R15, R14, R13, R12, R11, R10, R9, R8, R7, R6,
            R5, R4, R3, R2, R1, R0} = r_q;
    // the carry-outs and the pattern-match flags are not modelled
    assign {CO53, CO52, CO51, CO50, CO49, CO48, CO47, CO46, CO45, CO44, CO43, CO42, CO41, CO40,
            CO39, CO38, CO37, CO36, CO35, CO34, CO33, CO32, CO31, CO30, CO29, CO28, CO27, CO26,
            CO25, CO24, CO23, CO22, CO21, CO20, CO19, CO18, CO17, CO16, CO15, CO14, CO13, CO12,
            CO11, CO10, CO9, CO8, CO7, CO6, CO5, CO4, CO3, CO2, CO1, CO0} = 54'd0;
    assign {EQZ, EQZM, EQOM, EQPAT, EQPATB, OVER, UNDER, OVERUNDER} = 8'd0;
endmodule
`default_nettype wire
