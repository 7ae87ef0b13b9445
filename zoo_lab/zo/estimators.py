"""Zeroth-order (ZO) gradient estimators: gradients of a black box from function values only.

Every estimator here has the form

    ĝ = (s / k) Σᵢ Dᵢ uᵢ,   Dᵢ = [f(x + μuᵢ) − f(x)] / μ          (forward)
                            Dᵢ = [f(x + μuᵢ) − f(x − μuᵢ)] / (2μ)  (central)

with k directions uᵢ and a scale s that makes ĝ unbiased for a linear f:

=============  ==========================================  =====  ==================
name           directions uᵢ                               s      relative MSE (lin.)
=============  ==========================================  =====  ==================
gaussian       N(0, I)                                     1      (d + 1) / k
sphere         uniform on the unit sphere                  d      (d − 1) / k
rademacher     entries ±1 (SPSA)                           1      (d − 1) / k
orthogonal     k ≤ d orthonormal rows (Haar)               d      (d − k) / k
coordinate     k ≤ d distinct axes eⱼ (all d by default)   d      (d − k) / k
=============  ==========================================  =====  ==================

For rademacher, 1/Δⱼ = Δⱼ, so Dᵢuᵢ is Spall's SPSA gradient [f(x+μΔ) − f(x−μΔ)] / (2μΔⱼ).
All points of one estimate go to ``fun`` in **one batched call** of shape (m, d):
forward: ``[x, x+μu₁, …, x+μuₖ]`` (m = k + 1); central: ``[x+μu₁, …, x+μuₖ, x−μu₁, …, x−μuₖ]``
(m = 2k). ``antithetic=True`` with forward differences uses q/2 directions and their
negatives, skipping f(x) (which cancels): it *is* the central estimate with q/2 directions.

Interface for callers that evaluate the points themselves (``zoo_lab.coupling.blackbox``)::

    query = est.query(x, seed)          # Query: .points (m, d), .n_evals, .directions / .axes
    values = program(query.points)      # (m,) or (m, *out): any batched evaluation
    g = est.combine(values, query)      # (d,) or (*out, d): a Jacobian estimate for vector outputs

    # vector-Jacobian product vᵀJ with v of shape (out,): contract first, then combine
    vjp = est.combine(values @ v, query)

:meth:`Estimator.gradient` is exactly ``combine(fun(query.points), query)`` plus checks.
New estimators subclass :class:`Estimator` and register with :func:`register`.

References
----------
.. [1] Y. Nesterov, V. Spokoiny, "Random gradient-free minimization of convex
   functions", Found. Comput. Math. 17, 2017 (Gaussian smoothing).
.. [2] J. C. Spall, "Multivariate stochastic approximation using a simultaneous
   perturbation gradient approximation", IEEE TAC 37(3), 1992 (SPSA).
.. [3] A. S. Berahas, L. Cao, K. Choromanski, K. Scheinberg, "A theoretical and
   empirical comparison of gradient approximations in derivative-free
   optimization", Found. Comput. Math. 22, 2022 (sphere, variances).

Size: one module (~500 lines) on purpose: the registry, the Estimator base and the six plain
estimators it registers share the query/combine machinery; split, the registry would import its
members back (an import cycle).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from zoo_lab._util.validate import check_bool, check_choice, check_float, check_int
from zoo_lab.zo.directions import (
    as_point,
    check_values,
    dtype_name,
    is_torch,
    rng_from,
    sample_axes,
    sample_directions,
    to_backend,
    torch,
)
from zoo_lab.zo.directions import (
    fast_point as _point,
)
from zoo_lab.zo.directions import (
    fast_values as _values,
)
from zoo_lab.zo.directions import (
    on_host as _on_host,
)

__all__ = [
    "NAMES",
    "DIFFERENCES",
    "Estimator",
    "Query",
    "make",
    "register",
    "names",
    "evaluate_batch",
]

DIFFERENCES: tuple[str, ...] = ("forward", "central")
_REGISTRY: dict[str, type[Estimator]] = {}
NAMES: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Query:
    """The evaluation plan of one estimate: the points to evaluate and what ``combine`` needs.

    ``points`` (m, d) are in the backend, device and dtype of the estimate. ``directions``
    (k, d) holds uᵢ (None for coordinate estimates, which keep ``axes`` (k,) instead).
    """

    x: Any
    points: Any
    directions: Any
    axes: np.ndarray | None
    mu: float
    scale: float
    central: bool

    @property
    def n_evals(self) -> int:
        """Number of rows in ``points`` (the queries this estimate costs)."""
        return int(self.points.shape[0])

    @property
    def k(self) -> int:
        """Number of directions."""
        return int(len(self.axes) if self.axes is not None else self.directions.shape[0])


def _new_query(x, points, directions, axes, mu, scale, central) -> Query:
    """``Query(...)`` without the frozen dataclass's per-field ``object.__setattr__`` (≈0.5 µs of
    an estimate's fixed cost, issue 16.4); the instance is the same and stays frozen."""
    q = _object_new(Query)
    f = q.__dict__
    f["x"], f["points"], f["directions"], f["axes"] = x, points, directions, axes
    f["mu"], f["scale"], f["central"] = mu, scale, central
    return q


