"""hwq: from a float model to verified int8 hardware."""

__version__ = "0.1.0"

__all__ = ["__version__"]
