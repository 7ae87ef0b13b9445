"""Proxy-guided ZO estimators: a cheap differentiable proxy guides, the real program corrects.

Three estimators, registered into :mod:`zoo_lab.zo.estimators` (``make(name, q, mu, proxy=...)``);
``proxy`` is any torch-differentiable callable (m, d) -> (m,) (a :class:`zoo_lab.surrogate.proxy.Proxy`,
a ``torch.nn.Module``, a torch benchmark function). Each estimate is still **one batched call**
of the real function; proxy evaluations happen in torch and are counted apart
(``query.n_proxy_evals``), never in ``n_evals``.

===============  =======================================================  ==================
name             estimate                                                 real rows
===============  =======================================================  ==================
control_variate  ∇p(x) + ZO_base[f − p](x)   (base: any plain estimator)  base's rows
guided_es        (d/k) Σ [f(x+μuᵢ) − f(x−μuᵢ)]/(2μ) uᵢ, uᵢ ~ N(0, Σ),    q (forward) or 2q
                 Σ = α/d·I + (1−α)/k_s·UUᵀ, U = basis of the last k_s ∇p
prior_guided     P-RGF: uᵢ = √λ v + √(1−λ) ξᵢ, v = ∇p/‖∇p‖, ξᵢ ⊥ v,        q + 2 (forward)
                 λ = λ*(α̂) from the estimated cosine α̂ = cos(v, ∇f)
===============  =======================================================  ==================

* ``control_variate`` is unbiased whenever the base estimator is unbiased for the residual
  r = f − p (exactly so for quadratic residuals with Gaussian directions); its error is the
  base estimator's error *for r*, so E‖ĝ − ∇f‖² ≈ (d+1)/k · ‖∇r‖² instead of (d+1)/k · ‖∇f‖²:
  it is exact when p = f and never needs the proxy to be good, only ``‖∇(f − p)‖ < ‖∇f‖``.
* ``guided_es`` uses scale s = d, so α = 1 is exactly the Gaussian estimator (antithetic);
  E ĝ = dΣ∇f, biased towards the proxy subspace (Maheswaranathan et al. 2019).
* ``prior_guided`` queries f at x, x+μv and x+μξᵢ in one call and forms every mixed
  directional derivative by linearity, Dᵢ = √λ D_v + √(1−λ) D_ξᵢ (exact for locally linear f),
  so λ can use the cosine estimated from the *same* call:
  ‖∇f‖² ≈ D_v² + (d−1)/q Σ D_ξᵢ², α̂ = D_v / ‖∇f‖. The P-RGF estimate (1/q) Σ Dᵢuᵢ is scaled by
  the b* that minimises E‖∇f − bĝ‖² for a linear f (the loss Cheng et al. optimise λ for).

Inside :class:`zoo_lab.BlackBox` (via :meth:`GuidedEstimator.for_row`) the proxy models the program,
(m, in_dim) -> (m, out_dim), and every row's guidance is the proxy's vector-Jacobian product
vᵢᵀJ_p(zᵢ) from torch autograd, with proxy values contracted with the same vᵢ.

References
----------
.. [1] N. Maheswaranathan, L. Metz, G. Tucker, D. Choi, J. Sohl-Dickstein, "Guided
   evolutionary strategies: augmenting random search with surrogate gradients", ICML 2019.
.. [2] S. Cheng, Y. Dong, T. Pang, H. Su, J. Zhu, "Improving black-box adversarial attacks
   with a transfer-based prior", NeurIPS 2019 (P-RGF, λ* of their Eq. 12).
.. [3] A. B. Owen, "Monte Carlo theory, methods and examples", 2013, ch. 8 (control variates).

Size: ~440 lines, three estimators and the theory functions the tests pin them to; they share
the scalar-proxy binding and are read together.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from zoo_lab._util.validate import check_float, check_int
from zoo_lab.zo import estimators
from zoo_lab.zo.directions import as_point, check_values, is_torch, rng_from, to_backend, torch
from zoo_lab.zo.estimators import Estimator, Query, register

__all__ = ["GUIDED", "GuidedEstimator", "GuidedQuery", "ControlVariate", "GuidedES",
           "PriorGuided", "ProxyOnly", "prgf_lambda", "residual_ratio", "guided_es_theory_relative_mse"]

GUIDED: tuple[str, ...] = ("control_variate", "guided_es", "prior_guided")
# estimators.NAMES lists the estimators that ``make(name, q, mu)`` builds without extra
# arguments; guided ones set ``requires_proxy = True`` and are only in ``estimators.names()``.


@dataclass(frozen=True, eq=False)
class GuidedQuery(Query):
    """A :class:`Query` plus what the proxy said: its gradient at x and (control variate) its values."""

    proxy_grad: Any = None
    proxy_values: Any = None
    n_proxy_evals: int = 0


# -- the proxy as a checked scalar function in torch -----------------------------------------
def _module_dtype_device(proxy):
    if isinstance(proxy, torch.nn.Module):
        for t in (*proxy.parameters(), *proxy.buffers()):
            if t.is_floating_point():
                return t.dtype, t.device
    return None, None


class _ScalarProxy:
    """Wraps ``proxy`` as torch (m, d) -> (m,) float64 with shape and differentiability checks."""

    def __init__(self, proxy, out_dim: int | None = None, v=None, z_full=None, dims=None):
        self.proxy, self.v, self.z_full, self.dims = proxy, v, z_full, dims
        self.out_dim = out_dim

    def _embed(self, P):
        if self.z_full is None:
            return P
        Z = self.z_full.to(P.dtype).repeat(P.shape[0], 1)
        cols = torch.as_tensor(self.dims, device=P.device)
        return Z.index_copy(1, cols, P)

    def __call__(self, P):
        dtype, device = _module_dtype_device(self.proxy)
        Pin = self._embed(P).to(dtype=dtype or P.dtype, device=device or P.device)
        try:
            out = self.proxy(Pin)
        except RuntimeError as exc:
            if "numpy" not in str(exc):
                raise
            raise TypeError("proxy: it converts its torch input to numpy, so autograd cannot "
                            "differentiate it; guided estimators need a torch-differentiable "
                            "callable (e.g. a zoo_lab.surrogate.proxy.Proxy or a torch.nn.Module)") from exc
        if not is_torch(out):
            raise TypeError(f"proxy: returned {type(out).__module__}.{type(out).__name__}; expected a "
                            "torch tensor computed with torch operations (a torch-differentiable "
                            "callable, e.g. a zoo_lab.surrogate.proxy.Proxy or a torch.nn.Module)")
        m = P.shape[0]
        if self.v is None:
            if out.ndim == 2 and out.shape[1] == 1:
                out = out[:, 0]
            if tuple(out.shape) != (m,):
                raise ValueError(f"proxy: returned shape {tuple(out.shape)} for a batch of shape "
                                 f"{tuple(P.shape)}; expected ({m},) (one scalar per row)")
        else:
            if out.ndim == 1 and self.out_dim == 1:
                out = out[:, None]
            if tuple(out.shape) != (m, self.out_dim):
                raise ValueError(f"proxy: returned shape {tuple(out.shape)} for a batch of "
                                 f"{m} program inputs; expected ({m}, {self.out_dim}) "
                                 "(it must model the program's output)")
            out = out.to(torch.float64) @ self.v.to(device=out.device)
        return out.to(device=P.device, dtype=torch.float64)

    def value_grad(self, x, points=None):
        """∇p(x) (d,) and, when ``points`` are given, p(points) (m,); all float64 torch."""
        xt = x.detach().clone().to(torch.float64).requires_grad_(True)
        with torch.enable_grad():
            px = self(xt[None])[0]
            if px.grad_fn is None:
                raise TypeError("proxy: its output has no grad_fn, so it is not differentiable with "
                                "respect to its input (detached, computed in numpy, or under "
                                "torch.no_grad); guided estimators need torch autograd")
            (g,) = torch.autograd.grad(px, xt, allow_unused=True)
        if g is None:
            raise TypeError("proxy: its output does not depend on its input; guided estimators need "
                            "a proxy differentiable with respect to x")
        vals = None
        if points is not None:
            with torch.no_grad():
                vals = self(points.detach().to(torch.float64))
        return g.detach(), vals


def _torch64(a):
    return a.detach().to(torch.float64) if is_torch(a) else torch.as_tensor(np.asarray(a, np.float64))


def _back(t, like):
    """float64 torch ``t`` in the backend/dtype of ``like``."""
    if is_torch(like):
        return t.to(device=like.device, dtype=like.dtype)
    return t.cpu().numpy().astype(like.dtype)


class GuidedEstimator(Estimator):
    """Base class of the proxy-guided estimators: holds and checks the proxy."""

    def __init__(self, q: int | None = None, mu: float = 1e-4, difference: str = "forward", *,
                 dtype="float64", proxy=None, antithetic: bool = False) -> None:
        super().__init__(q, mu, difference, dtype=dtype, antithetic=antithetic)
        if proxy is None:
            raise TypeError(f"proxy: {self.name} needs proxy=<a torch-differentiable callable "
                            "(m, d) -> (m,)>, e.g. zl.proxy.fit(X, y) or a torch.nn.Module")
        if not callable(proxy):
            raise TypeError(f"proxy: expected a torch-differentiable callable, got "
                            f"{type(proxy).__name__} {proxy!r}")
        self.proxy = proxy

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f", proxy={type(self.proxy).__name__})"

    def query(self, x, seed=None, *, scalar_proxy: _ScalarProxy | None = None) -> GuidedQuery:
        """Points to evaluate at ``x`` and the proxy's guidance (``scalar_proxy``: BlackBox rows)."""
        x = as_point(x, self.dtype)
        sp = scalar_proxy or _ScalarProxy(self.proxy)
        return self._guided_query(x, rng_from(seed), sp)

    def _guided_query(self, x, rng, sp) -> GuidedQuery:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget any state kept between estimates (guided_es keeps recent proxy gradients)."""

    def for_row(self, z_full, v, dims) -> _BoundRow:
        """This estimator for one BlackBox row: proxy x -> v · p(z_full with x in columns ``dims``).

        The proxy then models the program, (m, in_dim) -> (m, len(v)); ``query``/``combine`` of
        the returned object work on the contracted values ``values @ v`` as in BlackBox._vjp.
        """
        v = torch.as_tensor(np.asarray(v, dtype=np.float64).reshape(-1))
        sp = _ScalarProxy(self.proxy, int(v.shape[0]), v=v,
                          z_full=torch.as_tensor(np.asarray(z_full, dtype=np.float64)),
                          dims=np.asarray(dims))
        return _BoundRow(self, sp)

    requires_proxy: bool = True

    def combine(self, values, query: GuidedQuery):
        """The estimate from the real values at ``query.points`` (one scalar per point)."""
        return self._guided_combine(self._check_scalar(values, query), query)

    def _combine(self, fx, query):  # the base class's estimate() calls this with checked values
        return self._guided_combine(self._check_scalar(fx, query), query)

    def _guided_combine(self, fx, query: GuidedQuery):
        raise NotImplementedError

    @staticmethod
    def _check_scalar(values, query):
        v = check_values(values, query.points, query.x, scalar=False)
        if v.ndim != 1:
            raise ValueError(f"values: guided estimators need one scalar per point, shape "
                             f"({query.n_evals},), got {tuple(v.shape)}; contract vector outputs "
                             "first (BlackBox does)")
        return v


class _BoundRow:
    """A guided estimator bound to one BlackBox row's contracted proxy (see ``for_row``)."""

    def __init__(self, est: GuidedEstimator, sp: _ScalarProxy) -> None:
        self.est, self.sp = est, sp
        self.central = est.central

    def n_evals(self, d: int) -> int:
        return self.est.n_evals(d)

    def query(self, x, seed=None) -> GuidedQuery:
        return self.est.query(x, seed, scalar_proxy=self.sp)

    def combine(self, values, query: GuidedQuery):
        return self.est.combine(values, query)


