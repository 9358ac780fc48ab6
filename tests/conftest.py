# pytest puts this directory on sys.path, so tests can import the helpers next to it
# (bigint.py: the independent exact-arithmetic reference; cells.py: truth tables of FPGA
# primitive models against Yosys' own).
