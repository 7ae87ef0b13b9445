"""Small helpers shared by several test modules."""

from __future__ import annotations

from zoo_lab._util.counting import CountingObjective


class Counting(CountingObjective):
    """The package's counting wrapper (``calls``, ``rows``), with the wrapped function as ``f``."""

    @property
    def f(self):
        """The wrapped batched function."""
        return self.fun
