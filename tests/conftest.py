# pytest puts this directory on sys.path, so tests can import the helpers next to it
# (bigint.py: the independent exact-arithmetic reference).
