"""One way to turn a ``seed`` into randomness: every public function takes ``seed`` and calls :func:`rng_from`.

``seed`` is an int >= 0, a :class:`numpy.random.Generator` (used as is, so a caller can
thread one generator through several calls) or ``None`` (fresh OS entropy: not
reproducible, and said so in every docstring that allows it). There is no global state.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["SeedLike", "rng_from", "seed_int", "torch_generator"]

SeedLike = int | np.random.Generator | None


def rng_from(seed: SeedLike) -> np.random.Generator:
    """Return a numpy Generator for ``seed`` (int >= 0, Generator or None); never global state."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng(_int_seed(seed))


def seed_int(seed: SeedLike) -> int:
    """``seed`` itself when it is an int (validated); else one int drawn from it (Generator or None)."""
    if isinstance(seed, np.random.Generator) or seed is None:
        return int(rng_from(seed).integers(2**62))
    return _int_seed(seed)


def _int_seed(seed) -> int:
    """``seed`` as an int if it is an integer >= 0 (not a bool); else the one seed error."""
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool | np.bool_):
        if seed < 0:
            raise ValueError(f"seed: expected an int >= 0, a numpy Generator or None, got {seed}")
        return int(seed)
    raise TypeError(
        f"seed: expected an int >= 0, a numpy Generator or None, got {type(seed).__name__} {seed!r}"
    )


def torch_generator(seed: SeedLike, device="cpu"):
    """A ``torch.Generator`` seeded from ``seed`` (an int drawn from it when it is a Generator)."""
    import torch

    gen = torch.Generator(device=device)
    gen.manual_seed(seed_int(seed))
    return gen
