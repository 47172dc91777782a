"""The frozen ``patchcore`` executable: the same program as the installed console script."""

from patchcore_gui.cli import run_as_program

run_as_program()
