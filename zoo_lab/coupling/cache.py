"""The SQLite evaluation cache: values keyed on (program fingerprint, input bytes).

Layout (format ``zoo_lab-evaluation-cache``, version 2)::

    zoo_lab_meta (key, value)                        format and version of the file
    programs     (name, fingerprint, identity, ...)  one row per program name
    evals        (fingerprint, key, value)           one row per evaluated input

A program name is registered with one fingerprint (see :mod:`zoo_lab.coupling.fingerprint`);
the same name arriving with another fingerprint (``HeatRod()`` then
``HeatRod(t_final=0.05)``, both ``'heat_rod'``) raises :class:`FingerprintMismatch`
naming both fingerprints, what differs, and the file. A file that is not such a
cache (another SQLite database, an older layout, garbage) is refused before
anything is written to it. Every SQLite error comes out as :class:`CacheError`
with the path and the hint to delete the file to rebuild it.

WAL mode lets readers proceed while one process writes; each ``put`` commits, so
what was stored survives a crash of the writer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import threading
from pathlib import Path

import numpy as np

from zoo_lab.coupling.fingerprint import differences

__all__ = ["EvaluationCache", "CacheError", "FingerprintMismatch", "FORMAT", "VERSION"]

FORMAT, VERSION = "zoo_lab-evaluation-cache", 2
_TABLES = {"zoo_lab_meta", "programs", "evals"}


class CacheError(RuntimeError):
    """The cache file cannot be used; ``path`` names it."""

    def __init__(self, message: str, path):
        super().__init__(message)
        self.path = Path(path)


class FingerprintMismatch(CacheError):
    """A program name is stored in the cache with a different fingerprint."""


class EvaluationCache:
    """An SQLite file of program evaluations keyed on (program fingerprint, input bytes)."""

    def __init__(self, path):
        self.path = Path(path)
        self._local = threading.local()
        if self.path.is_dir():
            raise CacheError(f"cache {self.path}: is a directory; pass a file path", self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.path.stat().st_size > 0:
            self._check_foreign()
        with self._guard("create"):
            con = self._conn()
            con.execute("PRAGMA journal_mode=WAL")
            with con:
                con.execute("CREATE TABLE IF NOT EXISTS zoo_lab_meta (key TEXT PRIMARY KEY, value TEXT)")
                con.execute("INSERT OR IGNORE INTO zoo_lab_meta VALUES ('format', ?), ('version', ?)",
                            (FORMAT, str(VERSION)))
                con.execute("CREATE TABLE IF NOT EXISTS programs (name TEXT PRIMARY KEY, "
                            "fingerprint TEXT NOT NULL, identity TEXT, in_dim INTEGER, "
                            "out_dim INTEGER)")
                con.execute("CREATE TABLE IF NOT EXISTS evals (fingerprint TEXT, key BLOB, "
                            "value BLOB, PRIMARY KEY (fingerprint, key)) WITHOUT ROWID")

    # -- file handling ----------------------------------------------------------------------
    def _check_foreign(self) -> None:
        """Refuse (without writing) a file that is not a version-2 zoo_lab cache."""
        hint = "point cache= at another file, or delete it to rebuild"
        try:
            con = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=60.0)
            try:
                tables = {r[0] for r in con.execute(
                    "SELECT name FROM sqlite_master WHERE type='table'")}
                meta = dict(con.execute("SELECT key, value FROM zoo_lab_meta")) \
                    if "zoo_lab_meta" in tables else {}
            finally:
                con.close()
        except sqlite3.Error as exc:
            raise CacheError(f"cache {self.path}: not readable as an SQLite database ({exc}); "
                             f"{hint}", self.path) from exc
        if not tables:
            return
        if meta.get("format") != FORMAT:
            what = ("an older zoo_lab cache (keyed on program names, which could mix programs)"
                    if tables == {"evals"} else f"not a zoo_lab evaluation cache (tables: "
                    f"{', '.join(sorted(tables))})")
            raise CacheError(f"cache {self.path}: {what}; refusing to modify it; {hint}", self.path)
        if meta.get("version") != str(VERSION) or not _TABLES <= tables:
            raise CacheError(f"cache {self.path}: zoo_lab cache format version "
                             f"{meta.get('version')!r}, this zoo_lab reads version {VERSION}; "
                             f"refusing to modify it; {hint}", self.path)

    @contextlib.contextmanager
    def _guard(self, what: str):
        """Turn SQLite errors into CacheError naming the file and the way out."""
        try:
            yield
        except sqlite3.Error as exc:
            raise CacheError(f"cache {self.path}: SQLite error during {what}: "
                             f"{type(exc).__name__}: {exc}; delete it to rebuild", self.path) from exc

    def _conn(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=60.0)
            self._local.con = con
        return con

    def __getstate__(self):  # picklable: reconnect in the other process
        return {"path": self.path}

    def __setstate__(self, state):
        self.path = state["path"]
        self._local = threading.local()

    # -- programs ---------------------------------------------------------------------------
    def register(self, name: str, fingerprint: str, identity: dict, in_dim: int, out_dim: int) -> None:
        """Record ``name`` -> ``fingerprint``; raise FingerprintMismatch if the name has another one."""
        doc = json.dumps(identity, sort_keys=True)
        with self._guard("register"):
            con = self._conn()
            with con:
                con.execute("INSERT OR IGNORE INTO programs VALUES (?, ?, ?, ?, ?)",
                            (name, fingerprint, doc, int(in_dim), int(out_dim)))
                stored, stored_doc = con.execute(
                    "SELECT fingerprint, identity FROM programs WHERE name=?", (name,)).fetchone()
        if stored != fingerprint:
            diff = differences(json.loads(stored_doc or "null"), identity)
            shown = "; ".join(diff[:6]) + (" ..." if len(diff) > 6 else "")
            raise FingerprintMismatch(
                f"cache {self.path}: program {name!r} is stored with fingerprint {stored}, but "
                f"this program has fingerprint {fingerprint} (differs in: {shown or 'its identity'}); "
                f"the cached values belong to the stored one. Pass another name= (or version=) to "
                f"keep both, or delete {self.path} to rebuild", self.path)

    def programs(self) -> dict[str, str]:
        """Registered program names and their fingerprints."""
        with self._guard("read"):
            return dict(self._conn().execute("SELECT name, fingerprint FROM programs"))

    # -- values -----------------------------------------------------------------------------
    @staticmethod
    def key(x: np.ndarray) -> bytes:
        """Cache key of one input row: a digest of its float64 bytes."""
        return hashlib.sha256(np.ascontiguousarray(x, dtype=np.float64).tobytes()).digest()

    def get(self, fingerprint: str, X: np.ndarray, out_dim: int) -> tuple[np.ndarray, np.ndarray]:
        """Look up rows of ``X``; returns (values (m, out_dim) with NaN where missing, hit mask)."""
        values = np.full((len(X), out_dim), np.nan)
        hit = np.zeros(len(X), dtype=bool)
        keys = [self.key(x) for x in X]
        found = {}
        with self._guard("read"):
            con = self._conn()
            for start in range(0, len(keys), 500):
                part = keys[start:start + 500]
                q = ",".join("?" * len(part))
                found.update(con.execute(
                    f"SELECT key, value FROM evals WHERE fingerprint=? AND key IN ({q})",
                    (fingerprint, *part)).fetchall())
        for i, k in enumerate(keys):
            if k in found:
                v = np.frombuffer(found[k], dtype=np.float64)
                if v.size == out_dim:
                    values[i], hit[i] = v, True
        return values, hit

    def put(self, fingerprint: str, X: np.ndarray, Y: np.ndarray) -> None:
        """Store finished evaluations (one transaction, committed before returning)."""
        with self._guard("write"):
            con = self._conn()
            with con:
                con.executemany(
                    "INSERT OR REPLACE INTO evals VALUES (?, ?, ?)",
                    [(fingerprint, self.key(x), np.asarray(y, np.float64).tobytes())
                     for x, y in zip(X, Y, strict=True)])

    def __len__(self) -> int:
        with self._guard("read"):
            return int(self._conn().execute("SELECT COUNT(*) FROM evals").fetchone()[0])

    def rows(self, name: str | None = None) -> int:
        """Number of stored evaluations (of the program registered as ``name``, or all)."""
        if name is None:
            return len(self)
        with self._guard("read"):
            return int(self._conn().execute(
                "SELECT COUNT(*) FROM evals JOIN programs USING (fingerprint) WHERE name=?",
                (name,)).fetchone()[0])
