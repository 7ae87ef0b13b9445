"""BlackBox with proxy-guided backward: the proxy models the program, guidance is vᵢᵀJ_p(zᵢ).

For a vector-valued program inside :class:`zoo_lab.BlackBox` the estimator only sees the
contracted values vᵢ·F at row i's points. :class:`GuidedBlackBox` gives each row's estimate
the scalar proxy x -> vᵢ·p(zᵢ with x in the ``grad_dims`` columns), so the guidance is the
proxy's vector-Jacobian product (torch autograd) and the control variate subtracts vᵢ·p at the
same points. See :mod:`zoo_lab.guided` for the estimators.
"""

from __future__ import annotations

import numpy as np

from zoo_lab.blackbox import BlackBox
from zoo_lab.guided import GuidedEstimator

__all__ = ["GuidedBlackBox"]


class _RowContracted:
    """Stands in for a guided estimator inside BlackBox._vjp: row i uses ``est.for_row(zᵢ, vᵢ)``."""

    def __init__(self, est: GuidedEstimator, Z: np.ndarray, V: np.ndarray, dims) -> None:
        self.est, self.Z, self.V, self.dims = est, Z, V, dims
        self.row = 0
        self.central = est.central
        self.n_proxy_evals = 0

    def query(self, x, seed=None):
        i = self.row
        self.row += 1
        q = self.est.for_row(self.Z[i], self.V[i], self.dims).query(x, seed)
        self.n_proxy_evals += q.n_proxy_evals
        return q

    def combine(self, values, query):
        return self.est.combine(values, query)


class GuidedBlackBox(BlackBox):
    """A :class:`zoo_lab.BlackBox` whose backward accepts a guided estimator.

    The estimator's ``proxy`` maps (m, in_dim) -> (m, out_dim) (a model of the program);
    row i is guided by vᵢᵀJ_p(zᵢ) and the control variate subtracts vᵢ·p at the same points.
    Plain estimators behave exactly as in BlackBox. ``n_proxy_evals`` counts proxy rows.
    """

    n_proxy_evals: int = 0

    def _vjp(self, Z: np.ndarray, Y: np.ndarray, V: np.ndarray) -> np.ndarray:
        est = self.estimator
        if not isinstance(est, GuidedEstimator):
            return super()._vjp(Z, Y, V)
        row = _RowContracted(est, Z, V, self.grad_dims)
        self.estimator = row  # BlackBox._vjp calls query() row by row, in order, then combine()
        try:
            return super()._vjp(Z, Y, V)
        finally:
            self.estimator = est
            self.n_proxy_evals += row.n_proxy_evals

