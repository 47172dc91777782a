"""A worker's inspection that kills its own process on a part named ``*poison*``, as a part that runs a
worker out of memory does; importable by the spawned workers, which cannot see a test's monkeypatch."""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Sequence

from patchcore_gui.core import ImageResult
from patchcore_gui.line import inspection_processes


def inspect_or_die(paths: Sequence[str]) -> List[ImageResult]:
    if any("poison" in Path(path).name for path in paths):
        os._exit(3)
    return inspection_processes._inspect_in_worker(paths)
