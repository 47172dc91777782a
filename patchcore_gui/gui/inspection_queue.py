"""Files waiting to be inspected, and which files the list already holds as which content.

A file already listed is left out when it is added again, unless its content changed since (size or
modification time differ): then it is a new part and is inspected again, beside the row of the
part it was before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from ..core.fingerprint import stat_key

StatKey = Optional[Tuple[int, int]]


class InspectionQueue:
    def __init__(self) -> None:
        self._pending: List[Path] = []
        #: every file queued or listed -> (size, mtime) of the content queued or listed
        self._known: Dict[Path, StatKey] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, paths: Sequence[Path]) -> int:
        """Queue the new parts among ``paths``; returns how many were left out as already listed."""
        left_out = 0
        pending = {path.resolve() for path in self._pending}
        for path in paths:
            key, now = path.resolve(), stat_key(path)
            if key in self._known and (self._known[key] == now or key in pending):
                left_out += 1
                continue
            self._known[key] = now
            self._pending.append(path)
            pending.add(key)
        return left_out

    def listed(self, path: Path, seen: StatKey) -> None:
        """``path``'s row holds the content with ``seen`` (size, mtime): what a later add compares with."""
        self._known[path.resolve()] = seen

    def forget(self, path: Path) -> None:
        """``path``'s content is known to have changed: the next add inspects it again."""
        self._known.pop(path.resolve(), None)

    def take(self) -> List[Path]:
        """Everything waiting, in the order it came; the queue is then empty."""
        paths, self._pending = self._pending, []
        return paths

    def drop_pending(self) -> None:
        """Forget what waits (a job failed or was cancelled); listed files stay known."""
        for path in self._pending:
            self._known.pop(path.resolve(), None)
        self._pending.clear()

    def clear(self) -> None:
        """The list was emptied: nothing is known any more."""
        self._pending.clear()
        self._known.clear()
