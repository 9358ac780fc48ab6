"""cocotb testbenches of hwq, installed as ``hwq.sim.benches`` (see pyproject.toml) so that
``hwq sim`` and ``hwq.sim.run_layer`` work from an installed package. Modules are named
``tb_*.py`` so that pytest does not collect them; ``hwq.sim.runner`` starts them."""