_object_new = object.__new__


class Estimator:
    """Base class of the finite-difference ZO estimators (see the module docstring).

    Subclasses set ``name`` and implement :meth:`_draw` (directions) and :meth:`_scale`.
    """

    name: ClassVar[str] = ""
    default_q: ClassVar[str] = "1"  # "1" or "d": what q=None means

    def __init__(
        self,
        q: int | None = None,
        mu: float = 1e-4,
        difference: str = "forward",
        *,
        dtype="float64",
        antithetic: bool = False,
    ) -> None:
        if q is not None:
            q = check_int("q", q, 1)
        mu = check_float("mu", mu, 0.0, strict=True)
        check_choice("difference", difference, DIFFERENCES)
        check_bool("antithetic", antithetic)
        if antithetic:
            if difference == "central":
                raise ValueError(
                    "antithetic: central differences already pair +u and -u; "
                    "use antithetic=True only with difference='forward'"
                )
            if q is None or q % 2:
                raise ValueError(f"q: antithetic sampling needs an even q (pairs ±u), got {q}")
        self.q, self.mu, self.difference = q, float(mu), difference
        self.dtype, self.antithetic = dtype_name(dtype), bool(antithetic)

    def __repr__(self) -> str:
        extra = ", antithetic=True" if self.antithetic else ""
        return (
            f"{type(self).__name__}(q={self.q}, mu={self.mu:g}, difference={self.difference!r}, "
            f"dtype={self.dtype!r}{extra})"
        )

    # -- sizes ---------------------------------------------------------------
    @property
    def central(self) -> bool:
        """True when the points come in ± pairs (central or antithetic)."""
        return self.difference == "central" or self.antithetic

    def n_directions(self, d: int) -> int:
        """Number k of directions used in dimension ``d``."""
        q = self.q if self.q is not None else (d if self.default_q == "d" else 1)
        return q // 2 if self.antithetic else q

    def n_evals(self, d: int) -> int:
        """Exact number of function evaluations (rows) of one estimate in dimension ``d``."""
        k = self.n_directions(d)
        return 2 * k if self.central else k + 1

    def theory_relative_mse(self, d: int) -> float:
        """E‖ĝ − ∇f‖² / ‖∇f‖² for a linear f (exact at any μ); see the module table."""
        raise NotImplementedError

    # -- the two halves of an estimate --------------------------------------
    def directions(self, d: int, seed=None) -> np.ndarray:
        """The k directions uᵢ of one estimate as a numpy array (k, d) (one-hot rows for axes)."""
        rng = rng_from(seed)
        k = self._check_k(self.n_directions(d), d)
        return self._draw(k, d, rng)

    def for_row(self, z_full, v, dims) -> Estimator:
        """The estimator to use for one :class:`zoo_lab.BlackBox` row (row input, cotangent, columns).

        Plain estimators need nothing from the row and return themselves; proxy-guided
        ones (:mod:`zoo_lab.zo.guided`) bind their proxy to vᵀp at that row.
        """
        return self

    def query(self, x, seed=None) -> Query:
        """Points (m, d) to evaluate for an estimate at ``x`` (d,), with what ``combine`` needs."""
        x = _point(x, self.dtype)
        d = x.shape[0]
        if self.mu < _STEP_CHECK[self.dtype]:
            _warn_small_step(self.mu, x, self.dtype)
        k = self._check_k(self.n_directions(d), d)
        U = self._draw(k, d, seed if type(seed) is np.random.Generator else rng_from(seed))
        return self._build(x, U, None, k, d)

    def combine(self, values, query: Query):
        """Estimate from the values at ``query.points``: (m,) → (d,), or (m, *out) → (*out, d)."""
        return self._combine(_as_values(values, query, scalar=False), query)

    def _combine(self, fx, query: Query):
        if query.axes is None and not query.central and fx.ndim == 1:  # the common case, direct
            if type(fx) is np.ndarray:
                return ((fx[1:] - fx[0]) * (query.scale / query.mu)) @ query.directions
            if _on_host(fx) and _on_host(query.directions):  # numpy views: see _build
                fn = fx.numpy()
                return torch.from_numpy(((fn[1:] - fn[0]) * (query.scale / query.mu)) @ query.directions.numpy())
            return ((fx[1:] - fx[0]) * (query.scale / query.mu)) @ query.directions
        k = query.k
        if query.central:
            diff = (fx[:k] - fx[k:]) * (query.scale / (2 * query.mu))
        else:
            diff = (fx[1:] - fx[0]) * (query.scale / query.mu)
        if query.axes is not None:
            d = query.x.shape[0]
            if is_torch(diff):
                g = torch.zeros((*diff.shape[1:], d), dtype=diff.dtype, device=diff.device)
                g[..., torch.as_tensor(query.axes, device=diff.device)] = torch.movedim(diff, 0, -1)
            else:
                g = np.zeros((*diff.shape[1:], d), dtype=diff.dtype)
                g[..., query.axes] = np.moveaxis(diff, 0, -1)
            return g
        if diff.ndim == 1:
            return diff @ query.directions
        if is_torch(diff):
            return torch.movedim(diff, 0, -1) @ query.directions
        return np.moveaxis(diff, 0, -1) @ query.directions

    # -- one-call convenience -------------------------------------------------
    def estimate(self, fun, x, seed=None) -> tuple[Any, int, float | None]:
        """Like :meth:`gradient` but also returns f(x) when it was evaluated (forward), else None."""
        query = self.query(x, seed)
        P = query.points
        values = _values(fun(P), P)  # checked once: shape (m,), finite
        g = self._combine(values, query)
        fx = None if query.central else float(values[0])
        return g, P.shape[0], fx

    def gradient(self, fun, x, seed=None) -> tuple[Any, int]:
        """Estimate ∇f(x) with one batched call ``fun(points)``; returns (g, n_evals).

        ``fun`` maps (m, d) to (m,) (numpy or torch); ``g`` has the backend of ``x`` and
        the estimator's dtype; ``n_evals`` is the exact number of rows evaluated.
        """
        query = self.query(x, seed)  # estimate() without f(x): one call less per estimate
        P = query.points
        return self._combine(_values(fun(P), P), query), P.shape[0]

    # -- for subclasses -------------------------------------------------------
    def _check_k(self, k: int, d: int) -> int:
        return k

    def _draw(self, k: int, d: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def _scale(self, k: int, d: int) -> float:
        raise NotImplementedError

    def _build(self, x, U, axes, k: int, d: int) -> Query:
        """The Query at ``x`` for directions ``U`` (k, d): numpy, or the backend of ``x``."""
        mu, central = self.mu, self.central
        # fill one preallocated (m, d) block in place: no temporaries, no concatenation
        m = 2 * k if central else k + 1
        if type(x) is np.ndarray:
            xb, Ub, P, mul = x, U, np.empty((m, d), x.dtype), np.multiply
        elif _on_host(x) and (type(U) is np.ndarray or _on_host(U)):
            # a CPU tensor: the block is filled through numpy views of the same memory, as
            # each torch call on these small arrays costs a few µs of dispatch (issue 16.4);
            # the same float operations, so the same numbers as the torch calls gave
            xb, Ub = x.numpy(), U if type(U) is np.ndarray else U.numpy()
            if Ub.dtype != xb.dtype:  # as to_backend did: directions in the dtype of x
                U = Ub = Ub.astype(xb.dtype)
            P, mul = np.empty((m, d), xb.dtype), np.multiply
        else:
            xb, Ub = x, to_backend(U, x) if type(U) is np.ndarray else U
            P, mul = torch.empty((m, d), dtype=x.dtype, device=x.device), torch.mul
        if central:
            mul(Ub, mu, out=P[:k])
            mul(Ub, -mu, out=P[k:])
            P += xb
        else:
            P[0] = xb
            mul(Ub, mu, out=P[1:])
            P[1:] += xb
        if type(x) is not np.ndarray and type(P) is np.ndarray:
            P = torch.from_numpy(P)
            Ub = torch.from_numpy(U) if type(U) is np.ndarray else U
        return _new_query(x, P, Ub, axes, mu, self._scale(k, d) / k, central)


# mu below eps * max(1, |x|) cannot move x, or moves f by less than its rounding: warn.
# The |x| check runs only for steps small enough to be at risk (mu < 1e8 eps).
_EPS = {"float64": float(np.finfo(np.float64).eps), "float32": float(np.finfo(np.float32).eps)}
_STEP_CHECK = {k: 1e8 * v for k, v in _EPS.items()}


def _warn_small_step(mu: float, x, dtype: str) -> None:
    eps = _EPS[dtype]
    if mu >= eps:  # cheap gate first: |x|_inf <= |x|_2, so mu >= eps * |x|_2 cannot warn
        sq = float(np.vdot(x, x) if type(x) is np.ndarray else x.dot(x))
        if sq * eps * eps <= mu * mu:  # False also for inf/NaN: then the exact check below
            return
    scale = max(1.0, float(abs(x).max()))
    if mu < _EPS[dtype] * scale:
        warnings.warn(f"mu={mu:g} is below the {dtype} resolution near x (eps * max(1, |x|) = "
                      f"{_EPS[dtype] * scale:.3g}): x + mu*u rounds to x, or f moves by less than "
                      "its rounding, and the estimate is likely zero or noise; use a larger mu or float64",
                      RuntimeWarning, stacklevel=4)


def register(cls: type[Estimator]) -> type[Estimator]:
    """Class decorator: add an :class:`Estimator` subclass to the registry under ``cls.name``."""
    global NAMES
    if not (isinstance(cls, type) and issubclass(cls, Estimator) and cls.name):
        raise TypeError(f"cls: expected an Estimator subclass with a name, got {cls!r}")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"name: estimator {cls.name!r} is already registered")
    _REGISTRY[cls.name] = cls
    # NAMES: the estimators make(name, q, mu) builds alone; proxy-guided ones need proxy=
    NAMES = tuple(n for n, c in _REGISTRY.items() if not getattr(c, "requires_proxy", False))
    return cls


