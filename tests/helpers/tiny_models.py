"""The smallest toy model the training tests use, and a fixture that trains it on one thread."""

from __future__ import annotations

import pytest
import torch

#: One layer, one head: big enough to learn the toy format in a few steps, small enough for a test.
TINY_SPEC = {"hidden_size": 32, "layers": 1, "heads": 1, "intermediate_size": 64, "max_positions": 256}


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny models train fastest on one thread, and do not crawl when other jobs use the cores."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
