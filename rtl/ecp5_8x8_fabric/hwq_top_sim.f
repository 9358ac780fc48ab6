hwq_top.v
ecp5_alu54b.v
ecp5_ccu2c.v
ecp5_dp16kd.v
ecp5_lut.v
ecp5_mult18x18d.v
