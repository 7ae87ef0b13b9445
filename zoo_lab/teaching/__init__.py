"""Exercise self-checks for the notebooks: specific feedback, never an exception.

Every ``check_*`` returns a :class:`Result` (truthy when passed) that shows, in
Jupyter, what was expected, what the learner got and a hint. A learner's code
that raises (``NotImplementedError`` in a fresh exercise cell, a typo) becomes a
failed Result with the error message, so a notebook always runs to the end.

Instructors and headless runs use :func:`solution` to fill in reference answers:
exercise cells do ``if SMOKE or SOLUTIONS: my_fn = zl.teaching.solution("lhs")``.
"""

from zoo_lab._util.reexport import reexport_submodules
from zoo_lab.teaching._result import Result

# each submodule lists its public checks in __all__; they are re-exported here
__all__ = ["Result", *reexport_submodules(__name__, globals())]
