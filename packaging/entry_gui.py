"""The frozen ``patchcore-gui`` executable: the same ``main`` as the installed gui-script."""

import multiprocessing

# the line's worker processes start this same executable: this makes it one of them, not a new program
multiprocessing.freeze_support()

import sys

if sys.platform == "win32" and sys.stdout is None and {"--version", "--self-test"} & set(sys.argv[1:]):
    # a windowed .exe has no console; print into the one it was started from, if any
    import ctypes

    if ctypes.windll.kernel32.AttachConsole(-1):  # ATTACH_PARENT_PROCESS
        sys.stdout = sys.stderr = open("CONOUT$", "w", buffering=1)

from patchcore_gui.gui.app import main

sys.exit(main())
