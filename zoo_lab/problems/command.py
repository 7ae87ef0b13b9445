"""Any external program as a knowledge source: rows in through stdin or a file, values out.

``Command(argv, ...)`` runs ``argv`` (an argument list, never a shell string, so
no shell is involved and no quoting bugs or injection are possible) once per
batch with :func:`subprocess.run`. ``mode="stdin"``: the batch is written as
text rows (space- or comma-separated) to the program's stdin. ``mode="files"``:
the rows go to a temporary file whose path replaces the ``{input}`` placeholder
in ``argv``; if ``argv`` also holds ``{output}``, results are read from that file,
otherwise from stdout. The program must print ``out_dim`` numbers per row.

The subprocess runs in its own process group (its own session): on a timeout, or
when the caller is interrupted (Ctrl-C), the whole group is killed, so a shell
script's children (``awk``, a solver binary) do not keep running.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zoo_lab._util.validate import check_choice, check_float, check_int

__all__ = ["Command", "CommandError", "CommandTimeout", "EXAMPLE_PROGRAM", "example_command"]

MODES = ("stdin", "files")
DELIMITERS = (" ", ",")
INPUT, OUTPUT = "{input}", "{output}"
EXAMPLE_PROGRAM = Path(__file__).with_name("examples") / "quadratic_program.py"


class CommandError(RuntimeError):
    """An external program failed, timed out or printed output of the wrong shape."""


class CommandTimeout(CommandError, TimeoutError):
    """An external program ran past its timeout; its process group was killed."""


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the program's process group (it leads its own session), then reap it."""
    with contextlib.suppress(OSError):
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - no process groups: the direct child only
            proc.kill()
    with contextlib.suppress(Exception):
        proc.communicate(timeout=5.0)


