"""Which simulators a test may use: in CI (CI=true) a missing one fails, locally it skips."""

import os

import pytest

from hwq.sim.runner import simulator_available


def require(simulator):
    reason = simulator_available(simulator)
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{simulator} is required in CI: {reason}")
        pytest.skip(reason)
