`timescale 1ns/1ps
module tb;
    reg clk = 0, ce = 0, rt = 0, rb = 0;
    reg [15:0] a = 0, b = 0;
    wire [31:0] o;
    integer i, seed;
    SB_MAC16 #(.A_REG(1'b1), .B_REG(1'b1), .TOP_8x8_MULT_REG(1'b1), .BOT_8x8_MULT_REG(1'b1),
               .TOPOUTPUT_SELECT(2'd2), .BOTOUTPUT_SELECT(2'd2), .MODE_8x8(1'b1),
               .A_SIGNED(1'b1), .B_SIGNED(1'b1)) dut (
        .CLK(clk), .CE(ce), .A(a), .B(b), .C(16'd0), .D(16'd0),
        .AHOLD(1'b0), .BHOLD(1'b0), .CHOLD(1'b0), .DHOLD(1'b0),
        .IRSTTOP(rt), .IRSTBOT(rb), .ORSTTOP(1'b0), .ORSTBOT(1'b0),
        .OLOADTOP(1'b0), .OLOADBOT(1'b0), .ADDSUBTOP(1'b0), .ADDSUBBOT(1'b0),
        .OHOLDTOP(1'b0), .OHOLDBOT(1'b0), .CI(1'b0), .ACCUMCI(1'b0), .SIGNEXTIN(1'b0), .O(o));
    initial begin
        seed = 7;
        for (i = 0; i < 400; i = i + 1) begin
            #1 $display("%0d %0d %0d %h %h %h", ce, rt, rb, a, b, o);
            #4 clk = 1;
            #1 a = $random(seed); b = $random(seed); ce = ($random(seed) & 3) != 0;
            // the input resets (asynchronous): now and then, one or both, for a cycle or two
            rt = i > 12 && ($random(seed) & 15) == 0; rb = i > 12 && ($random(seed) & 15) == 0;
            if (i < 8) begin a = {i[0] ? 8'h80 : 8'h7f, i[1] ? 8'h80 : 8'h7f}; b = {i[2] ? 8'h80 : 8'h7f, 8'h80}; ce = 1; end
            #4 clk = 0;
        end
        $finish;
    end
endmodule