def names() -> tuple[str, ...]:
    """Names of all registered estimators (proxy-guided ones included), in registration order."""
    return tuple(_REGISTRY)


def make(
    name: str,
    q: int | None = None,
    mu: float = 1e-4,
    difference: str = "forward",
    *,
    dtype="float64",
    **opts,
) -> Estimator:
    """Build the estimator ``name`` (one of :data:`NAMES`) with q directions and step μ.

    ``q=None`` means 1 for gaussian/sphere/rademacher and d (every axis, the full frame)
    for coordinate/orthogonal. ``dtype`` is "float64" (default) or "float32"; ``opts``
    go to the class (``antithetic=True`` for forward differences with an even q).
    """
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"name: unknown estimator {name!r}; known: {', '.join(_REGISTRY)}")
    return _REGISTRY[name](q, mu, difference, dtype=dtype, **opts)


def evaluate_batch(fun, points, *, like=None):
    """Call ``fun(points)`` once and check it returns (m,) finite values; return them.

    Values are converted to the backend of ``like`` (default: ``points``) and its dtype,
    so a float32 estimate sees float32 rounding. A wrong shape or a non-finite value raises
    ``ValueError`` naming the offending point.
    """
    if like is None:
        return _values(fun(points), points)
    return check_values(fun(points), points, like, scalar=True)


