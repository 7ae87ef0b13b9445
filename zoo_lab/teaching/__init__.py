"""Exercise self-checks for the notebooks: specific feedback, never an exception.

How to add a coding exercise
----------------------------
1. Write the reference implementation in a teaching module (``checks_05_09.py`` for
   notebooks 05-09) and register it with :func:`coding_exercise`, keyed ``"NN.short_name"``::

       def _vjp_cases():            # fixed inputs: a list of argument tuples, no fresh randomness
           rng = np.random.default_rng(3)
           return [(prog, rng.standard_normal(4), ...), ...]

       def _forgot_mu(program, z, v, U, mu): ...   # a known wrong law, for a targeted hint

       @coding_exercise("03.vjp_row", title="one row's ZO vᵀJ", stub="my_vjp_row",
                        cases=_vjp_cases, hint="average over the q directions, divide by μ",
                        more_hint="(F(z + μuᵢ) − F(z))·v / μ, times uᵢ, averaged over i",
                        mistakes={_forgot_mu: "you forgot to divide by μ"}, rtol=1e-6)
       def _vjp_row(program, z, v, U, mu):
           \"\"\"Reference: ...\"\"\"
           ...

   Outputs are compared with ``np.allclose(rtol, atol)`` after ``np.asarray`` (torch is
   detached), or by ``compare(got, want) -> bool``. A learner who writes into an input array
   is told so. Pick ``rtol`` so that every entry of ``mistakes`` (the wrong law) fails.
2. In the notebook, the learner gets a stub that raises ``NotImplementedError``, then::

       def my_vjp_row(program, z, v, U, mu):
           \"\"\"One row's ZO estimate of vᵀJ with the directions U (q, d).\"\"\"
           # YOUR CODE HERE
           raise NotImplementedError


       if SOLUTIONS:  # instructor mode: print the reference code and use it
           zl.teaching.show_solution("03.vjp_row")
           my_vjp_row = zl.teaching.solution("03.vjp_row")
       zl.teaching.check_code("03.vjp_row", my_vjp_row)

   ``SMOKE`` must NOT fill answers (learner hand-outs come from smoke runs); only
   ``SOLUTIONS = True`` does, and ``zoo-lab run --instructor`` sets it. Cells after an
   exercise must not depend on the learner's function (use the library's version).
3. Tests: ``tests/test_teaching.py`` checks each registered exercise: the reference passes,
   a ``NotImplementedError`` stub and every entry of ``mistakes`` fail with a hint.

Feedback rules (:class:`Result`, for every check): the expected answer is hidden until the
learner has answered wrongly :data:`REVEAL_AFTER` (2) times, hints come first
(``hint``, then ``more_hint`` from the second wrong attempt), blank answers are not counted.
Quiz answers are kept out of the public :data:`QUIZZES` dict; :func:`solution` returns them.
Checks return a :class:`Result` (truthy when passed); learner code that raises becomes a
failed Result with the error message, so a notebook always runs to the end.
"""

from zoo_lab._util.reexport import reexport_submodules
from zoo_lab.teaching._result import REVEAL_AFTER, Result, reset_attempts

# each submodule lists its public checks in __all__; they are re-exported here
__all__ = ["Result", "REVEAL_AFTER", "reset_attempts", *reexport_submodules(__name__, globals())]
