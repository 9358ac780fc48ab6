"""The digits demo as a script: ``python examples/digits.py [options]`` is
``hwq demo digits [options]`` (see ``hwq demo digits --help``)."""

import sys

from hwq.demo.digits import main

if __name__ == "__main__":
    sys.exit(main())
