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
``k + 1``) program rows per input row.

This coupling is our own reconstruction of the idea in Tsaknakis et al.,
"Zeroth-Order SciML: Non-intrusive Integration of Scientific Software with Deep
Learning" (arXiv:2206.02785), whose method details and code are not public.
"""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np
import torch

from zoo_lab.coupling.evaluation import EvalStats, Evaluator, ProgramError
from zoo_lab.zo import estimators

__all__ = ["BlackBox", "ProgramError"]


class _ZOFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, box):
        Z = z.detach().to("cpu", torch.float64).numpy()
        Y = box.evaluator(Z)
        ctx.box, ctx.Z, ctx.Y = box, Z, Y
        ctx.like = (z.dtype, z.device)
        box.last_valid = torch.as_tensor(np.isfinite(Y).all(axis=1), device=z.device)
        return torch.as_tensor(Y, dtype=z.dtype, device=z.device)

    @staticmethod
    def backward(ctx, grad_out):
        box, Z, Y = ctx.box, ctx.Z, ctx.Y
        V = grad_out.detach().to("cpu", torch.float64).numpy()
        G = box._vjp(Z, Y, V)
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
    estimator : Estimator, optional
        A :mod:`zoo_lab.zo.estimators` object (default: gaussian, q=10, mu=1e-3, forward).
    executor : concurrent.futures.Executor, optional
        Splits each program batch into chunks run in parallel (threads, processes,
        or a Dask client's ``get_executor()``); results identical to serial.
    cache : path or EvaluationCache, optional
        SQLite file keyed on (program name, input bytes); see :mod:`zoo_lab.coupling.evaluation`.
    on_failure : "raise" or "nan"
        "raise": a failing row raises :class:`ProgramError` naming the input and the program.
        "nan": failed rows come out NaN (see ``last_valid``), get zero gradient, and are
        counted in ``n_failed``.
    name : str, optional
        Program name for messages and the cache key (default: the callable's name).
    chunk_size, timeout : optional
        Rows per program call; seconds allowed per call (raises/masks on expiry).
    seed : int or Generator, optional
        Seeds the directions of every backward pass: same seed, same gradients.
    grad_dims : sequence of int, optional
        Input columns that need a gradient (default: all). Columns that only carry
        context (a composition, a condition) are held fixed, which makes the ZO
        problem smaller: fewer directions for the same accuracy. Their gradient is 0.

    Attributes ``n_queries`` (program rows actually run), ``n_cache_hits``, ``n_failed``
    and ``n_calls`` count work; ``last_valid`` is the row mask of the last forward.
    """

    def __init__(self, program, in_dim: int, out_dim: int, estimator=None,
                 executor: Executor | None = None, cache=None, on_failure: str = "raise",
                 name: str | None = None, *, chunk_size: int | None = None,
                 timeout: float | None = None, seed=None, grad_dims=None):
        super().__init__()
        if estimator is None:
            estimator = estimators.make("gaussian", q=10, mu=1e-3)
        if not isinstance(estimator, estimators.Estimator):
            raise TypeError(f"estimator: expected a zoo_lab.zo.estimators estimator (from "
                            f"zl.estimators.make), got {estimator!r}")
        self.evaluator = Evaluator(program, in_dim, out_dim, name=name, executor=executor,
                                   cache=cache, on_failure=on_failure, chunk_size=chunk_size,
                                   timeout=timeout)
        self.estimator = estimator
        self.in_dim, self.out_dim = int(in_dim), int(out_dim)
        self._rng = np.random.default_rng(seed)
        self.n_proxy_evals = 0  # proxy rows used by guided estimators (zoo_lab.zo.guided)
        if grad_dims is None:
            self.grad_dims = np.arange(in_dim)
        else:
            dims = np.unique(np.asarray(grad_dims, dtype=int))
            if dims.size == 0 or dims.min() < 0 or dims.max() >= in_dim:
                raise ValueError(f"grad_dims: expected indices in [0, {in_dim}), got {list(grad_dims)}")
            self.grad_dims = dims
        self.last_valid: torch.Tensor | None = None

    # -- counters ---------------------------------------------------------------
    @property
    def name(self) -> str:
        """The program's name (used in messages and as the cache key)."""
        return self.evaluator.name

    @property
    def stats(self) -> EvalStats:
        """All counters of the underlying evaluator."""
        return self.evaluator.stats

    @property
    def n_queries(self) -> int:
        """Program rows actually evaluated (cache hits excluded)."""
        return self.evaluator.stats.n_queries

    @property
    def n_cache_hits(self) -> int:
        """Rows answered from the cache without running the program."""
        return self.evaluator.stats.n_cache_hits

    @property
    def n_failed(self) -> int:
        """Rows the program failed on (only grows under ``on_failure="nan"``)."""
        return self.evaluator.stats.n_failed

    def extra_repr(self) -> str:
        return f"program={self.name!r}, in_dim={self.in_dim}, out_dim={self.out_dim}, " \
               f"estimator={self.estimator!r}"

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
        """Run the program (with cache, executor and failure policy) on numpy rows; no gradient."""
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
        valid_rows = np.isfinite(Y).all(axis=1)
        keep = np.repeat(valid_rows, per_row)  # no queries for rows whose forward failed
        values = np.full((len(points), self.out_dim), np.nan)
        if keep.any():
            values[keep] = self.evaluator(points[keep])
        G = np.zeros((n, d))
        for i, q in enumerate(queries):
            block = values[i * per_row:(i + 1) * per_row]
            if not valid_rows[i] or not np.isfinite(block).all():
                continue  # masked: zero gradient for this row (counted in n_failed)
            if skip:
                block = np.concatenate([Y[i][None], block])
            G[i, dims] = np.asarray(rows[i].combine(block @ V[i], q), dtype=np.float64)
        return G