def _guided(q: Query, **kw) -> GuidedQuery:
    return GuidedQuery(q.x, q.points, q.directions, q.axes, q.mu, q.scale, q.central, **kw)


@register
class ControlVariate(GuidedEstimator):
    """g = ∇p(x) + ZO estimate of ∇(f − p)(x) from any plain ``base`` estimator (Owen 2013, ch. 8)."""

    name = "control_variate"

    def __init__(self, q: int | None = None, mu: float = 1e-4, difference: str = "forward", *,
                 dtype="float64", proxy=None, antithetic: bool = False, base: str = "gaussian") -> None:
        super().__init__(q, mu, difference, dtype=dtype, proxy=proxy, antithetic=antithetic)
        plain = tuple(n for n in estimators.names() if n not in GUIDED)
        if base not in plain:
            raise ValueError(f"base: got {base!r}; allowed: {', '.join(plain)}")
        self.base = estimators.make(base, q, mu, difference, dtype=dtype, antithetic=antithetic)
        self.default_q = self.base.default_q

    def n_directions(self, d: int) -> int:
        return self.base.n_directions(d)

    def theory_relative_mse(self, d: int) -> float:
        """Relative MSE of the base estimator, now relative to ‖∇(f − p)‖² instead of ‖∇f‖²."""
        return self.base.theory_relative_mse(d)

    def _guided_query(self, x, rng, sp):
        bq = self.base.query(x, rng)
        g, vals = sp.value_grad(_torch64(x), _torch64(bq.points))
        return _guided(bq, proxy_grad=g, proxy_values=vals, n_proxy_evals=bq.n_evals + 1)

    def _guided_combine(self, v, query: GuidedQuery):
        """∇p(x) + base.combine(f − p at the points)."""
        r = v - _back(query.proxy_values, v)
        return _back(query.proxy_grad, query.x) + self.base.combine(r, query)


