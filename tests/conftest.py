"""Shared fixtures: the synthetic dataset, deterministic threads."""
from __future__ import annotations

import pytest
import torch

from pruninglib.config import DataSpec
from pruninglib.data import load_data

torch.set_num_threads(1)  # tests are small: one thread is fastest and fully deterministic


@pytest.fixture(scope="session")
def synthetic():
    """The file-free synthetic dataset (images, 4 classes)."""
    return load_data(DataSpec("synthetic"))
