"""Host-side stream packing, against hand-worked layouts."""

import numpy as np

from hwq.config import HwConfig
from hwq.sim.streams import operand_blocks, operand_lanes, operand_words


def test_operand_lanes_tile_by_tile():
    cfg = HwConfig(name="t", rows=2, cols=2)
    x = np.array([[1, 2], [3, 4], [5, -6]])          # M=3, K=2: two row blocks
    w = np.array([[7, 8]])                            # N=1: one column block, lane 1 empty
    acts, wgts = operand_lanes(x, w, cfg)
    # step k of a tile carries column k of its rows (lane i = row m0+i), zero past M / N
    assert acts.tolist() == [[1, 3], [2, 4], [5, 0], [-6, 0]]
    assert wgts.tolist() == [[7, 0], [8, 0], [7, 0], [8, 0]]
    a_words, w_words = operand_words(x, w, cfg)
    assert a_words == [0x0301, 0x0402, 0x0005, 0x00FA]   # lane 0 in the low byte
    assert w_words == [0x0007, 0x0008, 0x0007, 0x0008]


def test_operand_blocks_store_each_block_once():
    cfg = HwConfig(name="t", rows=2, cols=2)
    x = np.array([[1, 2], [3, 4], [5, -6]])          # M=3, K=2: row blocks {0, 1}, {2}
    w = np.array([[7, 8], [9, 10], [-11, 12]])        # N=3: column blocks {0, 1}, {2}
    act_blocks, wgt_blocks, order = operand_blocks(x, w, cfg)
    # block b, step k: column k of rows b·2 and b·2 + 1 (zero past M / N)
    assert act_blocks.tolist() == [[[1, 3], [2, 4]], [[5, 0], [-6, 0]]]
    assert wgt_blocks.tolist() == [[[7, 9], [8, 10]], [[-11, 0], [12, 0]]]
    # tiles row block by row block, column blocks inside
    assert order.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    acts, wgts = operand_lanes(x, w, cfg)              # the streams repeat the blocks
    assert acts.tolist() == [[1, 3], [2, 4], [1, 3], [2, 4], [5, 0], [-6, 0], [5, 0], [-6, 0]]
    assert wgts.tolist() == [[7, 9], [8, 10], [-11, 0], [12, 0], [7, 9], [8, 10], [-11, 0],
                             [12, 0]]