@register
class GuidedES(GuidedEstimator):
    """Guided ES: uᵢ ~ N(0, α/d I + (1−α)/k UUᵀ), antithetic pairs, s = d (Maheswaranathan et al. 2019)."""

    name = "guided_es"

    def __init__(self, q: int | None = None, mu: float = 1e-4, difference: str = "forward", *,
                 dtype="float64", proxy=None, antithetic: bool | None = None, alpha: float = 0.5,
                 n_surrogates: int = 1) -> None:
        if antithetic is False and difference == "forward":
            raise ValueError("antithetic: guided_es always uses antithetic pairs; with "
                             "difference='forward' leave antithetic unset (or True)")
        anti = difference == "forward"
        super().__init__(2 if q is None and anti else q, mu, difference, dtype=dtype,
                         proxy=proxy, antithetic=anti)
        alpha = check_float("alpha", alpha, 0.0, 1.0)  # 1 = ignore the proxy
        n_surrogates = check_int("n_surrogates", n_surrogates, 1)
        self.alpha, self.n_surrogates = alpha, n_surrogates
        self._history: deque = deque(maxlen=n_surrogates)

    def reset(self) -> None:
        self._history.clear()

    def _scale(self, k, d):
        return float(d)

    def _guided_query(self, x, rng, sp):
        d = x.shape[0]
        k = self.n_directions(d)
        g, _ = sp.value_grad(_torch64(x))
        gn = g.cpu().numpy()
        if np.linalg.norm(gn) > 0:
            self._history.append(gn)
        eps = rng.standard_normal((k, d))
        U = np.sqrt(self.alpha / d) * eps
        if self._history and self.alpha < 1:
            Q, _ = np.linalg.qr(np.stack(list(self._history), axis=1))  # (d, k_s) orthonormal
            ks = Q.shape[1]
            U = U + np.sqrt((1 - self.alpha) / ks) * rng.standard_normal((k, ks)) @ Q.T
        elif self.alpha < 1:  # zero proxy gradient: nothing to guide with, plain isotropic draw
            U = eps / np.sqrt(d)
        U = to_backend(U.astype(self.dtype), x)
        q = self._build(x, U, None, k, d)
        return _guided(q, proxy_grad=g, n_proxy_evals=1)

    def _guided_combine(self, fx, query):
        return Estimator._combine(self, fx, query)

    def theory_relative_mse(self, d: int) -> float:
        """E‖ĝ − ∇f‖²/‖∇f‖² for a linear f and a proxy direction uncorrelated with ∇f (k_s = 1)."""
        return guided_es_theory_relative_mse(d, self.n_directions(d), self.alpha)


