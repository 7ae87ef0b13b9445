"""Does coupling scientific knowledge help when labels are scarce? (notebook 04)

A small network maps a scalar condition ``x`` to a scalar property ``y``. It is
trained two ways on the same ``n`` labelled pairs:

* ``data``: mean squared error on the labels only;
* ``coupled``: the same loss plus ``lam`` times a *knowledge loss* evaluated
  through a scientific program wrapped in :class:`zoo_lab.BlackBox`, on
  unlabelled conditions spread over the domain.

The test error is measured against the program-derived truth on a grid of
new conditions. Problems (:class:`LowDataProblem`) carry the domain, how to
label, the program and the knowledge loss; :func:`materials_problem` and
:func:`combustion_problem` build the two of notebook 04.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from zoo_lab import sampling
from zoo_lab._util.validate import check_choice, check_int
from zoo_lab.coupling.blackbox import BlackBox
from zoo_lab.studies._nets import seeded_init_
from zoo_lab.studies.engine import grid, sweep
from zoo_lab.zo import estimators

__all__ = ["MODES", "LowDataProblem", "labelled_points", "train_low_data", "low_data_snapshots",
           "low_data_study", "low_data_table", "coupling_gain", "materials_problem", "combustion_problem"]

MODES = ("data", "coupled")


@dataclass
class LowDataProblem:
    """A 1-D condition -> property problem with labels and a knowledge program."""

    name: str
    x_bounds: tuple[float, float]
    y_bounds: tuple[float, float]
    label: Callable[[np.ndarray], np.ndarray]  # x (n,) -> true y (n,)
    program: Callable  # the BlackBox program
    in_dim: int
    out_dim: int
    to_program: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (x, y) -> program rows
    knowledge_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (out, x) -> (n,)
    grad_dims: tuple[int, ...]
    x_name: str = "x"
    y_name: str = "y"
    _labels: dict = field(default_factory=dict, repr=False)

    def labels(self, x: np.ndarray) -> np.ndarray:
        """True y at conditions ``x`` (memoised: labelling can be expensive)."""
        x = np.asarray(x, dtype=float).ravel()
        todo = [v for v in x if v not in self._labels]
        if todo:
            for v, y in zip(todo, np.asarray(self.label(np.array(todo))).ravel(), strict=True):
                self._labels[v] = float(y)
        return np.array([self._labels[v] for v in x])


class _Net(torch.nn.Module):
    def __init__(self, x_bounds, y_bounds, hidden: int, seed: int):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Linear(1, hidden, dtype=torch.float64), torch.nn.Tanh(),
            torch.nn.Linear(hidden, hidden, dtype=torch.float64), torch.nn.Tanh(),
            torch.nn.Linear(hidden, 1, dtype=torch.float64))
        seeded_init_(self.body, seed)
        self.xl, self.xs = float(x_bounds[0]), float(x_bounds[1] - x_bounds[0])
        self.yl, self.ys = float(y_bounds[0]), float(y_bounds[1] - y_bounds[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = 2 * (x - self.xl) / self.xs - 1
        return self.yl + self.ys * torch.sigmoid(self.body(u))


def labelled_points(problem: LowDataProblem, n_labels: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_labels`` labelled conditions of a run (an LHS over the domain) and their labels."""
    x_lab = sampling.sample("lhs", int(n_labels), np.array([problem.x_bounds], dtype=float), seed=seed)[:, 0]
    return x_lab, problem.labels(x_lab)


