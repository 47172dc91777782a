"""The frozen ``patchcore`` executable: the same program as the installed console script."""

import multiprocessing

# the line's worker processes start this same executable: this makes it one of them, not a new program
multiprocessing.freeze_support()

from patchcore_gui.program import run_as_program

run_as_program()
