"""Any program as a torch layer: exact forward, zeroth-order backward (the hybrid chain rule).

A network ``g_θ`` feeds a program ``F`` that has no gradients (a solver, a
simulator, an external executable); the loss is ``L(F(g_θ(x)))``. Autograd
handles ``L`` and ``g_θ``; for ``F`` the backward pass needs the vector-Jacobian
product ``vᵀ J_F(z)`` with ``v = ∂L/∂y``. :class:`BlackBox` estimates it with a
ZO estimator (see :mod:`zoo_lab.zo.estimators`):

    vᵀ J_F(z) ≈ (s/k) Σᵢ [vᵀF(z + μuᵢ) − vᵀF(z)] / μ · uᵢ

contracting the program's outputs with ``v`` first, so one set of k directions
serves every output. All perturbed points of a batch go to the program as one
batch (or one batch per executor chunk). With forward differences the value
``F(z)`` computed in the forward pass is reused, so a backward costs ``k`` (not
``k + 1``) program rows per input row; ``repr(box)`` shows that count.

The default ``estimator="auto"`` picks forward coordinate differences when the
number of input columns that need a gradient is at most the number of directions
a Gaussian estimate would use (10), else Gaussian with q = 10: with few inputs the
coordinate estimate costs at most as many rows and is exact up to O(μ).

This coupling is our own reconstruction of the idea in Tsaknakis et al.,
"Zeroth-Order SciML: Non-intrusive Integration of Scientific Software with Deep
Learning" (arXiv:2206.02785), whose method details and code are not public.
"""

from __future__ import annotations

import warnings
from concurrent.futures import Executor

import numpy as np
import torch

from zoo_lab._util.seeding import rng_from
from zoo_lab._util.validate import check_choice
from zoo_lab.coupling.evaluation import EvalStats, Evaluator, ProgramError
from zoo_lab.coupling.precision import rounding_ratio, significant_digits
from zoo_lab.zo import estimators

__all__ = ["BlackBox", "ProgramError", "AUTO_Q", "AUTO_MU", "BOUNDS_POLICIES"]

AUTO_Q, AUTO_MU = 10, 1e-3  # "auto": gaussian q=10 (the old default) unless coordinate is cheaper
BOUNDS_POLICIES = ("clip", "raise")
_ROUNDING_WARN = 1e-2  # warn when output rounding alone is >= 1 % of the differences


def auto_estimator(n_grad: int) -> estimators.Estimator:
    """Coordinate (forward) when ``n_grad`` <= AUTO_Q inputs need a gradient, else Gaussian q=AUTO_Q."""
    if n_grad <= AUTO_Q:
        return estimators.make("coordinate", mu=AUTO_MU)
    return estimators.make("gaussian", q=AUTO_Q, mu=AUTO_MU)


class _ZOFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, box):
        Z = z.detach().to("cpu", torch.float64).numpy()
        Z, clipped = box._apply_bounds(Z)
        Y = box.evaluator(Z)
        ctx.box, ctx.Z, ctx.Y, ctx.clipped = box, Z, Y, clipped
        ctx.like = (z.dtype, z.device)
        box.last_valid = torch.as_tensor(np.isfinite(Y).all(axis=1), device=z.device)
        return torch.as_tensor(Y, dtype=z.dtype, device=z.device)

    @staticmethod
    def backward(ctx, grad_out):
        box, Z, Y = ctx.box, ctx.Z, ctx.Y
        V = grad_out.detach().to("cpu", torch.float64).numpy()
        G = box._vjp(Z, Y, V)
        if ctx.clipped is not None:
            G[ctx.clipped] = 0.0  # d clip(z)/dz = 0 outside the box, as torch.clamp
        dtype, device = ctx.like
        return torch.as_tensor(G, dtype=dtype, device=device), None


