"""End-to-end demos: real data through quantization, ``hwq.ref`` and the generated RTL."""
