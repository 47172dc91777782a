"""The frozen ``patchcore`` executable: the same ``main`` as the installed console script."""

import sys

from patchcore_gui.cli import main

sys.exit(main())