def train_low_data(problem: LowDataProblem, n_labels: int, mode: str, seed: int = 0,
                   steps: int = 300, n_unlabelled: int = 8, lam: float = 1.0, q: int | None = None,
                   mu: float = 1e-4, lr: float = 0.02, hidden: int = 16, n_test: int = 17,
                   curve: bool = False, snapshot_every: int | None = None) -> dict:
    """Train one network; returns a dict of settings, test RMSE and program queries.

    With ``curve=True`` the dict also holds ``x_test``, ``y_test``, ``pred``, ``x_labels``
    and ``y_labels`` for plotting. With ``snapshot_every=k`` it also holds ``snapshots``:
    after every k-th Adam step, a dict of ``step``, ``pred`` (on ``x_test``), ``test_rmse``,
    ``max_error`` and ``program_queries`` so far. Adam has no schedule and the coordinate
    estimator is deterministic, so the snapshot at step k is the result of a k-step run.
    """
    check_choice("mode", mode, MODES)
    n_labels = check_int("n_labels", n_labels, 1)
    steps = check_int("steps", steps, 0)
    if snapshot_every is not None:
        snapshot_every = check_int("snapshot_every", snapshot_every, 1)
    x_lab, y_lab = labelled_points(problem, n_labels, seed)
    xb = np.array([problem.x_bounds], dtype=float)
    x_test = np.linspace(*problem.x_bounds, n_test)
    y_test = problem.labels(x_test)
    # unlabelled conditions: a fixed LHS over the domain (no labels are ever read there)
    x_unl = sampling.sample("lhs", n_unlabelled, xb, seed=seed + 7919)[:, 0]
    net = _Net(problem.x_bounds, problem.y_bounds, hidden, seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    est = estimators.make("coordinate", q=q, mu=mu, difference="forward")
    box = BlackBox(problem.program, problem.in_dim, problem.out_dim, estimator=est,
                   grad_dims=problem.grad_dims, name=problem.name, seed=seed)
    span = problem.y_bounds[1] - problem.y_bounds[0]
    xl, yl = torch.as_tensor(x_lab)[:, None], torch.as_tensor(y_lab)[:, None]
    xu, xt = torch.as_tensor(x_unl)[:, None], torch.as_tensor(x_test)[:, None]

    def evaluate(step: int) -> dict:
        with torch.no_grad():  # no graph and no RNG draw: evaluating leaves the training untouched
            pred = net(xt).numpy()[:, 0]
        return dict(step=step, pred=pred, test_rmse=float(np.sqrt(np.mean((pred - y_test) ** 2))),
                    max_error=float(np.max(np.abs(pred - y_test))), program_queries=box.n_queries)

    snapshots = []
    for k in range(1, steps + 1):
        opt.zero_grad()
        loss = (((net(xl) - yl) / span) ** 2).mean()
        if mode == "coupled":
            out = box(problem.to_program(xu, net(xu)))
            loss = loss + lam * problem.knowledge_loss(out, xu).mean()
        loss.backward()
        opt.step()
        if snapshot_every is not None and k % snapshot_every == 0:
            snapshots.append(evaluate(k))
    final = evaluate(steps)
    out = dict(problem=problem.name, mode=mode, n_labels=int(n_labels), seed=seed,
               test_rmse=final["test_rmse"], max_error=final["max_error"],
               program_queries=box.n_queries, steps=steps, n_unlabelled=n_unlabelled, lam=lam)
    if curve:
        out.update(x_test=x_test, y_test=y_test, pred=final["pred"], x_labels=x_lab, y_labels=y_lab)
    if snapshot_every is not None:
        out["snapshots"] = snapshots
    return out


@functools.cache
def _combustion() -> LowDataProblem:
    """The combustion problem, built once per process (building it runs Cantera on a grid)."""
    return combustion_problem()


def low_data_snapshots(mode: str, n_labels: int, lam: float, seed: int, steps: int,
                       snapshot_every: int, n_test: int = 17) -> list[dict]:
    """One combustion run as rows, one per snapshot: settings, test RMSE and ``pred_i`` on the test grid.

    The rows of the ``low_data_panel`` record (:mod:`zoo_lab.studies.records`); a data-only
    run ignores ``lam`` and is stored with ``lam = 0`` (its loss is the coupled loss at 0).
    """
    lam = 0.0 if mode == "data" else float(lam)
    run = train_low_data(_combustion(), n_labels, mode, seed=seed, steps=steps, lam=lam,
                         n_test=n_test, snapshot_every=snapshot_every)
    rows = []
    for snap in run["snapshots"]:
        row = dict(problem=run["problem"], mode=mode, n_labels=int(n_labels), lam=lam, seed=int(seed),
                   step=snap["step"], test_rmse=snap["test_rmse"], max_error=snap["max_error"],
                   program_queries=snap["program_queries"])
        row.update({f"pred_{i}": float(v) for i, v in enumerate(snap["pred"])})
        rows.append(row)
    return rows


def low_data_study(problem: LowDataProblem, ns=(2, 4, 8, 16, 32), seeds=range(3),
                   modes=MODES, progress: bool = True, **options) -> pd.DataFrame:
    """Test error against the number of labels, data-only vs coupled, one row per (mode, n, seed)."""
    settings = grid(mode=modes, n_labels=ns, seed=seeds)
    return sweep(train_low_data, [dict(g, problem=problem, **options) for g in settings],
                 progress=progress, desc=problem.name)


def low_data_table(df: pd.DataFrame) -> pd.DataFrame:
    """Median [min, max] test RMSE per (n_labels, mode) and the coupled runs' program queries."""
    g = df.groupby(["n_labels", "mode"])
    stats = g.test_rmse.agg(median="median", min="min", max="max").unstack("mode")
    modes = [m for m in MODES if m in df["mode"].unique()]
    table = pd.DataFrame({f"{m} {s}": stats[(s, m)] for m in modes for s in ("median", "min", "max")})
    table["program queries (coupled, median)"] = (
        df[df["mode"] == "coupled"].groupby("n_labels").program_queries.median())
    return table


def coupling_gain(df: pd.DataFrame) -> pd.DataFrame:
    """Per (problem, n_labels): median RMSE ratio data/coupled and whether the seed ranges separate.

    ``verdict`` is "coupling helps" when every coupled seed beats every data-only seed,
    "data-only better" in the reverse case, and "overlapping" otherwise.
    """
    rows = []
    for (prob, n), g in df.groupby(["problem", "n_labels"]):
        d, c = g[g["mode"] == "data"].test_rmse, g[g["mode"] == "coupled"].test_rmse
        if d.empty or c.empty:
            continue
        verdict = ("coupling helps" if c.max() < d.min() else
                   "data-only better" if d.max() < c.min() else "overlapping")
        rows.append(dict(problem=prob, n_labels=n, data_rmse=d.median(), coupled_rmse=c.median(),
                         ratio=d.median() / c.median(), verdict=verdict, seeds=len(c)))
    return pd.DataFrame(rows)


def materials_problem(**kwargs) -> LowDataProblem:
    """Composition c of the alloy -> equilibrium lattice constant a; knowledge: EMT energy E(c, a)."""
    from zoo_lab.problems import materials as M

    prog = M.AlloyEMT(**kwargs)
    a_lo, a_hi = prog.a_bounds

    def label(c):
        return np.asarray(M.equilibrium_lattice_constant(np.asarray(c, dtype=float), alloy=prog),
                          dtype=float)

    return LowDataProblem(
        name=f"emt_{prog.name}", x_bounds=(0.0, 1.0), y_bounds=(float(a_lo), float(a_hi)),
        label=label, program=prog, in_dim=2, out_dim=1,
        to_program=lambda x, y: torch.cat([x, y], dim=1),
        # energy per atom in eV: its minimum over a is the equilibrium lattice constant
        knowledge_loss=lambda out, x: out[:, 0],
        grad_dims=(1,), x_name="composition c", y_name="lattice constant a (Å)")


def combustion_problem(phi_bounds=(0.5, 1.0), t_scale: float = 100.0) -> LowDataProblem:
    """Target flame temperature T -> lean equivalence ratio phi; knowledge: Cantera T_ad(phi)."""
    from zoo_lab.problems import combustion as C

    prog = C.FlameTemperature()
    t_lo, t_hi = (float(v) for v in prog(np.array([[phi_bounds[0]], [phi_bounds[1]]]))[:, 0])
    grid = np.linspace(*phi_bounds, 401)
    t_grid = prog(grid[:, None])[:, 0]

    def label(T):  # T_ad is increasing on the lean side: invert by interpolation on a fine grid
        return np.interp(T, t_grid, grid)

    return LowDataProblem(
        name="cantera_flame", x_bounds=(t_lo, t_hi), y_bounds=tuple(float(v) for v in phi_bounds),
        label=label, program=prog, in_dim=1, out_dim=1,
        to_program=lambda x, y: y,
        knowledge_loss=lambda out, x: ((out - x) / t_scale)[:, 0] ** 2,
        grad_dims=(0,), x_name="target T_ad (K)", y_name="equivalence ratio φ")