class BlackBox(torch.nn.Module):
    """Wrap ``program`` ((m, in_dim) numpy -> (m, out_dim)) as a differentiable torch layer.

    Parameters
    ----------
    program : callable
        Maps a float64 array (m, in_dim) to (m, out_dim) (or (m,) when out_dim = 1).
        Never modified or differentiated. Must be picklable for process executors.
    in_dim, out_dim : int
        Input and output widths.
    estimator : "auto" or Estimator
        A :mod:`zoo_lab.zo.estimators` object, or "auto" (default): forward coordinate
        differences (mu=1e-3) when at most 10 columns need a gradient, else gaussian
        q=10, mu=1e-3. ``box.estimator`` is the estimator in use.
    executor : concurrent.futures.Executor, optional
        Splits each program batch into chunks run in parallel (threads, processes,
        or a Dask client's ``get_executor()``); results identical to serial. A fault
        of the executor raises :class:`zoo_lab.coupling.evaluation.ExecutorError`.
    cache : path or EvaluationCache, optional
        SQLite file keyed on the program's fingerprint (its configuration, name,
        widths, ``version``) and the input bytes; see :mod:`zoo_lab.coupling.cache`. A lambda or
        closure needs ``name=``.
    on_failure : "raise" or "nan"
        "raise": a failing row raises :class:`ProgramError` naming the input and the program
        (in the backward pass: the input row whose perturbed copy failed).
        "nan": failed rows come out NaN (see ``last_valid``), get zero gradient, and are
        counted in ``stats.n_failed``.
    name : str, optional
        Program name for messages and the cache (default: the program's ``name`` or its
        qualified name).
    chunk_size : int, optional
        Rows per program call (default: one chunk per worker; serial with a cache: chunks
        that grow until a call takes about 1 s, so a crash loses little).
    timeout : float, optional
        Seconds allowed per row: a call on k rows is stopped after k x timeout seconds
        from its start, in a child process that is killed (see :mod:`zoo_lab.coupling.executors`).
    seed : int or Generator, optional
        Seeds the directions of every backward pass: same seed, same gradients.
    grad_dims : sequence of int, optional
        Input columns that need a gradient (default: all). Columns that only carry
        context (a composition, a condition) are held fixed, which makes the ZO
        problem smaller: fewer directions for the same accuracy. Their gradient is 0.
    bounds : array (in_dim, 2), optional
        Box of valid program inputs. The program is only ever called inside it:
        perturbed points of the backward pass are clipped into it, so the estimate is
        that of F(clip(z)) (one-sided at the faces).
    bounds_policy : "clip" or "raise"
        What happens to forward inputs outside ``bounds``: "clip" (default) runs the
        nearest point inside, and the gradient of a clipped coordinate is 0 (as
        ``torch.clamp``); "raise" refuses them with a ValueError naming row and column.
    version : str or int, optional
        Part of the cache fingerprint: change it when the program's code changes.
    setup : callable, optional
        Called with no arguments once per worker process (or once in this process when
        serial) before its first chunk: a JIT warm-up, loading a model. Must be picklable
        for process executors.
    split_batches : bool
        False sends every batch whole as one program call (for programs with one
        vectorised solve per batch, whose cost does not grow with the rows).

    Counters (all in ``box.stats``, an :class:`~zoo_lab.coupling.evaluation.EvalStats`):
    ``n_calls`` program calls, ``n_rows`` program rows actually run (cache hits
    excluded; ``box.n_queries`` is the same number under its older name),
    ``n_cache_hits``, ``n_failed``, ``n_timeouts``. ``box.n_calls``, ``box.n_rows``,
    ``box.n_queries``, ``box.n_cache_hits`` and ``box.n_failed`` read them;
    ``last_valid`` is the row mask of the last forward.
    """

    def __init__(self, program, in_dim: int, out_dim: int, estimator="auto",
                 executor: Executor | None = None, cache=None, on_failure: str = "raise",
                 name: str | None = None, *, chunk_size: int | None = None,
                 timeout: float | None = None, seed=None, grad_dims=None, bounds=None,
                 bounds_policy: str = "clip", version=None, setup=None,
                 split_batches: bool = True):
        super().__init__()
        self.evaluator = Evaluator(program, in_dim, out_dim, name=name, executor=executor,
                                   cache=cache, on_failure=on_failure, chunk_size=chunk_size,
                                   timeout=timeout, version=version, setup=setup,
                                   split_batches=split_batches)
        self.in_dim, self.out_dim = int(in_dim), int(out_dim)
        self.grad_dims = self._check_grad_dims(grad_dims, self.in_dim)
        if isinstance(estimator, str) and estimator == "auto":
            estimator = auto_estimator(len(self.grad_dims))
            self.estimator_choice = "auto"
        elif isinstance(estimator, estimators.Estimator):
            self.estimator_choice = "given"
        else:
            raise TypeError(f"estimator: expected 'auto' or a zoo_lab.zo.estimators estimator (from "
                            f"zl.estimators.make), got {estimator!r}")
        self.estimator = estimator
        self.bounds, self.bounds_policy = self._check_bounds(bounds, bounds_policy, self.in_dim)
        self._rng = rng_from(seed)
        self.n_proxy_evals = 0  # proxy rows used by guided estimators (zoo_lab.zo.guided)
        self.last_valid: torch.Tensor | None = None
        self._precision_warned = False

    @staticmethod
    def _check_grad_dims(grad_dims, in_dim: int) -> np.ndarray:
        if grad_dims is None:
            return np.arange(in_dim)
        items = list(np.atleast_1d(np.asarray(grad_dims, dtype=object)).ravel())
        if not items or any(isinstance(i, bool) or not isinstance(i, int | np.integer) for i in items):
            raise TypeError(f"grad_dims: expected a non-empty sequence of int column indices in "
                            f"[0, {in_dim}), got {grad_dims!r}")
        dims = np.unique(np.asarray(items, dtype=int))
        if dims.min() < 0 or dims.max() >= in_dim:
            raise ValueError(f"grad_dims: expected indices in [0, {in_dim}), got {list(grad_dims)}")
        return dims

    @staticmethod
    def _check_bounds(bounds, policy: str, in_dim: int):
        check_choice("bounds_policy", policy, BOUNDS_POLICIES)
        if bounds is None:
            return None, policy
        try:
            b = np.asarray(bounds, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"bounds: expected an array (in_dim={in_dim}, 2) of [low, high], "
                            f"got {bounds!r}") from exc
        if b.shape != (in_dim, 2) or not np.all(np.isfinite(b)) or np.any(b[:, 0] >= b[:, 1]):
            raise ValueError(f"bounds: expected a finite array of shape ({in_dim}, 2) with "
                             f"low < high in every row, got {np.asarray(bounds).tolist()}")
        return b, policy

    # -- counters ---------------------------------------------------------------
    @property
    def name(self) -> str:
        """The program's name (used in messages and in the cache)."""
        return self.evaluator.name

    @property
    def stats(self) -> EvalStats:
        """All counters of the underlying evaluator."""
        return self.evaluator.stats

    @property
    def n_rows(self) -> int:
        """Program rows actually evaluated (cache hits excluded)."""
        return self.evaluator.stats.n_rows

    @property
    def n_queries(self) -> int:
        """Same as ``n_rows`` (older name, used in the notebooks)."""
        return self.evaluator.stats.n_rows

    @property
    def n_calls(self) -> int:
        """Program calls made (one per chunk, retries included)."""
        return self.evaluator.stats.n_calls

    @property
    def n_cache_hits(self) -> int:
        """Rows answered from the cache without running the program."""
        return self.evaluator.stats.n_cache_hits

    @property
    def n_failed(self) -> int:
        """Rows the program failed on (only grows under ``on_failure="nan"``)."""
        return self.evaluator.stats.n_failed

    def rows_per_input_row(self) -> tuple[int, int]:
        """Program rows one input row costs: (forward, backward) with the current estimator."""
        skip = 0 if self.estimator.central else 1
        return 1, self.estimator.n_evals(len(self.grad_dims)) - skip

    def extra_repr(self) -> str:
        fwd, bwd = self.rows_per_input_row()
        how = " (auto)" if self.estimator_choice == "auto" else ""
        bounds = "" if self.bounds is None else f", bounds={self.bounds_policy}"
        return (f"program={self.name!r}, in_dim={self.in_dim}, out_dim={self.out_dim}, "
                f"estimator={self.estimator!r}{how}, program rows per input row: {fwd} forward "
                f"+ {bwd} backward{bounds}")

    # -- bounds -------------------------------------------------------------------------
    def _apply_bounds(self, Z: np.ndarray):
        """Inputs inside ``bounds`` by the policy; returns (Z, mask of clipped entries or None)."""
        if self.bounds is None:
            return Z, None
        lo, hi = self.bounds[:, 0], self.bounds[:, 1]
        outside = (Z < lo) | (Z > hi)
        if not outside.any():
            return Z, None
        if self.bounds_policy == "raise":
            r, c = (int(v) for v in np.argwhere(outside)[0])
            raise ValueError(f"z: row {r}, column {c} = {float(Z[r, c])!r} is outside bounds "
                             f"[{float(lo[c])!r}, {float(hi[c])!r}] of program {self.name!r} "
                             "(bounds_policy='raise'; 'clip' runs the nearest point inside)")
        return np.clip(Z, lo, hi), outside

    # -- forward / backward -----------------------------------------------------------
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Exact program output for ``z`` (batch, in_dim), in the dtype and device of ``z``."""
        if not isinstance(z, torch.Tensor):
            raise TypeError(f"z: expected a torch.Tensor (batch, {self.in_dim}), got "
                            f"{type(z).__name__}; use .evaluate() for numpy arrays")
        single = z.ndim == 1
        if single:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.in_dim:
            raise ValueError(f"z: expected shape (batch, {self.in_dim}) for program "
                             f"{self.name!r}, got {tuple(z.shape)}")
        y = _ZOFunction.apply(z, self)
        return y[0] if single else y

    def vjp(self, z, v) -> tuple[torch.Tensor, int]:
        """ZO estimate of vᵀJ at rows ``z`` for cotangents ``v``, and the program rows the backward cost.

        The forward pass runs first (its rows are not counted in the returned cost).
        """
        z = torch.as_tensor(z).detach().clone().requires_grad_(True)
        v = torch.as_tensor(v, dtype=z.dtype, device=z.device)
        y = self(z)
        before = self.n_queries
        (y * v).sum().backward()
        return z.grad, self.n_queries - before

    def evaluate(self, X) -> np.ndarray:
        """Run the program (with bounds policy, cache, executor, failure policy) on numpy rows; no gradient."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 2 and X.shape[1] == self.in_dim:
            X, _ = self._apply_bounds(X)
        return self.evaluator(X)

    def _vjp(self, Z: np.ndarray, Y: np.ndarray, V: np.ndarray) -> np.ndarray:
        """ZO estimate of vᵢᵀ J_F(zᵢ) for every row i, with one program batch for all rows."""
        est, dims = self.estimator, self.grad_dims
        n, d = Z.shape
        seeds = self._rng.integers(0, 2**63 - 1, size=n)
        rows = [est.for_row(Z[i], V[i], dims) for i in range(n)]  # guided ones bind vᵢ·proxy
        queries = [rows[i].query(Z[i, dims], seed=int(seeds[i])) for i in range(n)]
        self.n_proxy_evals += sum(getattr(q, "n_proxy_evals", 0) for q in queries)
        # forward differences: F(z) is known from the forward pass, so skip row 0
        skip = 0 if est.central else 1
        per_row = queries[0].n_evals - skip
        blocks = []
        for i, q in enumerate(queries):  # perturb only grad_dims; context columns stay fixed
            P = np.repeat(Z[i][None], per_row, axis=0)
            P[:, dims] = np.asarray(q.points[skip:], dtype=np.float64)
            blocks.append(P)
        points = np.concatenate(blocks)
        if self.bounds is not None:  # the program only ever runs inside its box
            points = np.clip(points, self.bounds[:, 0], self.bounds[:, 1])
        valid_rows = np.isfinite(Y).all(axis=1)
        keep = np.repeat(valid_rows, per_row)  # no queries for rows whose forward failed
        values = np.full((len(points), self.out_dim), np.nan)
        if keep.any():
            owner = np.repeat(np.arange(n), per_row)[keep]
            try:
                values[keep] = self.evaluator(points[keep])
            except ProgramError as exc:
                i = int(owner[exc.row]) if exc.row is not None else None
                where = "" if i is None else (f" at a perturbed copy of input row {i}: "
                                              f"z = {Z[i].tolist()}")
                raise ProgramError(
                    f"program {self.name!r} failed during the backward pass (ZO gradient "
                    f"estimate){where}; the failing perturbed point was x = "
                    f"{None if exc.x is None else exc.x.tolist()}: {exc}",
                    self.name, i, None if i is None else Z[i]) from exc
        if not self._precision_warned:
            self._check_precision(Y, values, per_row, valid_rows)
        G = np.zeros((n, d))
        for i, q in enumerate(queries):
            block = values[i * per_row:(i + 1) * per_row]
            if not valid_rows[i] or not np.isfinite(block).all():
                continue  # masked: zero gradient for this row (counted in n_failed)
            if skip:
                block = np.concatenate([Y[i][None], block])
            G[i, dims] = np.asarray(rows[i].combine(block @ V[i], q), dtype=np.float64)
        return G

    def _check_precision(self, Y, values, per_row: int, valid_rows) -> None:
        """Warn (once) when the outputs carry too few digits for the estimator's step μ."""
        ok = np.flatnonzero(valid_rows)
        if not len(ok):
            return
        digits = significant_digits(np.concatenate([Y[ok[:32]].ravel(),
                                                    values[:32 * per_row].ravel()]))
        if digits >= 15:  # float64 results: rounding is the lead's dtype-resolution check
            return
        i = int(ok[0])
        ratio = rounding_ratio(Y[i], values[i * per_row:(i + 1) * per_row], digits)
        if ratio >= _ROUNDING_WARN:
            self._precision_warned = True
            warnings.warn(
                f"program {self.name!r} returns values with only {digits} significant digits: "
                f"with the estimator's step mu={self.estimator.mu:g} their rounding is "
                f"{ratio:.0%} of the differences the gradient estimate is made of, so the "
                "gradient is mostly rounding noise. Make the program print 17 significant "
                "digits (printf '%.17g'), or use a larger mu", RuntimeWarning, stacklevel=4)
