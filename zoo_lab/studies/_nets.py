"""Small helpers for the little torch networks of the coupling studies."""

from __future__ import annotations

import numpy as np
import torch

from zoo_lab._util.seeding import torch_generator


def seeded_init_(module: torch.nn.Module, seed: int) -> None:
    """Fill every parameter uniformly in ±1/√fan_in from a private generator (the global RNG is untouched)."""
    gen = torch_generator(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_((torch.rand(p.shape, generator=gen, dtype=p.dtype) * 2 - 1)
                    / np.sqrt(max(p.shape[-1], 1)))
