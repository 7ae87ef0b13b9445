"""zoo_lab.sampling: designs of experiments on a box, all built on :mod:`scipy.stats.qmc`.

:func:`sample` draws uniform, Latin hypercube, Sobol or Halton points scaled to
``bounds`` (:mod:`.designs`, with the documented Sobol power-of-two policy);
:func:`discrepancy` and :func:`min_distance` measure a design (:mod:`.quality`).
Sits on the bottom layer beside :mod:`zoo_lab.problems`: it imports only :mod:`zoo_lab._util`.
"""

from zoo_lab._util.validate import check_bounds
from zoo_lab.sampling.designs import SCHEMES, SobolBalanceWarning, sample, unit_sample
from zoo_lab.sampling.quality import discrepancy, min_distance, to_unit

__all__ = [
    "SCHEMES",
    "SobolBalanceWarning",
    "check_bounds",
    "discrepancy",
    "min_distance",
    "sample",
    "to_unit",
    "unit_sample",
]
