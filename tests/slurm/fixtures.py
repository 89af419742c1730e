"""pytest fixtures around tests/slurm/cluster.py; import them into a test module (see tests/test_slurm.py)."""

from __future__ import annotations

import atexit
import os
import time

import pytest

from .cluster import ClusterError, LocalSlurm, ensure_installed

# Set to 1 (e.g. in CI) to fail instead of skip when Slurm cannot be installed or started.
REQUIRE_ENV = "WEAKSTRONG_REQUIRE_SLURM"


def _unavailable(message: str):
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{message} ({REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    """A running single-node Slurm (munged, slurmctld, slurmd), stopped by PID at the end of the session."""
    t0 = time.monotonic()
    reason = ensure_installed(log=lambda line: print(line, flush=True))
    if reason:
        _unavailable(f"Slurm is not available: {reason}")
    cluster = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    atexit.register(cluster.stop)  # also when the session dies before fixture teardown
    try:
        cluster.start()
        cluster.smoke_test()
    except (ClusterError, OSError) as e:
        cluster.stop()
        _unavailable(f"Slurm could not be started: {e}")
    print(f"[slurm] cluster up in {time.monotonic() - t0:.1f}s at {cluster.base}", flush=True)
    try:
        yield cluster
    finally:
        cluster.stop()
