hwq_top.v
ecp5_mult18x18d.v
