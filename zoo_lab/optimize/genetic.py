"""Real-coded genetic algorithm (GA), batched: each generation's offspring are evaluated in one call.

One generation:

1. **selection** — binary (``tournament``-way) tournaments on fitness pick the parents;
2. **crossover** — simulated binary crossover (SBX, distribution index ``eta_c``), applied
   to a parent pair with probability ``p_crossover`` and then to each variable with
   probability 1/2, in the bounded form of Deb's NSGA-II code, so children stay inside
   the box;
3. **mutation** — bounded polynomial mutation (distribution index ``eta_m``), each
   variable with probability ``p_mutation`` (default ``1/d``);
4. **survival** — ``"plus"`` (default, (mu + lambda) as in pymoo's GA): the best
   ``pop_size`` of parents and offspring survive; ``"generational"``: the offspring
   replace the parents except that the ``elitism`` best parents replace the worst
   offspring. Survivors' values are known, so nothing is evaluated twice.

Budget: give ``generations`` (evaluated populations; generation 0 is the random
initial population, so ``n_evals == pop_size * generations``) or ``max_evals`` (the
run continues until exactly ``max_evals`` evaluations are spent; the last
generation's offspring are truncated to what is left, still one call). Neither:
``generations = 200``. Both: ``max_evals`` must not exceed ``pop_size * generations``
(else a ValueError, instead of silently spending less); the run stops at ``max_evals``.
Every evaluated point lies inside ``bounds``.

References
----------
.. [1] K. Deb, R. B. Agrawal, "Simulated binary crossover for continuous search
   space", Complex Systems 9(2), 1995.
.. [2] K. Deb, M. Goyal, "A combined genetic adaptive search (GeneAS) for
   engineering design", Computer Science and Informatics 26(4), 1996
   (polynomial mutation).
.. [3] K. Deb, A. Pratap, S. Agarwal, T. Meyarivan, "A fast and elitist
   multiobjective genetic algorithm: NSGA-II", IEEE TEC 6(2), 2002 (bounded SBX
   and mutation as implemented in its reference code).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from zoo_lab._util.counting import CountingObjective
from zoo_lab._util.validate import check_choice, check_int, check_size
from zoo_lab.optimize._population import (
    _Backend,
    _call,
    _check_budget,
    _check_float,
    _prepare,
    _result,
)
from zoo_lab.optimize.result import OptimizeResult

__all__ = ["ga", "SURVIVALS"]

SURVIVALS: tuple[str, ...] = ("plus", "generational")


def _clip(be: _Backend, x, lo, hi):
    """Clip ``x`` into ``[lo, hi]`` componentwise."""
    return be.xp.minimum(be.xp.maximum(x, lo), hi)


def _sbx(be: _Backend, p1, p2, lo, hi, eta: float, p_crossover: float):
    """Bounded simulated binary crossover of parent rows ``p1``, ``p2``; returns two children."""
    xp = be.xp
    n, d = p1.shape
    u = be.rand(4, n, d)  # u[0]: spread, u[1]: per-variable coin, u[2]: swap, u[3][:, 0]: pair
    y1, y2 = xp.minimum(p1, p2), xp.maximum(p1, p2)
    diff = y2 - y1
    active = (u[1] <= 0.5) & (diff > 1e-14) & (u[3][:, :1] <= p_crossover)
    safe = xp.where(diff > 1e-14, diff, 1.0)
    # both children at once: beta = 1 + 2 (distance of the nearer parent to its wall) / diff
    beta = 1.0 + 2.0 * be.stack([y1 - lo, hi - y2]) / safe
    alpha = 2.0 - beta ** -(eta + 1.0)
    ua = u[0] * alpha
    e1 = 1.0 / (eta + 1.0)
    bq = xp.where(u[0] <= 1.0 / alpha, ua, 1.0 / (2.0 - ua)) ** e1
    mid = 0.5 * (y1 + y2)
    c1 = _clip(be, mid - 0.5 * bq[0] * diff, lo, hi)
    c2 = _clip(be, mid + 0.5 * bq[1] * diff, lo, hi)
    swap = u[2] <= 0.5
    c1, c2 = xp.where(swap, c2, c1), xp.where(swap, c1, c2)
    return xp.where(active, c1, p1), xp.where(active, c2, p2)


def _polynomial_mutation(be: _Backend, x, lo, hi, eta: float, p_mutation: float):
    """Bounded polynomial mutation of each component of ``x`` with probability ``p_mutation``."""
    xp = be.xp
    u = be.rand(2, *x.shape)
    span = hi - lo
    r = u[0]
    low = r < 0.5
    # r < 1/2 moves down (uses the distance to lo), r >= 1/2 moves up (distance to hi)
    gap = xp.where(low, hi - x, x - lo) / span  # 1 - delta, delta = distance to the near wall
    a = xp.where(low, 2.0 * r, 2.0 - 2.0 * r)
    val = a + (1.0 - a) * gap ** (eta + 1.0)
    dq = val ** (1.0 / (eta + 1.0)) - 1.0
    y = _clip(be, x + xp.where(low, dq, -dq) * span, lo, hi)
    return xp.where(u[1] < p_mutation, y, x)


def ga(
    fun: Callable,
    bounds,
    pop_size: int = 60,
    generations: int | None = None,
    tournament: int = 2,
    p_crossover: float = 0.9,
    eta_c: float = 15.0,
    p_mutation: float | None = None,
    eta_m: float = 20.0,
    elitism: int = 2,
    survival: str = "plus",
    max_evals: int | None = None,
    seed: int | np.random.Generator | None = None,
    record_trajectory: bool = False,
    backend: str | None = None,
    device=None,
    dtype=None,
) -> OptimizeResult:
    """Minimize ``fun`` over the box ``bounds`` with a batched real-coded GA (one call per generation).

    Tournament selection, SBX crossover, polynomial mutation and elitism (see the
    module docstring). ``fun`` maps an ``(n, d)`` batch (numpy, or torch for
    ``backend="torch"``) to ``(n,)`` values; ``seed`` is an int or a numpy Generator.
    """
    pop = check_int("pop_size", pop_size, 2)
    tournament = check_int("tournament", tournament, 1)
    if tournament > pop:
        raise ValueError(f"tournament: must be <= pop_size={pop}, got {tournament}")
    p_crossover = _check_float("p_crossover", p_crossover, 0.0, 1.0)
    eta_c = _check_float("eta_c", eta_c, 0.0, math.inf)
    eta_m = _check_float("eta_m", eta_m, 0.0, math.inf)
    elitism = check_int("elitism", elitism, 0)
    plus = check_choice("survival", survival, SURVIVALS) == "plus"
    if elitism >= pop:
        raise ValueError(f"elitism: must be < pop_size={pop}, got {elitism}")
    be, lo, hi, d, b = _prepare(fun, bounds, backend, device, dtype, seed)
    check_size("pop_size", pop * d, "population")
    p_mut = 1.0 / d if p_mutation is None else _check_float("p_mutation", p_mutation, 0.0, 1.0)
    budget = _check_budget(max_evals, pop, pop, generations, "pop_size", "generations", 200)
    obj = CountingObjective(fun, budget)  # the shared counter (and a hard cap)
    xp = be.xp
    half = (pop + 1) // 2

    with be.no_grad():
        x = lo + (hi - lo) * be.rand(pop, d)
        f = _call(obj, x, be, 0)
        n_gen = 1 + -(-(budget - pop) // pop)
        k = be.argmin(f)
        best_x, best_f = x[k], f[k]
        hist, hist_evals = [best_f], np.empty(n_gen, dtype=np.int64)
        hist_evals[0] = pop
        traj = np.empty((n_gen, pop, d)) if record_trajectory else None
        if traj is not None:
            traj[0] = be.numpy(x)
        rows = be.arange(2 * half)

        for gen in range(1, n_gen):
            # tournament selection: 2*half parents, each the best of `tournament` random picks
            cand = be.randint(pop, 2 * half, tournament)
            win = cand[rows, be.argmin(f[cand], axis=1)]
            c1, c2 = _sbx(be, x[win[:half]], x[win[half:]], lo, hi, eta_c, p_crossover)
            kids = _polynomial_mutation(be, xp.concatenate((c1, c2))[:pop], lo, hi, eta_m, p_mut)
            m = min(pop, budget - obj.n_evals)
            fk = _call(obj, kids if m == pop else kids[:m], be, gen)
            if m < pop:  # last, truncated generation: only the best-so-far can change
                j = be.argmin(fk)
                if traj is not None:
                    traj[gen] = be.numpy(kids)
                better = fk[j] < best_f
                best_x = xp.where(better, kids[j], best_x)
                best_f = xp.where(better, fk[j], best_f)
                hist.append(best_f)
                hist_evals[gen] = obj.n_evals
                break
            if plus:  # (mu + lambda): the best pop_size of parents and offspring survive
                keep = xp.argsort(xp.concatenate((f, fk)))[:pop]
                kids, fk = xp.concatenate((x, kids))[keep], xp.concatenate((f, fk))[keep]
            elif elitism:
                elite = xp.argsort(f)[:elitism]
                worst = xp.argsort(fk)[pop - elitism:]
                kids[worst], fk[worst] = x[elite], f[elite]
            x, f = kids, fk
            k = be.argmin(f)
            better = f[k] < best_f
            best_x = xp.where(better, x[k], best_x)
            best_f = xp.where(better, f[k], best_f)
            hist.append(best_f)
            hist_evals[gen] = obj.n_evals
            if traj is not None:
                traj[gen] = be.numpy(x)

    settings = dict(pop_size=pop, generations=n_gen, tournament=tournament,
                    p_crossover=p_crossover, eta_c=eta_c, p_mutation=p_mut, eta_m=eta_m,
                    elitism=elitism, survival=survival, max_evals=max_evals, backend=be.name, bounds=b.tolist())
    return _result("ga", be, best_x, hist, hist_evals, obj.n_calls, traj, settings)
