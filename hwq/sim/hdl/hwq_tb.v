// Testbench-side memory model for hwq_top: streams whole regressions without a Python round
// trip per word. The parameter, activation and weight words are read from binary files named
// by plusargs (+params= +acts= +wgts=; $fread: ceil(width/8) bytes per word, most significant
// byte first), and the job from +n_param= +n_op= +n_out= +stall_seed= +stall= (decimal). Outputs
// ({tlast, tdata}) are written with $writememh to +outs= when `n_out` words have arrived, and
// `done` rises. Every stream gets random backpressure from its own xorshift generator: an
// idle cycle with probability stall/256 before each word on the three inputs, and tready low
// with the same probability on the output. AXI rules hold: tvalid, once high, stays high with
// stable tdata until the handshake. +vcd=FILE dumps all signals to FILE.
// The module has no ports: the clock (10 ns), reset (4 cycles) and start are made here, so the
// simulator runs free while the Python side only waits for `done` (Verilator needs --timing).
// Without top-level inputs Verilator has no input-combinational phase to re-evaluate on every
// time step, and only done/cycles/got need to be visible to cocotb (hwq.sim.runner makes just
// those public), which leaves the rest of the netlist to Verilator's optimiser.
`timescale 1ns/1ps
module hwq_tb #(
    parameter ROWS = 8,
    parameter COLS = 8,
    parameter DEPTH = 16384
);
    reg        clk;
    reg [31:0] n_param, n_op, n_out, seed, stall32;
    reg [7:0]  stall;
    reg        done;
    reg [31:0] cycles;
    reg [31:0] got;

    initial clk = 1'b0;
    always #5 clk = ~clk;

    reg [71:0]         param_mem [0:DEPTH-1];
    reg [8*ROWS-1:0]   act_mem   [0:DEPTH-1];
    reg [8*COLS-1:0]   wgt_mem   [0:DEPTH-1];
    reg [8*COLS:0]     out_mem   [0:DEPTH-1];
    reg [8*1024-1:0]   fname;
    reg [8*1024-1:0]   out_name;
    reg [8*1024-1:0]   vcd_name;
    integer            fd, nread;

    initial begin
        if (!$value$plusargs("n_param=%d", n_param)) n_param = 0;
        if (!$value$plusargs("n_op=%d", n_op)) n_op = 0;
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
            nread = $fread(act_mem, fd, 0, n_op);
            $fclose(fd);
            if (nread != ROWS * n_op) begin
                $display("hwq_tb: ERROR: +acts holds fewer than %0d words", n_op);
                $finish;
            end
        end
        if ($value$plusargs("wgts=%s", fname)) begin
            fd = $fopen(fname, "rb");
            nread = $fread(wgt_mem, fd, 0, n_op);
            $fclose(fd);
            if (nread != COLS * n_op) begin
                $display("hwq_tb: ERROR: +wgts holds fewer than %0d words", n_op);
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
