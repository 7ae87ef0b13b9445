"""Neural-network proxies (surrogates) of expensive functions: fit, predict, evaluate, save, load.

A :class:`Proxy` is a ``torch.nn.Module`` that carries its own input scaling
(the box ``bounds`` mapped to ``[-1, 1]^d``) and output standardisation, so it
is called on raw points and returns raw values: numpy in -> numpy out, torch
in -> torch out (differentiable, so ``proxy(x).sum().backward()`` gives
``d proxy / d x``).

Three training methods (``optimizer=``):

* ``"lbfgs"``: full-batch L-BFGS with a strong Wolfe line search, the
  deterministic curvature-aware choice for small data sets (default: all data
  trains, ``val_fraction=0``);
* ``"adam"``: mini-batch Adam with a reduce-on-plateau schedule and early
  stopping on a validation split (default ``val_fraction=0.2``), best weights kept;
* ``"adam_then_lbfgs"``: Adam first, then L-BFGS from where it stopped.

References
----------
.. [1] D. C. Liu, J. Nocedal, "On the limited memory BFGS method for large scale
   optimization", Math. Programming 45, 1989.
.. [2] D. P. Kingma, J. Ba, "Adam: A method for stochastic optimization", ICLR 2015.
.. [3] "On Using Deep Learning Proxies as Forward Models in Deep Learning
   Problems", arXiv 2301.07102 (proxies of benchmark functions in 2D/4D/10D).

Size: ~420 lines: fit, predict, save/load and evaluate share the Proxy's scaling; the training
loops already live in :mod:`zoo_lab.surrogate.train`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
from scipy import optimize as sopt
from scipy import stats

from zoo_lab import sampling
from zoo_lab._util.seeding import rng_from, seed_int, torch_generator
from zoo_lab._util.threads import torch_threads
from zoo_lab._util.validate import check_choice, check_float, check_int
from zoo_lab.surrogate.train import Clock, Data, FitHistory, make_net, train_adam, train_lbfgs

__all__ = ["Proxy", "FitHistory", "fit", "evaluate", "save", "load", "OPTIMIZERS", "ACTIVATIONS"]

OPTIMIZERS: tuple[str, ...] = ("lbfgs", "adam", "adam_then_lbfgs")
ACTIVATIONS: dict[str, type[torch.nn.Module]] = {
    "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "gelu": torch.nn.GELU,
    "silu": torch.nn.SiLU, "softplus": torch.nn.Softplus, "sigmoid": torch.nn.Sigmoid,
}
_GAINS = {"tanh": 5 / 3, "relu": math.sqrt(2), "gelu": math.sqrt(2), "silu": math.sqrt(2),
          "softplus": 1.0, "sigmoid": 1.0}
_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_MIN_TRAIN, _MIN_VAL = 4, 2
_CHUNK = 65536


class Proxy(torch.nn.Module):
    """An MLP proxy with built-in input scaling (bounds -> [-1, 1]) and output standardisation."""

    def __init__(self, bounds, hidden=(64, 64), activation: str = "tanh", y_mean: float = 0.0,
                 y_std: float = 1.0, dtype: str = "float64", seed: int = 0) -> None:
        super().__init__()
        b = sampling.check_bounds(bounds)
        hidden = _check_hidden(hidden)
        check_choice("activation", activation, tuple(ACTIVATIONS))
        check_choice("dtype", dtype, tuple(_DTYPES))
        tdt = _DTYPES[dtype]
        self.register_buffer("lo", torch.tensor(b[:, 0], dtype=tdt))
        self.register_buffer("hi", torch.tensor(b[:, 1], dtype=tdt))
        self.register_buffer("y_mean", torch.tensor(float(y_mean), dtype=tdt))
        self.register_buffer("y_std", torch.tensor(float(y_std), dtype=tdt))
        gen = torch_generator(seed)
        self.net = make_net(b.shape[0], hidden, ACTIVATIONS[activation], gen, tdt, _GAINS[activation])
        self.settings = dict(dim=b.shape[0], bounds=b.tolist(), hidden=list(hidden),
                             activation=activation, dtype=dtype, y_mean=float(y_mean),
                             y_std=float(y_std), seed=int(seed))
        self.history = FitHistory()

    @property
    def dim(self) -> int:
        """Input dimension d."""
        return int(self.settings["dim"])

    @property
    def bounds(self) -> np.ndarray:
        """The input box (d, 2) that is mapped to [-1, 1]^d."""
        return np.asarray(self.settings["bounds"], dtype=float)

    def scale(self, x: torch.Tensor) -> torch.Tensor:
        """Map raw points to the network's input cube [-1, 1]^d."""
        return 2.0 * (x - self.lo) / (self.hi - self.lo) - 1.0

    def forward(self, x):
        """Predict at points ``x`` (n, d) or (d,); numpy in -> numpy out, torch in -> torch out."""
        if isinstance(x, torch.Tensor):
            return self._forward_tensor(x)
        arr = np.asarray(x, dtype=float)
        single = arr.ndim == 1
        arr = arr[None, :] if single else arr
        self._check_shape(arr.shape)
        out = np.empty(arr.shape[0])
        with torch.no_grad():
            for k in range(0, arr.shape[0], _CHUNK):
                t = torch.as_tensor(arr[k:k + _CHUNK], dtype=self.lo.dtype, device=self.lo.device)
                out[k:k + _CHUNK] = self._raw(t).cpu().numpy()
        return out[0] if single else out

    def _check_shape(self, shape) -> None:
        if len(shape) != 2 or shape[1] != self.dim:
            raise ValueError(f"x: expected shape (n, {self.dim}) or ({self.dim},), got {tuple(shape)}")

    def _raw(self, t: torch.Tensor) -> torch.Tensor:
        return self.net(self.scale(t)).squeeze(-1) * self.y_std + self.y_mean

    def _forward_tensor(self, x: torch.Tensor) -> torch.Tensor:
        single = x.ndim == 1
        z = x[None, :] if single else x
        self._check_shape(tuple(z.shape))
        out = self._raw(z.to(device=self.lo.device, dtype=self.lo.dtype))
        if x.is_floating_point():
            out = out.to(dtype=x.dtype)
        out = out.to(x.device)
        return out[0] if single else out


