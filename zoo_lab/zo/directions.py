"""Helpers for the ZO estimators: dtypes, backends, and the random directions they average over.

Directions are always drawn with a numpy ``Generator`` (so a seed gives the same
numbers for numpy and torch inputs) and moved to torch afterwards when needed.
"""

from __future__ import annotations

import math

import numpy as np

from zoo_lab._util.seeding import rng_from  # noqa: F401  (re-exported for the estimators)

try:  # torch is a hard dependency, but keep numpy-only use importable
    import torch
except ImportError:  # pragma: no cover
    torch = None

DTYPES: tuple[str, ...] = ("float64", "float32")


def dtype_name(dtype) -> str:
    """Normalise ``dtype`` ("float64", np.float32, torch.float32, ...) to "float64"/"float32"."""
    if torch is not None and isinstance(dtype, torch.dtype):
        name = str(dtype).removeprefix("torch.")
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError as exc:
            raise TypeError(f"dtype: expected one of {DTYPES}, got {dtype!r}") from exc
    if name not in DTYPES:
        raise ValueError(f"dtype: expected one of {DTYPES}, got {dtype!r}")
    return name


def is_torch(a) -> bool:
    """True when ``a`` is a torch tensor."""
    return torch is not None and isinstance(a, torch.Tensor)


def as_point(x, dtype: str):
    """Validate ``x`` as one finite point of shape (d,); return it in ``dtype`` (numpy or torch)."""
    if is_torch(x):
        x = x.detach().to(getattr(torch, dtype))
        finite = bool(torch.isfinite(x).all())
    else:
        try:
            x = np.asarray(x, dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"x: expected a 1-D array of floats, got {type(x).__name__}") from exc
        finite = bool(np.isfinite(x).all())
    if x.ndim != 1 or x.shape[0] < 1:
        raise ValueError(f"x: expected one point of shape (d,) with d >= 1, got shape {tuple(x.shape)}")
    if not finite:
        raise ValueError(f"x: every coordinate must be finite, got {format_point(x)}")
    return x


def to_backend(a: np.ndarray, like):
    """Return numpy array ``a`` as the backend of ``like`` (torch: same device and dtype)."""
    if is_torch(like):
        return torch.from_numpy(np.ascontiguousarray(a)).to(device=like.device, dtype=like.dtype)
    return a


def format_point(p) -> str:
    """A short printable form of a point for error messages."""
    a = p.detach().cpu().numpy() if is_torch(p) else np.asarray(p)
    return np.array2string(a, precision=6, threshold=8, edgeitems=3)


def sample_directions(kind: str, k: int, d: int, rng: np.random.Generator, dtype: str) -> np.ndarray:
    """Draw ``k`` directions in R^d of ``kind``; returns a numpy array (k, d) of ``dtype``.

    gaussian: rows ~ N(0, I); sphere: uniform on the unit sphere; rademacher: entries ±1;
    orthogonal: k <= d orthonormal rows, Haar distributed (QR of a Gaussian matrix with the
    sign of diag(R) fixed, Mezzadri 2007).
    """
    if kind == "gaussian":
        return rng.standard_normal((k, d), dtype=np.dtype(dtype).type)
    if kind == "sphere":
        U = rng.standard_normal((k, d), dtype=np.dtype(dtype).type)
        U /= np.linalg.norm(U, axis=1, keepdims=True)
        return U
    if kind == "rademacher":
        return (2 * rng.integers(0, 2, size=(k, d), dtype=np.int8) - 1).astype(dtype)
    if kind == "orthogonal":
        G = rng.standard_normal((d, k))
        Q, R = np.linalg.qr(G)
        Q *= np.sign(np.diag(R))  # Haar measure on the Stiefel manifold
        return np.ascontiguousarray(Q.T, dtype=dtype)
    raise ValueError(f"kind: unknown direction distribution {kind!r}")