def _as_values(values, query: Query, scalar: bool):
    return check_values(values, query.points, query.x, scalar)


# -- the estimators ---------------------------------------------------------------------------
@register
class Gaussian(Estimator):
    """Gaussian smoothing: uᵢ ~ N(0, I), s = 1 (Nesterov & Spokoiny 2017)."""

    name = "gaussian"

    def _draw(self, k, d, rng):
        if self.dtype == "float64":  # the default, without the dtype lookup
            return rng.standard_normal((k, d))
        return sample_directions("gaussian", k, d, rng, self.dtype)

    def _scale(self, k, d):
        return 1.0

    def theory_relative_mse(self, d):
        return (d + 1) / self.n_directions(d)


@register
class Sphere(Estimator):
    """Uniform directions on the unit sphere, s = d (Berahas et al. 2022)."""

    name = "sphere"

    def _draw(self, k, d, rng):
        return sample_directions("sphere", k, d, rng, self.dtype)

    def _scale(self, k, d):
        return float(d)

    def theory_relative_mse(self, d):
        return (d - 1) / self.n_directions(d)


class _AtMostD(Estimator):
    default_q = "d"

    def _check_k(self, k, d):
        if k > d:
            raise ValueError(
                f"q: {self.name} uses at most d={d} directions, got q={self.q}"
                + (" (antithetic: q/2 directions)" if self.antithetic else "")
            )
        return k

    def _scale(self, k, d):
        return float(d)

    def theory_relative_mse(self, d):
        k = self.n_directions(d)
        return (d - k) / k


