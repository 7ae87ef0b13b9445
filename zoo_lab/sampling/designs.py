"""Designs of experiments on a box: uniform, Latin hypercube, Sobol and Halton.

Everything is built on :mod:`scipy.stats.qmc`; nothing here re-implements a
low-discrepancy sequence. Points are drawn in the unit cube and scaled to the
bounds with :func:`scipy.stats.qmc.scale`.

Sobol and the power-of-two rule
-------------------------------
A Sobol sequence is balanced (every elementary interval holds its share of
points) only at ``n = 2**m``. scipy warns on every other ``n``; a learner who
sees that warning unexplained learns nothing. Our policy, chosen with
``sobol_n=``:

* ``"warn"`` (default): take the first ``n`` points and emit *one* warning per
  session that explains the balance property is lost;
* ``"round_up"``: draw the next power of two (``2**ceil(log2 n)`` points),
  balanced, and return all of them (``n`` grows);
* ``"strict"``: raise ``ValueError`` unless ``n`` is a power of two.

References
----------
.. [1] I. M. Sobol', "On the distribution of points in a cube and the
   approximate evaluation of integrals", 1967.
.. [2] M. D. McKay, R. J. Beckman, W. J. Conover, "A comparison of three methods
   for selecting values of input variables in the analysis of output from a
   computer code", Technometrics 21(2), 1979.
.. [3] F. J. Hickernell, "A generalized discrepancy and quadrature error bound",
   Math. Comp. 67, 1998 (centered L2 discrepancy).
.. [4] A. B. Owen, "Scrambling Sobol' and Niederreiter-Xing points", 1998.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import qmc

from zoo_lab._util.seeding import rng_from
from zoo_lab._util.validate import check_bool, check_bounds, check_choice, check_int, check_size

__all__ = ["SCHEMES", "SobolBalanceWarning", "sample", "unit_sample"]

SCHEMES: tuple[str, ...] = ("uniform", "lhs", "sobol", "halton")
_SOBOL_POLICIES = ("warn", "round_up", "strict")
_LHS_OPTIMIZATIONS = (None, "random-cd", "lloyd")
_warned_sobol = False


class SobolBalanceWarning(UserWarning):
    """A Sobol design whose size is not a power of two (balance is lost)."""


def _is_pow2(n: int) -> bool:
    return n & (n - 1) == 0


def unit_sample(
    scheme: str,
    n: int,
    d: int,
    seed=None,
    *,
    scramble: bool = True,
    optimization: str | None = None,
    strength: int = 1,
    sobol_n: str = "warn",
) -> np.ndarray:
    """Draw ``n`` points of design ``scheme`` in the unit cube ``[0, 1)^d``.

    ``optimization`` and ``strength`` are passed to
    :class:`scipy.stats.qmc.LatinHypercube` (``optimization="random-cd"``
    lowers the centered discrepancy; ``strength=2`` builds an orthogonal-array
    LHS and needs ``n = p**2`` with ``p`` prime and ``d <= p + 1``).
    """
    n, d = check_int("n", n, 1), check_int("d", d, 1)
    check_choice("scheme", scheme, SCHEMES)
    check_choice("optimization", optimization, _LHS_OPTIMIZATIONS)
    if optimization is not None and scheme != "lhs":
        raise ValueError(f"optimization: only applies to scheme='lhs', got scheme={scheme!r}")
    check_choice("sobol_n", sobol_n, _SOBOL_POLICIES)
    check_bool("scramble", scramble)
    check_size("n", n * d, "design")
    rng = rng_from(seed)
    if scheme == "uniform":
        return rng.random((n, d))
    if scheme == "lhs":
        return qmc.LatinHypercube(d, optimization=optimization, strength=strength, rng=rng).random(n)
    if scheme == "halton":
        return qmc.Halton(d, scramble=scramble, rng=rng).random(n)
    return _sobol(n, d, rng, scramble, sobol_n)


def _sobol(n: int, d: int, rng, scramble: bool, policy: str) -> np.ndarray:
    global _warned_sobol
    engine = qmc.Sobol(d, scramble=scramble, rng=rng)
    if _is_pow2(n):
        return engine.random_base2(int(np.log2(n)))
    if policy == "strict":
        raise ValueError(
            f"n: Sobol points are balanced only at powers of two; got n={n} "
            f"(use {1 << (n - 1).bit_length()} or sobol_n='round_up'/'warn')"
        )
    if policy == "round_up":
        return engine.random_base2((n - 1).bit_length())
    if not _warned_sobol:
        _warned_sobol = True
        warnings.warn(
            f"Sobol design with n={n}, not a power of two: the first n points of the "
            "sequence lose the balance property (each dyadic box holding its share), "
            "so discrepancy is higher than at the neighbouring powers of two. "
            "Pass sobol_n='round_up' to draw a balanced 2**m design instead. "
            "(Shown once per session.)",
            SobolBalanceWarning,
            stacklevel=3,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return engine.random(n)


def sample(scheme: str, n: int, bounds, seed=None, **options) -> np.ndarray:
    """Draw ``n`` points of design ``scheme`` scaled to ``bounds`` (d, 2); returns (n, d).

    ``scheme`` is one of :data:`SCHEMES`. ``seed`` (int or Generator) makes the
    draw reproducible. ``options`` go to :func:`unit_sample` (``scramble``,
    ``optimization``, ``strength``, ``sobol_n``).
    """
    b = check_bounds(bounds)
    U = unit_sample(scheme, n, b.shape[0], seed, **options)
    return qmc.scale(U, b[:, 0], b[:, 1])
