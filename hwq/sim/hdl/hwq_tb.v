// Testbench-side memory model for hwq_top: streams whole regressions without a Python round
// trip per word. The parameter, activation and weight words are loaded from hex files named
// by plusargs (+params= +acts= +wgts=); outputs ({tlast, tdata}) are written to +outs= when
// `n_out` words have arrived. Every stream gets random backpressure from its own xorshift
// generator: an idle cycle with probability stall/256 before each word on the three inputs,
// and tready low with the same probability on the output. AXI rules hold: tvalid, once high,
// stays high with stable tdata until the handshake. +vcd=FILE dumps all signals to FILE.
// The clock (10 ns) is generated here, not by cocotb: the simulator then runs free while the
// Python side only waits for `done` (Verilator needs --timing for it).
// Open issue: a 16x16 engine with DEPTH = 2^18 never saw a clock edge under Verilator 5.049
// (simulated time ran to the timeout); smaller depths, and 8x8 at 2^18, run normally.
`timescale 1ns/1ps
module hwq_tb #(
    parameter ROWS = 8,
    parameter COLS = 8,
    parameter DEPTH = 16384
) (
    output reg         clk,
    input  wire        rst,
    input  wire        start,
    input  wire [31:0] n_param,
    input  wire [31:0] n_op,
    input  wire [31:0] n_out,
    input  wire [31:0] seed,
    input  wire [7:0]  stall,
    output reg         done,
    output reg  [31:0] cycles,
    output reg  [31:0] got
);
    initial clk = 1'b0;
    always #5 clk = ~clk;

    reg [71:0]         param_mem [0:DEPTH-1];
    reg [8*ROWS-1:0]   act_mem   [0:DEPTH-1];
    reg [8*COLS-1:0]   wgt_mem   [0:DEPTH-1];
    reg [8*COLS:0]     out_mem   [0:DEPTH-1];
    reg [8*1024-1:0]   fname;
    reg [8*1024-1:0]   out_name;
    reg [8*1024-1:0]   vcd_name;

    initial begin
        if ($value$plusargs("params=%s", fname)) $readmemh(fname, param_mem);
        if ($value$plusargs("acts=%s", fname)) $readmemh(fname, act_mem);
        if ($value$plusargs("wgts=%s", fname)) $readmemh(fname, wgt_mem);
        if (!$value$plusargs("outs=%s", out_name)) out_name = "outs.hex";
        // waveforms for simulators whose cocotb dump module needs SystemVerilog (Icarus here)
        if ($value$plusargs("vcd=%s", vcd_name)) begin
            $dumpfile(vcd_name);
            $dumpvars(0, hwq_tb);
        end
    end

    // one xorshift32 per stream, seeded differently
    reg [31:0] rp, ra, rw, ro;
    function [31:0] xs(input [31:0] x);
        reg [31:0] y;
        begin
            y = x ^ (x << 13);
            y = y ^ (y >> 17);
            xs = y ^ (y << 5);
        end
    endfunction
    wire idle_p = rp[7:0] < stall;
    wire idle_a = ra[7:0] < stall;
    wire idle_w = rw[7:0] < stall;
    wire idle_o = ro[7:0] < stall;

    reg running;
    reg p_vld, a_vld, w_vld, o_rdy;
    reg [31:0] p_idx, a_idx, w_idx;

    wire [8*ROWS-1:0] s_act_tdata   = act_mem[a_idx];
    wire [8*COLS-1:0] s_wgt_tdata   = wgt_mem[w_idx];
    wire [71:0]       s_param_tdata = param_mem[p_idx];
    wire s_act_tready, s_wgt_tready, s_param_tready;
    wire [8*COLS-1:0] m_out_tdata;
    wire m_out_tvalid, m_out_tlast;

    hwq_top dut (
        .clk(clk), .rst(rst),
        .s_act_tdata(s_act_tdata), .s_act_tvalid(a_vld), .s_act_tready(s_act_tready),
        .s_wgt_tdata(s_wgt_tdata), .s_wgt_tvalid(w_vld), .s_wgt_tready(s_wgt_tready),
        .s_param_tdata(s_param_tdata), .s_param_tvalid(p_vld), .s_param_tready(s_param_tready),
        .m_out_tdata(m_out_tdata), .m_out_tvalid(m_out_tvalid), .m_out_tready(o_rdy),
        .m_out_tlast(m_out_tlast)
    );

    wire p_fire = p_vld & s_param_tready;
    wire a_fire = a_vld & s_act_tready;
    wire w_fire = w_vld & s_wgt_tready;
    wire o_fire = m_out_tvalid & o_rdy;
    wire [31:0] p_next = p_fire ? p_idx + 1 : p_idx;
    wire [31:0] a_next = a_fire ? a_idx + 1 : a_idx;
    wire [31:0] w_next = w_fire ? w_idx + 1 : w_idx;

    always @(posedge clk) begin
        if (rst | start) begin
            running <= start;
            done <= 1'b0;
            cycles <= 32'd0;
            got <= 32'd0;
            p_vld <= 1'b0; a_vld <= 1'b0; w_vld <= 1'b0; o_rdy <= 1'b0;
            p_idx <= 32'd0; a_idx <= 32'd0; w_idx <= 32'd0;
            rp <= seed ^ 32'h9e3779b9; ra <= seed ^ 32'h85ebca6b;
            rw <= seed ^ 32'hc2b2ae35; ro <= seed ^ 32'h27d4eb2f;
        end else if (running) begin
            rp <= xs(rp); ra <= xs(ra); rw <= xs(rw); ro <= xs(ro);
            cycles <= cycles + 1;
            p_idx <= p_next; a_idx <= a_next; w_idx <= w_next;
            if (!p_vld || p_fire) p_vld <= (p_next < n_param) && !idle_p;
            if (!a_vld || a_fire) a_vld <= (a_next < n_op) && !idle_a;
            if (!w_vld || w_fire) w_vld <= (w_next < n_op) && !idle_w;
            o_rdy <= !idle_o;
            if (o_fire) begin
                out_mem[got] <= {m_out_tlast, m_out_tdata};
                got <= got + 1;
                if (got + 1 == n_out) begin
                    running <= 1'b0;
                    done <= 1'b1;
                end
            end
        end
    end

    // dump the outputs once, the cycle after the last one arrived
    reg dumped;
    always @(posedge clk) begin
        if (rst | start) dumped <= 1'b0;
        else if (done && !dumped) begin
            $writememh(out_name, out_mem, 0, n_out - 1);
            dumped <= 1'b1;
        end
    end
endmodule
