"""Benchmark functions: one checked registry of definitions, domains and optima.

Every function is batched over rows: ``f(X)`` takes ``X`` of shape ``(n, d)``
(numpy or torch) and returns ``(n,)`` of the same kind, device and dtype.
Domains, minimisers and minima follow Surjanovic & Bingham, *Virtual Library of
Simulation Experiments: Test Functions and Datasets*
(https://www.sfu.ca/~ssurjano/optimization.html). No shifts, no rescaling.

References
----------
.. [1] S. Surjanovic, D. Bingham, Virtual Library of Simulation Experiments.
.. [2] M. Jamil, X.-S. Yang, "A literature survey of benchmark functions for
   global optimization problems", IJMMNO 4(2), 2013.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from zoo_lab._util.validate import check_int

try:  # torch is a hard dependency, but keep numpy-only use importable
    import torch
except ImportError:  # pragma: no cover
    torch = None

__all__ = ["TestFunction", "get", "names", "REGISTRY"]


def _backend(X):
    """Return the array namespace (numpy or torch) that matches ``X``."""
    if torch is not None and isinstance(X, torch.Tensor):
        return torch
    return np


def _sum(xp, A):
    return A.sum(axis=1) if xp is np else A.sum(dim=1)


def _prod(xp, A):
    return A.prod(axis=1) if xp is np else A.prod(dim=1)


def _sphere(X, xp):
    return _sum(xp, X**2)


def _rastrigin(X, xp):
    d = X.shape[1]
    return 10.0 * d + _sum(xp, X**2 - 10.0 * xp.cos(2 * math.pi * X))


def _ackley(X, xp):
    a, b, c = 20.0, 0.2, 2 * math.pi
    d = X.shape[1]
    s1 = _sum(xp, X**2) / d
    s2 = _sum(xp, xp.cos(c * X)) / d
    return -a * xp.exp(-b * xp.sqrt(s1)) - xp.exp(s2) + a + math.e


def _rosenbrock(X, xp):
    return _sum(xp, 100.0 * (X[:, 1:] - X[:, :-1] ** 2) ** 2 + (X[:, :-1] - 1.0) ** 2)


def _griewank(X, xp):
    d = X.shape[1]
    i = xp.arange(1, d + 1, dtype=X.dtype)
    if xp is not np:
        i = i.to(X.device)
    return _sum(xp, X**2) / 4000.0 - _prod(xp, xp.cos(X / xp.sqrt(i))) + 1.0


def _styblinski_tang(X, xp):
    return 0.5 * _sum(xp, X**4 - 16.0 * X**2 + 5.0 * X)


def _levy(X, xp):
    W = 1.0 + (X - 1.0) / 4.0
    w1, wd = W[:, 0], W[:, -1]
    head = xp.sin(math.pi * w1) ** 2
    mid = _sum(xp, (W[:, :-1] - 1.0) ** 2 * (1.0 + 10.0 * xp.sin(math.pi * W[:, :-1] + 1.0) ** 2))
    tail = (wd - 1.0) ** 2 * (1.0 + xp.sin(2 * math.pi * wd) ** 2)
    return head + mid + tail


def _schwefel(X, xp):
    d = X.shape[1]
    return _SCHWEFEL_C * d - _sum(xp, X * xp.sin(xp.sqrt(xp.abs(X))))


def _michalewicz(X, xp, m=10):
    d = X.shape[1]
    i = xp.arange(1, d + 1, dtype=X.dtype)
    if xp is not np:
        i = i.to(X.device)
    return -_sum(xp, xp.sin(X) * xp.sin(i * X**2 / math.pi) ** (2 * m))


def _zakharov(X, xp):
    d = X.shape[1]
    i = xp.arange(1, d + 1, dtype=X.dtype)
    if xp is not np:
        i = i.to(X.device)
    s = _sum(xp, 0.5 * i * X)
    return _sum(xp, X**2) + s**2 + s**4


def _dixon_price(X, xp):
    d = X.shape[1]
    i = xp.arange(2, d + 1, dtype=X.dtype)
    if xp is not np:
        i = i.to(X.device)
    return (X[:, 0] - 1.0) ** 2 + _sum(xp, i * (2.0 * X[:, 1:] ** 2 - X[:, :-1]) ** 2)


# Michalewicz (m = 10) minimisers. [1] gives f* = -1.8013, -4.687658, -9.66015 for
# d = 2, 5, 10 and x* = (2.20, 1.57) for d = 2; the points below were refined from
# those with L-BFGS-B, and the tests check them against a multistart search.
_MICHALEWICZ_OPT = {
    2: (-1.8013034100985534, [2.202905520149061, 1.570796326752102]),
    5: (
        -4.687658179088134,
        [2.2029055151009795, 1.5707963209885896, 1.2849915673664638, 1.9230584657483134,
         1.7204697681507592],
    ),
    10: (
        -9.660151715641236,
        [2.202905519488189, 1.57079632535399, 1.2849915538484868, 1.9230584654896574,
         1.7204697677756111, 1.570796321832512, 1.4544139668721907, 1.7560865154056704,
         1.6557174120002849, 1.5707963222101673],
    ),
}

# Schwefel: x* solves sin(sqrt x) + sqrt(x) cos(sqrt x) / 2 = 0 near 420.97, and the
# constant is x* sin(sqrt x*), so that f(x*) = 0 to rounding (418.9829 in [1] is rounded).
_SCHWEFEL_X = 420.9687463599821
_SCHWEFEL_C = 418.98288727243374


@dataclass(frozen=True)
class TestFunction:
    """A benchmark function bound to a dimension, with its domain and known optimum.

    Call it on an ``(n, d)`` numpy array or torch tensor; a 1-D input of length
    ``d`` is treated as one row and returns a 0-d result.
    """

    __test__ = False  # keep pytest from collecting this class

    name: str
    dim: int
    bounds: np.ndarray = field(repr=False)
    x_opt: np.ndarray | None = field(repr=False)
    f_opt: float
    formula: str = field(repr=False, default="")
    _impl: Callable = field(repr=False, compare=False, default=None)

    def __call__(self, X):
        xp = _backend(X)
        single = X.ndim == 1
        if single:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise ValueError(
                f"X: expected shape (n, {self.dim}) for {self.name} in {self.dim}D, "
                f"got {tuple(X.shape)}"
            )
        if xp is np:
            X = np.asarray(X, dtype=np.result_type(X.dtype, np.float64))
        elif not X.is_floating_point():
            X = X.to(torch.get_default_dtype())
        out = self._impl(X, xp)
        return out[0] if single else out

    @property
    def in_dim(self) -> int:
        """Input size d (the :class:`zoo_lab.problems.Problem` protocol's name for ``dim``)."""
        return self.dim

    @property
    def out_dim(self) -> int:
        """Output size: 1 (a scalar objective)."""
        return 1

    @property
    def lower(self) -> np.ndarray:
        """Lower corner of the domain, shape (d,)."""
        return self.bounds[:, 0]

    @property
    def upper(self) -> np.ndarray:
        """Upper corner of the domain, shape (d,)."""
        return self.bounds[:, 1]


@dataclass(frozen=True)
class _Spec:
    impl: Callable
    box: tuple[float, float]
    x_opt: Callable[[int], np.ndarray | None]
    f_opt: Callable[[int], float | None]
    formula: str
    min_dim: int = 1
    dims: tuple[int, ...] | None = None  # None: any dimension >= min_dim
    note: str = ""


def _const(v):
    return lambda d: np.full(d, float(v))


def _michalewicz_x(d):
    return np.array(_MICHALEWICZ_OPT[d][1]) if d in _MICHALEWICZ_OPT else None


def _michalewicz_f(d):
    return _MICHALEWICZ_OPT[d][0] if d in _MICHALEWICZ_OPT else None


REGISTRY: dict[str, _Spec] = {
    "sphere": _Spec(_sphere, (-5.12, 5.12), _const(0), lambda d: 0.0, r"\sum_i x_i^2"),
    "rastrigin": _Spec(
        _rastrigin, (-5.12, 5.12), _const(0), lambda d: 0.0,
        r"10d + \sum_i [x_i^2 - 10\cos(2\pi x_i)]",
    ),
    "ackley": _Spec(
        _ackley, (-32.768, 32.768), _const(0), lambda d: 0.0,
        r"-20 e^{-0.2\sqrt{\frac1d\sum x_i^2}} - e^{\frac1d\sum\cos 2\pi x_i} + 20 + e",
    ),
    "rosenbrock": _Spec(
        _rosenbrock, (-5.0, 10.0), _const(1), lambda d: 0.0,
        r"\sum_{i<d} [100(x_{i+1}-x_i^2)^2 + (x_i-1)^2]", min_dim=2,
    ),
    "griewank": _Spec(
        _griewank, (-600.0, 600.0), _const(0), lambda d: 0.0,
        r"\sum x_i^2/4000 - \prod \cos(x_i/\sqrt{i}) + 1",
    ),
    "styblinski_tang": _Spec(
        _styblinski_tang, (-5.0, 5.0), _const(-2.903534027771178),
        lambda d: -39.16616570377142 * d, r"\frac12 \sum_i (x_i^4 - 16x_i^2 + 5x_i)",
    ),
    "levy": _Spec(
        _levy, (-10.0, 10.0), _const(1), lambda d: 0.0,
        r"\sin^2(\pi w_1) + \sum_{i<d}(w_i-1)^2[1+10\sin^2(\pi w_i+1)] + (w_d-1)^2[1+\sin^2(2\pi w_d)]",
    ),
    "schwefel": _Spec(
        _schwefel, (-500.0, 500.0), _const(_SCHWEFEL_X), lambda d: 0.0,
        r"418.9829 d - \sum_i x_i \sin\sqrt{|x_i|}",
    ),
    "michalewicz": _Spec(
        _michalewicz, (0.0, math.pi), _michalewicz_x, _michalewicz_f,
        r"-\sum_i \sin(x_i)\sin^{20}(i x_i^2/\pi)",
        note="x* is known only for d = 2, 5, 10 (elsewhere x_opt and f_opt are None: "
        "no published minimiser exists and the landscape has d! steep valleys)",
    ),
    "zakharov": _Spec(
        _zakharov, (-5.0, 10.0), _const(0), lambda d: 0.0,
        r"\sum x_i^2 + (\sum 0.5 i x_i)^2 + (\sum 0.5 i x_i)^4",
    ),
    "dixon_price": _Spec(
        _dixon_price, (-10.0, 10.0),
        lambda d: np.array([2.0 ** (-(2.0**i - 2.0) / 2.0**i) for i in range(1, d + 1)]),
        lambda d: 0.0, r"(x_1-1)^2 + \sum_{i\ge2} i(2x_i^2 - x_{i-1})^2", min_dim=2,
    ),
}

_MAX_DIM = 10_000


def names() -> tuple[str, ...]:
    """Names of all registered benchmark functions, sorted."""
    return tuple(sorted(REGISTRY))


def get(name: str, dim: int) -> TestFunction:
    """Return the benchmark function ``name`` in ``dim`` dimensions with its domain and optimum.

    Raises ``ValueError`` for an unknown name (listing the known ones) or a
    dimension the function does not support.
    """
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"name: unknown function {name!r}; known: {', '.join(names())}")
    dim = check_int("dim", dim)
    spec = REGISTRY[name]
    if not spec.min_dim <= dim <= _MAX_DIM:
        raise ValueError(
            f"dim: {name} is defined for {spec.min_dim} <= dim <= {_MAX_DIM}, got {dim}"
        )
    dim = int(dim)
    bounds = np.tile(np.array(spec.box, dtype=float), (dim, 1))
    x_opt = spec.x_opt(dim)
    f_opt = spec.f_opt(dim)
    return TestFunction(
        name=name,
        dim=dim,
        bounds=bounds,
        x_opt=None if x_opt is None else np.asarray(x_opt, dtype=float),
        f_opt=float("nan") if f_opt is None else float(f_opt),
        formula=spec.formula,
        _impl=spec.impl,
    )
