"""zoo_lab.coupling: a program with no gradients as a layer of a torch network.

:class:`BlackBox` (:mod:`.blackbox`) runs any program on a batch in the forward pass
and estimates vᵀJ by ZO in the backward pass (the hybrid chain rule); the program
runner under it (:mod:`.evaluation`: chunks, executors, SQLite cache, failure policy)
and the online proxy refitted from logged queries (:mod:`.online`) sit beside it.
Builds on :mod:`zoo_lab.zo`, :mod:`zoo_lab.surrogate` and :mod:`zoo_lab.problems`.
"""

from zoo_lab.coupling import blackbox, evaluation, online
from zoo_lab.coupling.blackbox import BlackBox

__all__ = ["BlackBox", "blackbox", "evaluation", "online"]


def __getattr__(name: str):
    # deprecated for one release: BlackBox takes guided estimators itself
    if name == "GuidedBlackBox":
        import warnings

        warnings.warn("GuidedBlackBox is deprecated: zoo_lab.BlackBox accepts guided estimators "
                      "directly; use BlackBox", DeprecationWarning, stacklevel=2)
        return BlackBox
    raise AttributeError(f"module 'zoo_lab.coupling' has no attribute {name!r}")
