"""``GuidedBlackBox``: the name under which proxy-guided BlackBox backward passes were introduced.

:class:`zoo_lab.BlackBox` itself now accepts the guided estimators of :mod:`zoo_lab.guided`:
for row i it asks the estimator for ``for_row(zᵢ, vᵢ, grad_dims)``, which binds the
scalar proxy x -> vᵢ·p(zᵢ with x in the ``grad_dims`` columns), so the guidance is the
proxy's vector-Jacobian product and the control variate subtracts vᵢ·p at the same points.
The proxy maps (m, in_dim) -> (m, out_dim) (a model of the program); ``n_proxy_evals``
counts proxy rows.
"""

from __future__ import annotations

from zoo_lab.blackbox import BlackBox

__all__ = ["GuidedBlackBox"]


class GuidedBlackBox(BlackBox):
    """A :class:`zoo_lab.BlackBox` (kept as a name; BlackBox handles guided estimators itself)."""
