"""Small helpers shared by several test modules."""

from __future__ import annotations


class Counting:
    """A batched function that counts its calls and the rows it evaluated."""

    def __init__(self, f):
        self.f, self.calls, self.rows = f, 0, 0

    def __call__(self, X):
        self.calls += 1
        self.rows += X.shape[0]
        return self.f(X)
