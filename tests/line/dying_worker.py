"""A worker's inspection that kills its own process on a part named ``*poison*``, as a part that runs a
worker out of memory does, and takes its time over a part named ``*slow*``; importable by the spawned
workers, which cannot see a test's monkeypatch."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import List, Sequence

from patchcore_gui.core import ImageResult
from patchcore_gui.line import inspection_processes

# long enough for a poisoned part sent after a slow one to kill the workers while they hold both
SLOW_S = 1.5


def inspect_or_die(paths: Sequence[str]) -> List[ImageResult]:
    if any("poison" in Path(path).name for path in paths):
        os._exit(3)
    if any("slow" in Path(path).name for path in paths):
        time.sleep(SLOW_S)
    return inspection_processes._inspect_in_worker(paths)
