"""zoo_lab._util: the bottom layer every other subsystem builds on.

Argument validation with one wording (:mod:`.validate`), one way to turn a ``seed`` into
a generator (:mod:`.seeding`), torch thread limits (:mod:`.threads`), evaluation
counting (:mod:`.counting`) and the re-export helper the topic packages use
(:mod:`.reexport`). Nothing here imports another zoo_lab subsystem.
"""