@register
class Coordinate(_AtMostD):
    """Finite differences along k ≤ d distinct axes drawn without replacement, s = d (all d: s = 1)."""

    name = "coordinate"

    def _draw(self, k, d, rng):
        axes = sample_axes(k, d, rng)
        U = np.zeros((k, d), dtype=self.dtype)
        U[np.arange(k), axes] = 1.0
        return U

    def query(self, x, seed=None) -> Query:
        x = as_point(x, self.dtype)
        d = x.shape[0]
        k = self._check_k(self.n_directions(d), d)
        rng = rng_from(seed) if (k < d or seed is not None) else None  # all axes: no draw
        axes = np.arange(d) if k == d else sample_axes(k, d, rng)
        mu = self.mu
        if self.central:
            P = x.repeat(2 * k, 1) if is_torch(x) else np.tile(x, (2 * k, 1))
            rows, cols = _index(np.arange(k), x), _index(axes, x)
            P[rows, cols] += mu
            P[rows + k, cols] -= mu
        else:
            P = x.repeat(k + 1, 1) if is_torch(x) else np.tile(x, (k + 1, 1))
            P[_index(np.arange(1, k + 1), x), _index(axes, x)] += mu
        return Query(x, P, None, axes, mu, self._scale(k, d) / k, self.central)



@register
class Rademacher(Estimator):
    """SPSA: ±1 perturbations Δ, ĝⱼ = Σ D/Δⱼ / k with 1/Δⱼ = Δⱼ (Spall 1992)."""

    name = "rademacher"

    def _draw(self, k, d, rng):
        return sample_directions("rademacher", k, d, rng, self.dtype)

    def _scale(self, k, d):
        return 1.0

    def theory_relative_mse(self, d):
        return (d - 1) / self.n_directions(d)


@register
class Orthogonal(_AtMostD):
    """k ≤ d random orthonormal directions (Haar), s = d; exact for linear f at k = d."""

    name = "orthogonal"

    def _draw(self, k, d, rng):
        return sample_directions("orthogonal", k, d, rng, self.dtype)

def _index(a: np.ndarray, like):
    return torch.as_tensor(a, device=like.device) if is_torch(like) else a