@dataclass(frozen=True)
class Command:
    """An external program mapping text rows (m, in_dim) to numbers (m, out_dim).

    One call runs the program once on the whole batch. Input: one line per row, the
    ``in_dim`` values printed with 17 significant digits (exact float64), separated by
    ``delimiter``. Output: the program prints one line per row, in the same order, with
    ``out_dim`` numbers separated by spaces or commas; blank lines are ignored. Print 17
    significant digits (C ``printf("%.17g")``, awk ``printf "%.17g\\n"``, Python ``repr``):
    6 digits (awk's and C's ``%g`` default) spoil finite differences with a small step
    μ, and :class:`zoo_lab.BlackBox` warns when it sees too few digits for its μ.

    Parameters
    ----------
    argv : sequence of str or Path
        The command as an argument list, e.g. ``["./solver", "--fast"]``; never a shell
        string (no shell runs, so nothing is quoted or injected). In ``mode="files"`` the
        ``{input}`` (and optional ``{output}``) placeholders are replaced by file paths.
    in_dim : int
        Numbers per input row (>= 1).
    out_dim : int
        Numbers the program prints per row (>= 1, default 1).
    mode : "stdin" or "files"
        "stdin": rows go to the program's standard input. "files": rows are written to
        a temporary file whose path replaces ``{input}``; with ``{output}`` in argv the
        results are read from that file, otherwise from standard output.
    timeout : float or None
        Seconds one run (one batch) may take (default 60); on expiry the program's whole
        process group is killed and :class:`CommandTimeout` is raised. None: no limit.
        Not part of the cache fingerprint (it does not change the values).
    name : str, optional
        Name in messages and cache keys; default: the whole argv (``shlex.join``), so
        two commands that differ in any argument never share a name.
    delimiter : " " or ","
        Separator of the input values.
    cwd : str, optional
        Working directory of the program (default: the caller's).
    env : dict, optional
        The program's complete environment (default: the caller's); part of the fingerprint.
    """

    argv: tuple[str, ...]
    in_dim: int
    out_dim: int = 1
    mode: str = "stdin"
    timeout: float | None = field(default=60.0, metadata={"fingerprint": False})
    name: str | None = None
    delimiter: str = " "
    cwd: str | None = None
    env: dict | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        if isinstance(self.argv, str | bytes):
            raise TypeError(
                f"argv={self.argv!r}: a shell string is not allowed; pass an argument list, "
                "e.g. ['python', 'prog.py', '--flag']"
            )
        argv = tuple(self.argv)
        if not argv or not all(isinstance(a, str | Path) for a in argv):
            raise TypeError(f"argv={self.argv!r}: allowed is a non-empty list of str/Path")
        argv = tuple(str(a) for a in argv)
        object.__setattr__(self, "argv", argv)
        check_choice("mode", self.mode, MODES)
        if self.mode == "files" and not any(INPUT in a for a in argv):
            raise ValueError(f"argv={list(argv)!r}: mode='files' needs an {INPUT!r} placeholder")
        for arg in ("in_dim", "out_dim"):
            check_int(arg, getattr(self, arg), 1)
        if self.timeout is not None:
            check_float("timeout", self.timeout, 0.0, strict=True)
        check_choice("delimiter", self.delimiter, DELIMITERS)
        if self.name is None:
            object.__setattr__(self, "name", shlex.join(argv))

    @property
    def description(self) -> str:
        """One-line summary."""
        return f"external program {self.name!r} ({self.in_dim} -> {self.out_dim}, via {self.mode})"

    def _format(self, X: np.ndarray) -> str:
        return "".join(self.delimiter.join(f"{v:.17g}" for v in row) + "\n" for row in X)

    def _parse(self, text: str, m: int) -> np.ndarray:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        try:
            rows = [[float(v) for v in ln.replace(",", " ").split()] for ln in lines]
            Y = np.array(rows, dtype=np.float64)
        except ValueError as exc:
            head = text[:200]
            raise CommandError(f"{self.name}: output is not numeric rows: {head!r}") from exc
        if Y.shape != (m, self.out_dim):
            raise CommandError(
                f"{self.name}: output has shape {Y.shape}, expected ({m}, {self.out_dim}) "
                f"(one line of {self.out_dim} number(s) per input row)"
            )
        return Y

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Run the program once on the batch X (m, in_dim); return (m, out_dim)."""
        return self.call_with_timeout(X, None)

    def call_with_timeout(self, X: np.ndarray, timeout: float | None) -> np.ndarray:
        """Run once on X; stop after ``timeout`` seconds if that is sooner than ``self.timeout``."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1 and X.shape[0] == self.in_dim:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.in_dim:
            raise ValueError(f"X.shape={X.shape}: allowed is (m, {self.in_dim})")
        limits = [t for t in (self.timeout, timeout) if t is not None]
        limit = min(limits) if limits else None
        with tempfile.TemporaryDirectory(prefix="zoo_lab_cmd_") as tmp:
            in_path, out_path = Path(tmp) / "input.txt", Path(tmp) / "output.txt"
            argv = [
                a.replace(INPUT, str(in_path)).replace(OUTPUT, str(out_path)) for a in self.argv
            ]
            stdin = self._format(X)
            if self.mode == "files":
                in_path.write_text(stdin)
                stdin = None
            try:
                proc = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.cwd,
                    env=self.env, start_new_session=os.name == "posix")
            except OSError as exc:
                raise CommandError(f"{self.name}: could not start argv={argv!r}: {exc}") from exc
            try:
                stdout, stderr = proc.communicate(stdin, timeout=limit)
            except subprocess.TimeoutExpired as exc:
                _kill_group(proc)
                raise CommandTimeout(
                    f"{self.name}: timed out after {limit:g} s on a batch of {len(X)} rows; its "
                    f"process group was killed (argv={argv!r})"
                ) from exc
            except BaseException:  # Ctrl-C or any error: leave nothing running
                _kill_group(proc)
                raise
            if proc.returncode != 0:
                tail = stderr[-1000:].strip()
                raise CommandError(
                    f"{self.name}: exited with status {proc.returncode} (argv={argv!r}); "
                    f"stderr tail: {tail!r}"
                )
            if any(OUTPUT in a for a in self.argv):
                if not out_path.exists():
                    raise CommandError(f"{self.name}: did not write its output file {out_path}")
                text = out_path.read_text()
            else:
                text = stdout
        return self._parse(text, len(X))


def example_command(
    in_dim: int = 2,
    mode: str = "stdin",
    sleep: float = 0.0,
    fail: bool = False,
    timeout: float | None = 60.0,
) -> Command:
    """Command for the shipped example (shifted quadratic, run with this Python)."""
    argv = [sys.executable, str(EXAMPLE_PROGRAM)]
    if mode == "files":
        argv += ["--input", INPUT, "--output", OUTPUT]
    if sleep:
        argv += ["--sleep", repr(float(sleep))]
    if fail:
        argv += ["--fail"]
    return Command(
        argv, in_dim=in_dim, out_dim=1, mode=mode, timeout=timeout, name="quadratic_program"
    )
