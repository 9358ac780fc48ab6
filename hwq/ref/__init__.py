"""The NumPy golden model: what the hardware must compute, bit for bit."""

from .gemm import Tile, conv_output_geometry, gemm, im2col, tile_gemm, tile_schedule
from .run import requantize, run_layer

__all__ = ["gemm", "im2col", "conv_output_geometry", "Tile", "tile_schedule", "tile_gemm",
           "requantize", "run_layer"]
