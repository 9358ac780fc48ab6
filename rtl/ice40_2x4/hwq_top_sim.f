hwq_top.v
ice40_sb_mac16.v
