"""Shared fixtures: the repository root, seeded generators and small problems every folder uses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import zoo_lab as zl

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo() -> Path:
    """The repository root (notebooks/, zoo_lab/, benchmarks/ below it)."""
    return REPO


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh seeded generator (same numbers in every test that asks for it)."""
    return np.random.default_rng(20261203)


@pytest.fixture
def sphere4():
    """The 4-D sphere of the registry: x* = 0, f* = 0."""
    return zl.functions.get("sphere", 4)
