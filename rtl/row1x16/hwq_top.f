hwq_top.v
