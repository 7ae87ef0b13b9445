"""Particle swarm optimization (PSO), batched: the whole swarm is evaluated in one call per iteration.

Update rule (synchronous, Clerc & Kennedy constriction form written with inertia)::

    v <- w v + c1 r1 (p_best - x) + c2 r2 (n_best - x),   r1, r2 ~ U(0, 1) per component
    v <- clip(v, -v_max, v_max)                           (v_max = v_max_frac * (hi - lo))
    x <- x + v

``n_best`` is the best personal best in a particle's neighbourhood on a ring of
particle indices: ``topology="expanding"`` (default) grows the neighbourhood radius
linearly with the iterations from 1 (the ring / lbest model) to the whole swarm
(Suganthan 1999), ``"ring"`` keeps radius 1, ``"global"`` uses the swarm's best
from the start. Defaults w = 0.7298, c1 = c2 = 1.49618 are the constriction
coefficients (chi = 0.7298 for phi = 4.1) of Clerc & Kennedy (2002).

Bound handling (``walls``): ``"periodic"`` (default, as pyswarms) wraps a component
that leaves the box around to the other side, ``lo + (x - lo) mod (hi - lo)``, and
keeps the velocity; ``"absorb"`` clips it to the wall and zeroes that velocity
component; ``"reflect"`` mirrors it back into the box and flips the velocity
component. Every evaluated point lies inside ``bounds`` in all three.

Why these defaults (measured with 2000 d evaluations, 40 particles, medians over
4 seeds while choosing them; the full table is ``benchmarks/results/quality.md``):
the previous global-best swarm with absorbing walls collapsed at d = 30
(rastrigin-30 56 vs 22 for pyswarms with the same coefficients; pyswarms differs
in periodic walls and a small initial velocity, and periodic walls alone give 34).
A fixed ring explores (ackley-30 1.4 -> 3e-6, levy-30 0.7 -> 6e-12) but converges
slowly at small budgets (sphere-5 at 3000 evaluations 2e-4 vs 1e-5); the expanding
neighbourhood keeps both: ackley-30 1e-11, levy-30 2e-23, rosenbrock-30 0.3,
sphere-5 6e-6. ``topology="global", walls="absorb", n_particles=40`` is the previous behaviour.

Swarm size: with ``max_evals`` alone and no ``n_particles``, the swarm has
``max_evals // 200`` particles (10 to 40), so a small budget still runs >= 200
iterations. At d = 2 (4000 evaluations) 40 particles get only 100 iterations and
stop short of converging (medians over 7 seeds, 40 -> 20 particles: ackley-2
1.2e-5 -> 1.9e-9, rosenbrock-2 3.3e-5 -> 1.2e-7, rastrigin-2 8e-8 -> 4e-15), while
at d = 30 fewer particles lose (ackley-30 success 100 % -> 40 % with 20 over 5
seeds), and d = 10 and 30 keep 40 under this rule. Neither the expansion finishing
earlier (ackley-2 1.2e-5 at 100 % of the run, 6e-5 at 50 %) nor a smaller v_max
explained the gap.

Budget: give ``iters`` (evaluated swarms; iteration 0 is the initial swarm, so
``n_evals == n_particles * iters``) or ``max_evals`` (the run continues until exactly
``max_evals`` evaluations are spent; the last batch is truncated to what is left,
still one batched call). Neither: ``iters = 200``. Both: ``max_evals`` must not
exceed ``n_particles * iters`` (else a ValueError, instead of silently spending
less); the run then stops at ``max_evals``.

Speed: at 40 particles an iteration of the default costs 0.85-0.91x the
optimizer's own time of the previous default's code (global best, absorbing walls),
at 100 particles 0.92-1.04x (``benchmarks/results/pso_speed.md``), although it
adds the neighbourhood best and the wrap. The loop gives the same numbers as the plain
formulas above, bit for bit: the box and the
velocity clamp are full ``(n, d)`` arrays (numpy runs equal-shape operations ~3x
faster than ones broadcasting a row), the velocity update works in place in the
formula's order, the periodic wrap adds or subtracts one span instead of a modulo
(exact while ``v_max <= 0.9``), and the neighbourhood best is a sliding minimum over
ranks (:func:`_window_best`) instead of a masked ``(n, n)`` argmin. The backend,
the argument checks and the result assembly, shared with
:mod:`zoo_lab.optimize.genetic`, live in :mod:`zoo_lab.optimize._population`.

References
----------
.. [1] J. Kennedy, R. Eberhart, "Particle swarm optimization", Proc. ICNN 1995.
.. [2] M. Clerc, J. Kennedy, "The particle swarm - explosion, stability, and
   convergence in a multidimensional complex space", IEEE TEC 6(1), 2002.
.. [3] R. Mendes, J. Kennedy, J. Neves, "The fully informed particle swarm",
   IEEE TEC 8(3), 2004 (ring / lbest neighbourhoods).
.. [4] P. N. Suganthan, "Particle swarm optimiser with neighbourhood operator",
   Proc. CEC 1999 (a neighbourhood that grows during the run).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from zoo_lab._util.counting import CountingObjective
from zoo_lab._util.validate import check_choice, check_int, check_size
from zoo_lab.optimize._population import (
    BACKENDS,
    _call,
    _check_budget,
    _check_float,
    _prepare,
    _result,
)
from zoo_lab.optimize.result import OptimizeResult

__all__ = ["pso", "TOPOLOGIES", "WALLS", "BACKENDS"]

TOPOLOGIES: tuple[str, ...] = ("global", "ring", "expanding")
WALLS: tuple[str, ...] = ("periodic", "absorb", "reflect")


# ----------------------------------------------------------------------------- PSO


_MASK_MAX = 1024  # torch: above this many particles the (n, n) mask costs more memory than it saves


def _window_best(be, f, window, idx):
    """Per particle, the index of the lowest ``f`` within ring distance ``radius`` (ties: lower index).

    ``window`` comes from :func:`_ring_windows`. numpy: a sliding minimum over the
    particles' ranks (ties ranked by index, so the answer is that of an argmin over the
    window) along the ring positions ``i - radius .. i + radius + n - 1``, one
    ``minimum.reduceat``; a masked ``(n, n)`` argmin gives the same indices at 2-3x
    the cost. torch, where each operation costs microseconds whatever its size: the
    masked argmin (three operations) up to ``_MASK_MAX`` particles, else
    ``log2(2 radius + 1)`` minima of shifted rank arrays.
    """
    radius, ring_pos, starts, mask = window
    if mask is not None:
        return be.argmin(be.xp.where(mask, f[None, :], math.inf), axis=1)
    order = be.argsort(f)
    rank = be.xp.empty_like(order)
    rank[order] = idx
    m = rank[ring_pos]
    if be.xp is np:
        return order[np.minimum.reduceat(m, starts)[::2]]
    span, s = 2 * radius + 1, 1
    while 2 * s <= span:  # m[i] becomes the minimum over ring positions i .. i + 2 s - 1
        m = be.xp.minimum(m[:-s], m[s:])
        s *= 2
    n = idx.shape[0]
    return order[be.xp.minimum(m[:n], m[span - s:span - s + n])]


def _ring_windows(be, n: int, radius: int) -> tuple:
    """``(radius, ring_pos, starts, mask)``: what :func:`_window_best` needs at ``radius``."""
    if be.xp is not np and n <= _MASK_MAX:
        gap = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])
        return radius, None, None, be.index(np.minimum(gap, n - gap) <= radius).bool()
    ring_pos = np.arange(-radius, n + radius) % n
    # reduceat's index pairs (window start, window end); the last window runs to the end
    starts = np.stack([np.arange(n), np.arange(n) + 2 * radius + 1], axis=1).ravel()[:-1]
    return radius, be.index(ring_pos), starts, None


def _default_particles(max_evals, iters) -> int:
    """Swarm size when none is given: 40, fewer for a ``max_evals`` budget under 200 x 40 (>= 200 iterations)."""
    if max_evals is None or iters is not None or isinstance(max_evals, bool) \
            or not isinstance(max_evals, int | np.integer):
        return 40  # an invalid max_evals is reported by the budget check
    return int(min(40, max(10, max_evals // 200)))


def pso(
    fun: Callable,
    bounds,
    n_particles: int | None = None,
    iters: int | None = None,
    w: float = 0.7298,
    c1: float = 1.49618,
    c2: float = 1.49618,
    topology: str = "expanding",
    v_max: float | None = 0.5,
    v_init: float = 0.5,
    walls: str = "periodic",
    max_evals: int | None = None,
    seed: int | np.random.Generator | None = None,
    record_trajectory: bool = False,
    backend: str | None = None,
    device=None,
    dtype=None,
) -> OptimizeResult:
    """Minimize ``fun`` over the box ``bounds`` with a batched particle swarm (one call per iteration).

    ``fun`` maps an ``(n, d)`` batch (numpy, or torch for ``backend="torch"``)
    to ``(n,)`` values. ``v_max`` is the velocity clamp as a fraction of each
    axis' range (``None``: no clamp); ``v_init`` scales the initial velocity, a
    fraction of the difference of two random points (0: start at rest). ``n_particles``
    ``None``: 40, or ``max_evals // 200`` (at least 10) when a ``max_evals`` budget alone
    would give fewer than 200 iterations (module docstring). ``iters``
    / ``max_evals``: see the module docstring. ``seed`` is an int or a numpy Generator;
    the numpy and torch backends draw different random streams.
    """
    n = _default_particles(max_evals, iters) if n_particles is None else check_int("n_particles", n_particles, 2)
    w = _check_float("w", w, 0.0, 10.0)
    c1 = _check_float("c1", c1, 0.0, 10.0)
    c2 = _check_float("c2", c2, 0.0, 10.0)
    check_choice("topology", topology, TOPOLOGIES)
    check_choice("walls", walls, WALLS)
    v_init = _check_float("v_init", v_init, 0.0, 10.0)
    if v_max is not None:
        v_max = _check_float("v_max", v_max, 0.0, math.inf, lo_open=True)
    be, lo, hi, d, b = _prepare(fun, bounds, backend, device, dtype, seed)
    check_size("n_particles", n * d, "swarm")
    budget = _check_budget(max_evals, n, n, iters, "n_particles", "iters", 200)
    obj = CountingObjective(fun, budget)  # the shared counter (and a hard cap)
    xp = be.xp
    # the box as full (n, d) arrays: equal-shape elementwise ops are ~3x faster in numpy
    lo_n, hi_n = be.rows(lo, n), be.rows(hi, n)
    span = hi_n - lo_n
    vlim = None if v_max is None else v_max * span
    nvlim = None if vlim is None else -vlim
    # |v| <= 0.9 (hi - lo) keeps x - lo inside (-span, 2 span): one wrap replaces the modulo
    # (numpy only: the wrap's masked in-place ufuncs (where=) have no torch form, and torch runs its
    # modulo as one operation, cheaper there than the wrap's comparisons and masked updates)
    one_wrap = v_max is not None and v_max <= 0.9 and xp is np

    with be.no_grad():
        x = lo_n + span * be.rand(n, d)
        v = v_init * (lo_n + span * be.rand(n, d) - x)  # a fraction of the difference of two random points
        if vlim is not None:
            v = xp.minimum(xp.maximum(v, nvlim), vlim)
        f = _call(obj, x, be, 0)
        pbest_x, pbest_f = be.copy(x), f
        k = be.argmin(pbest_f)
        g_x = pbest_x[k]
        n_iters = 1 + -(-(budget - n) // n)
        hist = [pbest_f[k]]  # 0-d arrays/tensors: no device sync inside the loop
        hist_evals = np.empty(n_iters, dtype=np.int64)
        hist_evals[0] = n
        traj = np.empty((n_iters, n, d)) if record_trajectory else None
        if traj is not None:
            traj[0] = be.numpy(x)
        ring = topology == "ring"
        idx = be.arange(n)
        if ring:  # ring positions i - 1, i, i + 1 of each particle
            trio = be.index(np.stack([np.arange(-1, n - 1) % n, np.arange(n), np.arange(1, n + 1) % n]))
        r, diff = be.stack([x, x]), be.copy(x)  # work buffers, reused every iteration
        r1, r2 = r[0], r[1]  # views bound once: indexing costs a numpy call per iteration
        c12 = be.copy(r)  # full shape: an equal-shape multiply beats the (2, 1, 1) broadcast
        c12[0], c12[1] = c1, c2
        window = None  # expanding: (radius, ring positions i - radius .. i + radius, wrapped)

        for it in range(1, n_iters):
            if ring:
                # the first of p(i - 1), p(i), p(i + 1) with the lowest value
                attractor = pbest_x[trio[be.argmin(pbest_f[trio], axis=0), idx]]
            elif topology == "expanding":
                # Suganthan's neighbourhood grows linearly: ring (radius 1) to the whole swarm
                radius = 1 + (n // 2 - 1) * it // max(1, n_iters - 1)
                if radius >= n // 2:  # every particle's neighbourhood is the swarm: same as global
                    attractor = g_x
                else:
                    if window is None or window[0] != radius:
                        window = _ring_windows(be, n, radius)
                    attractor = pbest_x[_window_best(be, pbest_f, window, idx)]
            else:
                attractor = g_x
            # in place, in the order of w v + c1 r1 (p - x) + c2 r2 (a - x): the same floats
            be.rand_into(r)
            r *= c12
            r1 *= xp.subtract(pbest_x, x, out=diff)
            r2 *= xp.subtract(attractor, x, out=diff)
            v *= w
            v += r1
            v += r2
            if vlim is not None:
                xp.minimum(xp.maximum(v, nvlim, out=v), vlim, out=v)
            xp.add(x, v, out=diff)
            if walls == "absorb":
                out = (diff < lo_n) | (diff > hi_n)
                x = xp.minimum(xp.maximum(diff, lo_n), hi_n)  # a new array: fun may keep the one it got
                v = xp.where(out, 0.0, v)
            elif walls == "reflect":
                x = be.copy(diff)
                below, above = x < lo_n, x > hi_n
                x = xp.where(below, 2 * lo_n - x, xp.where(above, 2 * hi_n - x, x))
                v = xp.where(below | above, -v, v)
                x = xp.minimum(xp.maximum(x, lo_n), hi_n)
            else:  # periodic: lo + (x - lo) mod span; the clip guards the rounding onto hi
                t = diff - lo_n  # a new array (the next x): fun may keep the one it got
                if one_wrap:  # the modulo's exact value for t in [-span, 2 span), without a division
                    np.add(t, span, out=t, where=t < 0)
                    np.subtract(t, span, out=t, where=t >= span)
                else:
                    t = t % span
                t += lo_n
                x = xp.minimum(t, hi_n, out=t)
            m = min(n, budget - obj.n_evals)
            if m == n:
                f = _call(obj, x, be, it)
                better = f < pbest_f
                if xp is np:  # in place; torch rebuilds them, as hist holds 0-d views of pbest_f
                    np.copyto(pbest_x, x, where=better[:, None])
                    np.copyto(pbest_f, f, where=better)
                else:
                    pbest_x = xp.where(better[:, None], x, pbest_x)
                    pbest_f = xp.where(better, f, pbest_f)
            else:  # last, truncated batch: only the first m particles are evaluated
                f = _call(obj, x[:m], be, it)
                better = f < pbest_f[:m]
                pbest_x, pbest_f = be.copy(pbest_x), be.copy(pbest_f)  # hist holds views (torch)
                pbest_x[:m] = xp.where(better[:, None], x[:m], pbest_x[:m])
                pbest_f[:m] = xp.where(better, f, pbest_f[:m])
            # personal bests never get worse, so the swarm's best is the best personal best
            k = be.argmin(pbest_f)
            g_x = pbest_x[k]
            hist.append(pbest_f[k])
            hist_evals[it] = obj.n_evals
            if traj is not None:
                traj[it] = be.numpy(x)

    settings = dict(n_particles=n, iters=n_iters, w=w, c1=c1, c2=c2, topology=topology,
                    v_max=v_max, v_init=v_init, walls=walls, max_evals=max_evals, backend=be.name, bounds=b.tolist())
    return _result("pso", be, g_x, hist, hist_evals, obj.n_calls, traj, settings)


def __getattr__(name: str):
    if name == "PopulationResult":  # deprecated: one result type (OptimizeResult) for every run
        from zoo_lab.optimize import result

        return result.__getattr__(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
