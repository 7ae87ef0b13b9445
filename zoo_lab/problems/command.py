"""Any external program as a knowledge source: rows in through stdin or a file, values out.

``Command(argv, ...)`` runs ``argv`` (an argument list, never a shell string, so
no shell is involved and no quoting bugs or injection are possible) once per
batch with :func:`subprocess.run`. ``mode="stdin"``: the batch is written as
text rows (space- or comma-separated) to the program's stdin. ``mode="files"``:
the rows go to a temporary file whose path replaces the ``{input}`` placeholder
in ``argv``; if ``argv`` also holds ``{output}``, results are read from that file,
otherwise from stdout. The program must print ``out_dim`` numbers per row.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Command", "CommandError", "EXAMPLE_PROGRAM", "example_command"]

MODES = ("stdin", "files")
DELIMITERS = (" ", ",")
INPUT, OUTPUT = "{input}", "{output}"
EXAMPLE_PROGRAM = Path(__file__).with_name("examples") / "quadratic_program.py"


class CommandError(RuntimeError):
    """An external program failed, timed out or printed output of the wrong shape."""


@dataclass(frozen=True)
class Command:
    """An external program mapping text rows (m, in_dim) to numbers (m, out_dim)."""

    argv: tuple[str, ...]
    in_dim: int
    out_dim: int = 1
    mode: str = "stdin"
    timeout: float | None = 60.0
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
        if self.mode not in MODES:
            raise ValueError(f"mode={self.mode!r}: allowed is one of {MODES}")
        if self.mode == "files" and not any(INPUT in a for a in argv):
            raise ValueError(f"argv={list(argv)!r}: mode='files' needs an {INPUT!r} placeholder")
        for arg in ("in_dim", "out_dim"):
            value = getattr(self, arg)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{arg}={value!r}: allowed is a positive integer")
        if self.timeout is not None and not self.timeout > 0:
            raise ValueError(f"timeout={self.timeout!r}: allowed is None or seconds > 0")
        if self.delimiter not in DELIMITERS:
            raise ValueError(f"delimiter={self.delimiter!r}: allowed is one of {DELIMITERS}")
        if self.name is None:
            object.__setattr__(self, "name", Path(argv[-1]).name if len(argv) > 1 else argv[0])

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
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1 and X.shape[0] == self.in_dim:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.in_dim:
            raise ValueError(f"X.shape={X.shape}: allowed is (m, {self.in_dim})")
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
                proc = subprocess.run(
                    argv,
                    input=stdin,
                    capture_output=True,
                    text=True,
                    timeout=self.timeout,
                    cwd=self.cwd,
                    env=self.env,
                    stdin=subprocess.DEVNULL if stdin is None else None,
                )
            except subprocess.TimeoutExpired as exc:
                raise CommandError(
                    f"{self.name}: timed out after {self.timeout} s on a batch of {len(X)} rows "
                    f"(argv={argv!r})"
                ) from exc
            except OSError as exc:
                raise CommandError(f"{self.name}: could not start argv={argv!r}: {exc}") from exc
            if proc.returncode != 0:
                tail = proc.stderr[-1000:].strip()
                raise CommandError(
                    f"{self.name}: exited with status {proc.returncode} (argv={argv!r}); "
                    f"stderr tail: {tail!r}"
                )
            if any(OUTPUT in a for a in self.argv):
                if not out_path.exists():
                    raise CommandError(f"{self.name}: did not write its output file {out_path}")
                text = out_path.read_text()
            else:
                text = proc.stdout
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
