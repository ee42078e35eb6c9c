"""Small builders shared by the tests."""
from __future__ import annotations

import torch

from pruninglib.config import ModelSpec
from pruninglib.models import build_model


def make_model(name="mlp", input_shape=(1, 8, 8), num_classes=4, seed=0, **fields):
    """Build a model after seeding torch (keyword arguments are ModelSpec fields)."""
    torch.manual_seed(seed)
    return build_model(ModelSpec(name, **fields), input_shape, num_classes)
