"""zoo_lab.zo: zeroth-order gradient estimation, the core of the package.

Random directions (:mod:`.directions`), the estimator registry with the plain
finite-difference and random-direction estimators (:mod:`.estimators`: one
``Estimator`` protocol, ``make(name, q, mu)``, every estimate one batched call of the
function) and the proxy-guided estimators that register into the same registry
(:mod:`.guided`). Imports only :mod:`zoo_lab._util`; coupling, optimizers and studies build on it.
"""

from zoo_lab.zo import estimators, guided  # guided registers its estimators on import
from zoo_lab.zo.estimators import NAMES, Estimator, Query, make, names

__all__ = ["NAMES", "Estimator", "Query", "estimators", "guided", "make", "names"]
