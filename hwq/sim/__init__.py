"""Running integer programs on the generated hardware (host-side stream packing)."""

from .streams import collect_outputs, operand_words, pack_lanes, param_words, unpack_lanes

__all__ = ["param_words", "operand_words", "pack_lanes", "unpack_lanes", "collect_outputs"]
