# Vivado non-project, out-of-context flow for hwq_top (ecp5_8x8).
#   vivado -mode batch -source hwq_top.tcl [-tclargs PART]
set here [file dirname [file normalize [info script]]]
set part [expr {[llength $argv] ? [lindex $argv 0] : "xc7z020clg400-1"}]
read_verilog [file join $here hwq_top.v]
read_xdc -mode out_of_context [file join $here hwq_top.xdc]
synth_design -top hwq_top -part $part -mode out_of_context
opt_design
place_design
route_design
report_utilization -file [file join $here utilization.rpt]
report_timing_summary -file [file join $here timing.rpt]
