"""Host side of the engine's streams: what a feeder sends and how results come back.

Parameter words are packed with the hardware's own layouts (:mod:`hwq.hw.layouts`), and
operands are sent in the tile order of :func:`hwq.ref.tile_schedule`, so the testbenches and
the RTL share one definition of every bit.
"""

from __future__ import annotations

import numpy as np

from ..config import HwConfig
from ..hw.layouts import ParamChannel, ParamHeader
from ..ref import tile_schedule

__all__ = ["param_words", "operand_blocks", "operand_lanes", "operand_words", "pack_lanes",
           "unpack_lanes", "collect_outputs", "output_word_count"]


def pack_lanes(codes) -> list[int]:
    """Pack rows of int8 lanes into integers, lane 0 in the low byte."""
    b = np.ascontiguousarray(np.asarray(codes, np.int8).view(np.uint8))
    return [int.from_bytes(row.tobytes(), "little") for row in b.reshape(b.shape[0], -1)]


def unpack_lanes(words, lanes: int) -> np.ndarray:
    """Inverse of :func:`pack_lanes`: ``[len(words), lanes]`` int8."""
    raw = b"".join(int(w).to_bytes(lanes, "little") for w in words)
    return np.frombuffer(raw, np.uint8).reshape(len(words), lanes).view(np.int8).copy()


def param_words(layer, m: int, config: HwConfig) -> list[int]:
    """The parameter block of a GEMM layer (``hwq.lower.IntLayer``) run on ``m`` rows."""
    config.check_layer(layer, m)
    words = [ParamHeader.const({
        "m": m, "n": layer.out_channels, "k": layer.k, "zero_point": layer.output_zero_point,
        "act_min": layer.act_min, "act_max": layer.act_max,
    }).as_value().value]
    for bias, mult, shift in zip(layer.bias.tolist(), layer.multiplier.tolist(),
                                 layer.shift.tolist(), strict=True):
        words.append(ParamChannel.const({"bias": bias, "multiplier": mult, "shift": shift})
                     .as_value().value)
    return words


def operand_blocks(x_rows, w_mat, config: HwConfig):
    """The operands of ``x_rows [M, K] · w_matᵀ`` (``w_mat [N, K]``) without repetition: each
    row block of the activations and each column block of the weights once, and which blocks
    every tile streams. Returns ``(act_blocks, wgt_blocks, order)``: int8
    ``[ceil(M/rows), K, rows]`` (step ``k`` of block ``b`` holds column ``k`` of rows
    ``b·rows …``; lanes past M are zero), ``[ceil(N/cols), K, cols]`` likewise for the rows of
    ``w_mat``, and int ``[tiles, 2]``: the (activation block, weight block) of each tile in the
    order of :func:`hwq.ref.tile_schedule`. A tile streams its two blocks side by side, so the
    streams hold each activation block ``ceil(N/cols)`` times and each weight block
    ``ceil(M/rows)`` times (:func:`operand_lanes`)."""
    x = np.asarray(x_rows, np.int8)
    w = np.asarray(w_mat, np.int8)
    (M, K), N = x.shape, w.shape[0]
    R, C = config.rows, config.cols
    act_blocks = np.zeros((-(-M // R) * R, K), np.int8)
    act_blocks[:M] = x
    wgt_blocks = np.zeros((-(-N // C) * C, K), np.int8)
    wgt_blocks[:N] = w
    order = np.array([(t.m0 // R, t.n0 // C) for t in tile_schedule(M, N, R, C)], np.int64)
    return (act_blocks.reshape(-1, R, K).transpose(0, 2, 1),
            wgt_blocks.reshape(-1, C, K).transpose(0, 2, 1), order)


def operand_lanes(x_rows, w_mat, config: HwConfig) -> tuple[np.ndarray, np.ndarray]:
    """Activation and weight lanes for ``x_rows [M, K] · w_matᵀ`` (``w_mat [N, K]``): int8
    ``[steps, rows]`` and ``[steps, cols]``, one row per array step, tile by tile in the order
    of :func:`hwq.ref.tile_schedule`; lanes past M or N are zero."""
    act_blocks, wgt_blocks, order = operand_blocks(x_rows, w_mat, config)
    return (act_blocks[order[:, 0]].reshape(-1, config.rows),
            wgt_blocks[order[:, 1]].reshape(-1, config.cols))


def operand_words(x_rows, w_mat, config: HwConfig) -> tuple[list[int], list[int]]:
    """:func:`operand_lanes` packed into words (lane 0 in the low byte)."""
    acts, wgts = operand_lanes(x_rows, w_mat, config)
    return pack_lanes(acts), pack_lanes(wgts)


def output_word_count(m: int, n: int, config: HwConfig) -> int:
    """Words the engine emits for an ``m × n`` result: one per output row per column block."""
    return m * -(-n // config.cols)


def collect_outputs(words, lasts, m: int, n: int, config: HwConfig) -> np.ndarray:
    """Reassemble output words (in the engine's order) into the ``[m, n]`` int8 result.

    Raises ``ValueError`` if the count of words or the position of ``last`` is wrong.
    """
    R, C = config.rows, config.cols
    tiles = tile_schedule(m, n, R, C)
    expect = output_word_count(m, n, config)
    if len(words) != expect:
        raise ValueError(f"expected {expect} output words, got {len(words)}")
    flags = list(lasts)
    if sum(bool(f) for f in flags) != 1 or not flags[-1]:
        raise ValueError(f"'last' must mark exactly the final output word, not positions "
                         f"{[i for i, f in enumerate(flags) if f]}")
    rows = unpack_lanes(words, C)
    out = np.zeros((m, n), np.int8)
    i = 0
    for t in tiles:
        h = t.m1 - t.m0
        out[t.m0:t.m1, t.n0:t.n1] = rows[i:i + h, :t.n1 - t.n0]
        i += h
    return out
