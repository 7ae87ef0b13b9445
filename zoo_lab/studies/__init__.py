"""zoo_lab.studies: each submodule holds one topic; their public names are re-exported here.

A submodule lists its public names in ``__all__``; this package imports every
submodule and re-exports those names, so ``zl.studies.NAME`` works for all of them.
"""

from zoo_lab._util.reexport import reexport_submodules

__all__ = reexport_submodules(__name__, globals())
