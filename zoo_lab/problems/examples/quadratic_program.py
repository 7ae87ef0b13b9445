"""Standalone example program: one row of numbers per line on stdin -> one value per line.

f(x) = sum_i (x_i - 0.5)^2 + 1, a shifted quadratic (minimum 1 at x = 0.5). Rows may be
separated by whitespace or commas. Also usable with files:
``python quadratic_program.py --input IN --output OUT``. ``--sleep S`` waits S seconds
first (to demonstrate timeouts); ``--fail`` exits with status 3 (to demonstrate errors).
Only the standard library is used, so any Python can run it.
"""

from __future__ import annotations

import argparse
import sys
import time


def evaluate(line: str) -> float:
    """Shifted quadratic of one text row."""
    xs = [float(v) for v in line.replace(",", " ").split()]
    return sum((x - 0.5) ** 2 for x in xs) + 1.0


def main(argv: list[str] | None = None) -> int:
    """Read rows, write one value per row."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", help="read rows from this file instead of stdin")
    parser.add_argument("--output", help="write values to this file instead of stdout")
    parser.add_argument("--sleep", type=float, default=0.0, help="seconds to wait first")
    parser.add_argument("--fail", action="store_true", help="print to stderr and exit 3")
    args = parser.parse_args(argv)
    if args.sleep:
        time.sleep(args.sleep)
    if args.fail:
        print("quadratic_program: failing on purpose (--fail)", file=sys.stderr)
        return 3
    text = open(args.input).read() if args.input else sys.stdin.read()
    values = [evaluate(line) for line in text.splitlines() if line.strip()]
    result = "".join(f"{v:.17g}\n" for v in values)
    if args.output:
        with open(args.output, "w") as fh:
            fh.write(result)
    else:
        sys.stdout.write(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