def _check_hidden(hidden) -> tuple[int, ...]:
    if isinstance(hidden, str) or not hasattr(hidden, "__iter__"):
        raise TypeError(f"hidden: expected a sequence of layer widths such as (64, 64), got {hidden!r}")
    h = tuple(check_int(f"hidden[{i}]", w, 1) for i, w in enumerate(hidden))
    if not h:
        raise ValueError(f"hidden: expected one or more widths >= 1, got {hidden!r}")
    return h


def _as_numpy(name: str, a) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    try:
        return np.asarray(a, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: expected a numeric array, got {type(a).__name__}") from exc


def _check_data(X, y) -> tuple[np.ndarray, np.ndarray]:
    X, y = _as_numpy("X", X), _as_numpy("y", y)
    if X.ndim != 2:
        raise ValueError(f"X: expected shape (n, d), got {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y: expected shape ({X.shape[0]},) to match X {X.shape}, got {y.shape}")
    for name, a in (("X", X), ("y", y)):
        bad = np.flatnonzero(~np.isfinite(a).reshape(a.shape[0], -1).all(axis=1))
        if bad.size:
            raise ValueError(f"{name}: {bad.size} row(s) hold NaN or inf, first at row {bad[0]}: "
                             f"{a[bad[0]]!r}; only finite values can be fitted")
    return X, y


def _default_bounds(X: np.ndarray) -> np.ndarray:
    lo, hi = X.min(axis=0), X.max(axis=0)
    flat = hi <= lo
    lo, hi = np.where(flat, lo - 0.5, lo), np.where(flat, hi + 0.5, hi)
    return np.stack([lo, hi], axis=1)


def _torch_threads(n: int | None, device: torch.device):
    """Thread limit for a CPU fit (GPU fits leave torch's setting alone)."""
    return torch_threads(n if device.type == "cpu" else None)


def fit(X, y, bounds=None, hidden=(64, 64), activation: str = "tanh", optimizer: str = "lbfgs",
        *, epochs: int = 1000, max_iter: int = 1000, lr: float | None = None,
        batch_size: int = 32, patience: int = 100, val_fraction: float | None = None,
        monitor=None, seed=0, device=None, dtype: str = "float32",
        threads: int | None = 1) -> Proxy:
    """Fit an MLP proxy to samples ``X`` (n, d), ``y`` (n,) and return it (a ``torch.nn.Module``).

    ``bounds`` (d, 2) is the box mapped to [-1, 1]^d (default: the data's
    min/max). ``epochs``/``batch_size``/``patience`` steer Adam, ``max_iter``
    L-BFGS (``lr`` defaults to 3e-3 for Adam, 1.0 for L-BFGS). ``val_fraction``
    (default 0 for ``"lbfgs"``, 0.2 otherwise) is held out for early stopping and
    the validation curve. ``monitor=(X_test, y_test)`` adds a test-RMSE curve to
    ``proxy.history`` (its cost is not timed). ``threads`` sets torch's CPU
    threads during the fit (1 is fastest for small nets and keeps results
    bit-identical; None leaves torch's setting). ``dtype="float64"`` is about
    twice as slow on CPU and lets L-BFGS go further down. Same seed, same proxy.
    """
    X, y = _check_data(X, y)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_choice("activation", activation, tuple(ACTIVATIONS))
    check_choice("dtype", dtype, tuple(_DTYPES))
    epochs = check_int("epochs", epochs, 1)
    max_iter = check_int("max_iter", max_iter, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    patience = check_int("patience", patience, 1)
    if threads is not None:
        threads = check_int("threads", threads, 1)
    if lr is not None:
        lr = check_float("lr", lr, 0.0, strict=True)
    if val_fraction is None:
        val_fraction = 0.0 if optimizer == "lbfgs" else 0.2
    val_fraction = check_float("val_fraction", val_fraction, 0.0, 1.0, strict_max=True)
    n = X.shape[0]
    n_val = int(math.floor(val_fraction * n))
    if n - n_val < _MIN_TRAIN or (val_fraction > 0 and n_val < _MIN_VAL):
        need = max(_MIN_TRAIN + (_MIN_VAL if val_fraction > 0 else 0),
                   math.ceil(_MIN_VAL / val_fraction) if val_fraction > 0 else 0)
        raise ValueError(
            f"X: n={n} samples are too few to train on {_MIN_TRAIN}+ points and validate on "
            f"{_MIN_VAL}+ with val_fraction={val_fraction}; need n >= {need} "
            "(or val_fraction=0 for L-BFGS)")
    b = _default_bounds(X) if bounds is None else sampling.check_bounds(bounds)
    if b.shape[0] != X.shape[1]:
        raise ValueError(f"bounds: expected shape ({X.shape[1]}, 2) to match X {X.shape}, got {b.shape}")
    dev = torch.device(device if device is not None else "cpu")
    seed = seed_int(seed)

    rng = rng_from(seed)
    perm = rng.permutation(n) if n_val else np.arange(n)
    tr, va = perm[n_val:], perm[:n_val]
    y_mean, y_std = float(y[tr].mean()), float(y[tr].std())
    y_std = y_std if y_std > 0 else 1.0
    proxy = Proxy(b, hidden, activation, y_mean, y_std, dtype, seed).to(dev)
    proxy.settings.update(optimizer=optimizer, epochs=epochs, max_iter=max_iter, lr=lr,
                          batch_size=batch_size, patience=patience, val_fraction=val_fraction,
                          n=n, n_val=n_val)
    tdt = _DTYPES[dtype]

    def scaled(A):
        return proxy.scale(torch.as_tensor(A, dtype=tdt, device=dev))

    def std(v):
        return (torch.as_tensor(v, dtype=tdt, device=dev) - y_mean) / y_std

    mon = None
    if monitor is not None:
        Xm, ym = _check_data(*monitor)
        if Xm.shape[1] != X.shape[1]:
            raise ValueError(f"monitor: X_test has {Xm.shape[1]} columns, X has {X.shape[1]}")
        mon = (scaled(Xm), torch.as_tensor(ym, dtype=tdt, device=dev))
    data = Data(U=scaled(X[tr]), Y=std(y[tr]), U_val=scaled(X[va]) if n_val else None,
                Y_val=std(y[va]) if n_val else None, U_mon=mon[0] if mon else None,
                y_mon=mon[1] if mon else None, y_mean=y_mean, y_std=y_std)
    gen = torch_generator(seed + 1)
    clock = Clock(dev)
    with _torch_threads(threads, dev):
        if optimizer in ("adam", "adam_then_lbfgs"):
            train_adam(proxy.net, data, proxy.history, clock, epochs=epochs, lr=lr or 3e-3,
                       batch_size=batch_size, patience=patience, generator=gen)
        if optimizer in ("lbfgs", "adam_then_lbfgs"):
            lbfgs_lr = lr if (lr is not None and optimizer == "lbfgs") else 1.0
            train_lbfgs(proxy.net, data, proxy.history, clock, max_iter=max_iter, lr=lbfgs_lr)
    proxy.settings["fit_time"] = clock.elapsed
    return proxy.eval()


def _box_points(center: np.ndarray, half: np.ndarray, b: np.ndarray, n: int, rng) -> np.ndarray:
    """``n`` uniform points in the box ``center +- half``, clipped to the domain ``b``."""
    P = center + half * (2.0 * rng.random((n, b.shape[0])) - 1.0)
    return np.clip(P, b[:, 0], b[:, 1])


def _ball_points(center: np.ndarray, radius: float, b: np.ndarray, n: int, rng) -> np.ndarray:
    """``n`` uniform points in the ball of ``radius`` (in units of the box width per axis), clipped."""
    d = b.shape[0]
    u = rng.standard_normal((n, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    r = radius * rng.random(n) ** (1.0 / d)
    return np.clip(center + (u * r[:, None]) * (b[:, 1] - b[:, 0]), b[:, 0], b[:, 1])


def _value_and_grad(proxy):
    """A scipy-style ``x -> (value, gradient)`` of a Proxy via autograd (None for plain callables)."""
    if not isinstance(proxy, Proxy):
        return None

    def fun(x):
        t = torch.as_tensor(x, dtype=proxy.lo.dtype, device=proxy.lo.device).requires_grad_(True)
        v = proxy(t[None, :])[0]
        (g,) = torch.autograd.grad(v, t)
        return float(v.detach()), g.detach().cpu().numpy().astype(float)

    return fun


def proxy_argmin(proxy, bounds, n_starts: int = 8, n_candidates: int = 1024, seed=0) -> np.ndarray:
    """The proxy's own minimiser: best of ``n_starts`` bounded L-BFGS-B runs from its best candidates.

    Candidates are a Sobol design of ``n_candidates`` points; the ``n_starts``
    lowest under the proxy start a local search (autograd gradients for a Proxy).
    """
    b = sampling.check_bounds(bounds)
    n_starts = check_int("n_starts", n_starts, 1)
    C = sampling.sample("sobol", n_candidates, b, seed=seed, sobol_n="round_up")
    vals = np.asarray(proxy(C), dtype=float)
    starts = C[np.argsort(vals)[:n_starts]]
    vg = _value_and_grad(proxy)
    best_x, best_v = starts[0], float(np.min(vals))
    for x0 in starts:
        if vg is not None:
            res = sopt.minimize(vg, x0, jac=True, method="L-BFGS-B", bounds=b)
        else:
            res = sopt.minimize(lambda x: float(np.asarray(proxy(x[None, :]))[0]), x0,
                                method="L-BFGS-B", bounds=b)
        if res.fun < best_v:
            best_x, best_v = res.x, float(res.fun)
    return np.clip(np.asarray(best_x, dtype=float), b[:, 0], b[:, 1])


def evaluate(proxy, f, n_test: int = 4096, seed=1, radius: float = 0.1, pop_size: int = 50,
             pop_scales=(1.0, 0.3, 0.1), n_starts: int = 8) -> dict:
    """Accuracy of ``proxy`` against the true function ``f`` (a TestFunction); returns a dict of metrics.

    * ``rmse``, ``nrmse`` (RMSE / std of f), ``r2``, ``mae``, ``max_error`` on
      ``n_test`` uniform random points of ``f.bounds``;
    * ``rmse_near``: RMSE on ``n_test // 4`` uniform points in the ball around
      ``x*`` of radius ``radius`` times the box width (clipped to the box);
    * ``spearman``: rank correlation on the test set; ``spearman_pop``: mean
      rank correlation over optimizer-like populations of ``pop_size`` points,
      uniform in boxes around ``x*`` with half-width ``scale`` times half the box
      for each scale in ``pop_scales`` (what PSO/GA selection sees as they converge);
    * ``x_hat`` (the proxy's argmin by multi-start search, ``n_starts=0`` skips
      it), ``argmin_dist`` (||x_hat - x*||), ``argmin_dist_rel`` (the same over
      the box diagonal) and ``regret`` (f(x_hat) - f*).
    Metrics that need ``x*`` are NaN where ``f.x_opt`` is None.
    """
    n_test = check_int("n_test", n_test, 2)
    n_starts = check_int("n_starts", n_starts, 0)
    if not (isinstance(radius, int | float) and radius > 0):
        raise ValueError(f"radius: expected a number > 0 (fraction of the box width), got {radius!r}")
    b = f.bounds
    rng = rng_from(seed)
    X = sampling.sample("uniform", n_test, b, seed=rng)
    y, p = f(X), np.asarray(proxy(X), dtype=float)
    err = p - y
    sst = float(np.sum((y - y.mean()) ** 2))
    out = dict(rmse=float(np.sqrt(np.mean(err**2))), mae=float(np.mean(np.abs(err))),
               max_error=float(np.max(np.abs(err))), nrmse=float(np.sqrt(np.mean(err**2)) / y.std()),
               r2=float(1.0 - np.sum(err**2) / sst) if sst > 0 else math.nan,
               spearman=_spearman(y, p), near_radius=float(radius))
    nan = math.nan
    out.update(rmse_near=nan, spearman_pop=nan, proxy_min=nan, argmin_dist=nan,
               argmin_dist_rel=nan, regret=nan)
    x_opt = f.x_opt
    if x_opt is not None:
        Xn = _ball_points(x_opt, radius, b, max(n_test // 4, 2), rng)
        out["rmse_near"] = float(np.sqrt(np.mean((np.asarray(proxy(Xn)) - f(Xn)) ** 2)))
        half = (b[:, 1] - b[:, 0]) / 2.0
        rhos = []
        for s in pop_scales:
            P = _box_points(x_opt, s * half, b, pop_size, rng)
            rhos.append(_spearman(f(P), np.asarray(proxy(P), dtype=float)))
        out["spearman_pop"] = float(np.nanmean(rhos)) if np.isfinite(rhos).any() else nan
    out["x_hat"] = None
    if n_starts:
        x_hat = proxy_argmin(proxy, b, n_starts=n_starts, seed=rng)
        out["x_hat"] = x_hat
        out["proxy_min"] = float(np.asarray(proxy(x_hat[None, :]))[0])
        if x_opt is not None:
            dist = float(np.linalg.norm(x_hat - x_opt))
            out.update(argmin_dist=dist,
                       argmin_dist_rel=dist / float(np.linalg.norm(b[:, 1] - b[:, 0])),
                       regret=float(f(x_hat[None, :])[0] - f.f_opt))
    return out


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(stats.spearmanr(a, b).statistic)


_SETTINGS_FILE = "settings.json"
_WEIGHTS_FILE = "weights.pt"


def save(proxy: Proxy, path) -> Path:
    """Write ``proxy`` to the folder ``path``: ``weights.pt`` (tensors only) and ``settings.json``.

    The history goes into the JSON too. Returns the folder.
    """
    if not isinstance(proxy, Proxy):
        raise TypeError(f"proxy: expected a zoo_lab.surrogate.proxy.Proxy, got {type(proxy).__name__}")
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in proxy.state_dict().items()}
    torch.save(state, folder / _WEIGHTS_FILE)
    doc = dict(format="zoo_lab.surrogate.proxy/1", settings=proxy.settings, history=proxy.history.to_dict())
    (folder / _SETTINGS_FILE).write_text(json.dumps(doc, indent=1, default=_json_default))
    return folder


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"cannot store {type(o).__name__} in settings.json")


def load(path, device=None) -> Proxy:
    """Read a proxy written by :func:`save` (``torch.load(weights_only=True)``: no arbitrary unpickling)."""
    folder = Path(path)
    sfile, wfile = folder / _SETTINGS_FILE, folder / _WEIGHTS_FILE
    if not sfile.is_file() or not wfile.is_file():
        raise FileNotFoundError(f"path: {folder} lacks {_SETTINGS_FILE} and/or {_WEIGHTS_FILE}")
    doc = json.loads(sfile.read_text())
    if doc.get("format") != "zoo_lab.surrogate.proxy/1":
        raise ValueError(f"path: {sfile} is not a zoo_lab proxy (format {doc.get('format')!r})")
    s = doc["settings"]
    proxy = Proxy(s["bounds"], s["hidden"], s["activation"], s["y_mean"], s["y_std"],
                  s["dtype"], s.get("seed", 0))
    proxy.settings.update(s)
    proxy.load_state_dict(torch.load(wfile, map_location="cpu", weights_only=True))
    proxy.history = FitHistory.from_dict(doc.get("history", {}))
    return proxy.to(torch.device(device) if device is not None else "cpu").eval()