def guided_es_theory_relative_mse(d: int, n_pairs: int, alpha: float) -> float:
    """Relative MSE of guided_es (k_s = 1) on a linear f when the guide is a random direction.

    Bias (1−α)²(d−1) plus variance [d(1 + (1−α)²) + α(2−α)] / n; α = 1 gives (d+1)/n,
    the plain Gaussian estimator with n antithetic pairs. Derived in notebook 07 and tests.
    """
    a = float(alpha)
    return (1 - a) ** 2 * (d - 1) + (d * (1 + (1 - a) ** 2) + a * (2 - a)) / n_pairs


def residual_ratio(fun, proxy, x) -> float:
    """ρ = ‖∇(f − p)(x)‖ / ‖∇f(x)‖ for a torch-differentiable ``fun`` (the control variate's gain is ρ²)."""
    xt = torch.as_tensor(np.asarray(x, dtype=np.float64))
    gf, _ = _ScalarProxy(fun).value_grad(xt)
    gp, _ = _ScalarProxy(proxy).value_grad(xt)
    return float(torch.linalg.norm(gf - gp) / torch.linalg.norm(gf))


def prgf_lambda(alpha2: float, d: int, q: int) -> float:
    """λ* of Cheng et al. 2019 (Eq. 12): the weight of the prior for a squared cosine α²."""
    a2 = min(max(float(alpha2), 0.0), 1.0)
    n = d + 2 * q - 2
    if a2 <= 1.0 / n:
        return 0.0
    if a2 >= (2 * q - 1) / n:
        return 1.0
    lam = (1 - a2) * (a2 * n - 1) / (2 * a2 * d * q - a2**2 * d * n - 1)
    return float(min(max(lam, 0.0), 1.0))


