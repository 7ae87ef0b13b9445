"""zoo_lab.surrogate: neural-network proxies (surrogates) of expensive functions.

:mod:`.proxy` fits, predicts with, saves and evaluates a proxy (``fit(X, y)``,
``evaluate(proxy, f)``); :mod:`.train` holds the training loops behind it (full-batch
L-BFGS, mini-batch Adam) that the online proxy of :mod:`zoo_lab.coupling` reuses.
Builds on :mod:`zoo_lab.sampling` (held-out designs) and :mod:`zoo_lab._util`.
"""

from zoo_lab.surrogate import proxy
from zoo_lab.surrogate.proxy import Proxy, evaluate, fit

__all__ = ["Proxy", "evaluate", "fit", "proxy"]
