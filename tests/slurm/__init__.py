"""A real single-node Slurm cluster for the test suite: cluster.py brings it up, fixtures.py serves it."""