def sample_axes(k: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` distinct coordinate axes out of ``d`` (all of them, in order, when k == d)."""
    if k == d:
        return np.arange(d)
    return np.sort(rng.choice(d, size=k, replace=False))


def check_values(values, points, like, scalar: bool):
    """Convert ``values`` to the backend/dtype of ``like``; check shape (m,) or (m, ...) and finiteness."""
    m = points.shape[0]
    if is_torch(like):
        if not is_torch(values):
            values = torch.as_tensor(np.asarray(values))
        values = values.detach().to(device=like.device, dtype=like.dtype)
    else:
        if is_torch(values):
            values = values.detach().cpu().numpy()
        values = np.asarray(values, dtype=like.dtype)
    shape = tuple(values.shape)
    if (scalar and shape != (m,)) or (not scalar and (len(shape) < 1 or shape[0] != m)):
        want = f"({m},)" if scalar else f"({m}, ...)"
        raise ValueError(
            f"fun: returned shape {shape} for a batch of {m} points; expected {want} "
            "(one value per row)"
        )
    flat = values.reshape(m, -1)
    if is_torch(flat):
        bad_rows = (~torch.isfinite(flat)).any(dim=1)
        if bool(bad_rows.any()):
            _raise_non_finite(int(torch.nonzero(bad_rows)[0, 0]), values, points)
    else:
        bad_rows = (~np.isfinite(flat)).any(axis=1)
        if bad_rows.any():
            _raise_non_finite(int(np.flatnonzero(bad_rows)[0]), values, points)
    return values


def _raise_non_finite(i: int, values, points):
    bad = values[i]
    bad = float(bad) if bad.ndim == 0 else format_point(bad)
    raise ValueError(
        f"fun: returned a non-finite value {bad} at row {i} of {points.shape[0]}, "
        f"point {format_point(points[i])}"
    )


# Fast paths for the common case (numpy, or torch on CPU): one estimate's fixed cost is a few
# small-array calls, so each check here is one BLAS call instead of several (issue 16.4).
_NP_DTYPES = {"float64": np.dtype(np.float64), "float32": np.dtype(np.float32)}


def _surely_finite(a: np.ndarray) -> bool:
    """True when every entry of the 1-D ``a`` is finite: a · a is then finite, unless it overflows.

    False (NaN/inf, or |a| near the overflow limit) sends the caller to its full check,
    which finds out which and raises the ValueError naming the point. ``np.vdot``, not
    ``a.dot`` or ``@``: those warn "invalid value encountered" on a NaN/inf entry first.
    """
    return math.isfinite(np.vdot(a, a))


def on_host(t) -> bool:
    """True for a CPU tensor without autograd history, which ``t.numpy()`` views without a copy."""
    return t.is_cpu and not t.requires_grad


def _tensor_finite(t) -> bool:
    """``_surely_finite`` for a detached 1-D tensor: on CPU through a numpy view (no torch dispatch)."""
    if t.is_cpu:
        return _surely_finite(t.numpy())
    return math.isfinite(t.sum())  # a finite sum means finite entries; an overflow falls back


def fast_point(x, dtype: str):
    """``as_point`` with a shortcut for a 1-D finite array already in ``dtype``."""
    if type(x) is np.ndarray:
        if x.ndim == 1 and x.dtype == _NP_DTYPES.get(dtype) and x.shape[0]:
            if _surely_finite(x):
                return x
    elif is_torch(x) and x.ndim == 1 and x.shape[0] and x.dtype == getattr(torch, dtype, None):
        x = x.detach()
        if _tensor_finite(x):
            return x
    return as_point(x, dtype)


def fast_values(values, points):
    """``check_values(values, points, points, scalar=True)`` with shortcuts for the common case."""
    if type(values) is np.ndarray:
        if (type(points) is np.ndarray and values.dtype == points.dtype
                and values.shape == (points.shape[0],) and _surely_finite(values)):
            return values
    elif (is_torch(values) and is_torch(points) and values.dtype == points.dtype
          and values.device == points.device and values.shape == (points.shape[0],)):
        values = values.detach()
        if _tensor_finite(values):
            return values
    return check_values(values, points, points, scalar=True)