@register
class PriorGuided(GuidedEstimator):
    """P-RGF: directions mixed with the proxy's gradient direction, λ from the estimated cosine (Cheng et al. 2019)."""

    name = "prior_guided"

    def n_directions(self, d: int) -> int:
        return (self.q if self.q is not None else 1) + 1  # the prior v plus q random ξ ⊥ v

    def _check_k(self, k, d):
        if d < 2:
            raise ValueError(f"x: prior_guided needs d >= 2 (directions orthogonal to the prior), got d={d}")
        return k

    def _scale(self, k, d):
        return 1.0

    def _guided_query(self, x, rng, sp):
        d = x.shape[0]
        k = self._check_k(self.n_directions(d), d)
        g, _ = sp.value_grad(_torch64(x))
        gn = g.cpu().numpy()
        nrm = np.linalg.norm(gn)
        v = gn / nrm if nrm > 0 else _unit(rng.standard_normal(d))
        xi = rng.standard_normal((k - 1, d))
        xi -= np.outer(xi @ v, v)
        xi /= np.linalg.norm(xi, axis=1, keepdims=True)
        W = to_backend(np.vstack([v, xi]).astype(self.dtype), x)
        q = self._build(x, W, None, k, d)
        return _guided(q, proxy_grad=g, n_proxy_evals=1)

    def _guided_combine(self, fx, query):
        """P-RGF estimate b*(1/q) Σ Dᵢuᵢ with Dᵢ, λ and b* from this call's values (see module doc)."""
        k = query.k
        D = (fx[:k] - fx[k:]) / (2 * query.mu) if query.central else (fx[1:] - fx[0]) / query.mu
        W = query.directions
        if is_torch(D):
            D, W = D.detach().cpu().numpy(), W.detach().cpu().numpy()
        D, W = np.asarray(D, np.float64), np.asarray(W, np.float64)
        d, q = W.shape[1], k - 1
        a, b = D[0], D[1:]
        norm2 = a**2 + (d - 1) / q * float(b @ b)
        alpha2 = a**2 / norm2 if norm2 > 0 else 0.0
        lam = prgf_lambda(alpha2, d, q)
        sl, sc = math.sqrt(lam), math.sqrt(1 - lam)
        Dmix = sl * a + sc * b  # directional derivatives along uᵢ = √λ v + √(1−λ) ξᵢ
        U = sl * W[0][None, :] + sc * W[1:]
        ghat = Dmix @ U / q
        # b* = argmin_b E‖∇f − b ĝ‖² for a unit linear gradient with cos² = α̂² (closed form)
        m1 = lam * alpha2 + (1 - lam) * (1 - alpha2) / (d - 1)
        mean2 = lam**2 * alpha2 + (1 - lam) ** 2 * (1 - alpha2) / (d - 1) ** 2
        den = m1 / q + (1 - 1 / q) * mean2
        bstar = m1 / den if den > 0 else 0.0
        out = bstar * ghat
        return torch.as_tensor(out).to(query.x) if is_torch(query.x) else out.astype(query.x.dtype)


class ProxyOnly(GuidedEstimator):
    """Proxy-only first order: ĝ = ∇p(x); one real row, f(x), only to watch progress (not registered)."""

    name = "proxy_only"

    def n_directions(self, d: int) -> int:
        return 0

    def _guided_query(self, x, rng, sp):
        g, _ = sp.value_grad(_torch64(x))
        empty = x[:0][None, :].reshape(0, x.shape[0])
        return GuidedQuery(x, x[None, :], empty, None, self.mu, 1.0, False, proxy_grad=g,
                           n_proxy_evals=1)

    def _guided_combine(self, fx, query):
        return _back(query.proxy_grad, query.x)


def _unit(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a)

