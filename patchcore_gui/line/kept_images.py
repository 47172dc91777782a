"""Sorted images of good parts removed after some days: a line PC's disk holds weeks of OK images, not a year's.

A line that sorts copies or moves every image into ``ROOT/<date>/<verdict>/`` (:mod:`.sorting`). At 5 MB a part
and a part a second that is over 400 GB a day, nearly all of it OK parts nobody looks at again: their scores,
verdicts and models stay in the record. Asked to (``watch --keep-ok-days N``, the window's "Keep sorted OK
images N days"), the line removes the ``OK`` folder of every dated folder ``N`` days old or older, once at its
start and once each day after. Only that: NG, REVIEW and ERROR images, overlays, and whatever is not a dated
folder the line made stay. What was removed, day by day, is said and goes into the audit trail, so that quality
asking for an OK part's image weeks later finds why it is gone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

from ..record import ModelChange
from .disk_space import DiskChange, size_said

#: the audit trail's entry (``patchcore log --changes``)
OK_IMAGES_REMOVED = "sorted OK images removed"


@dataclass
class OkImagesKept:
    """Removes ``root/<date>/OK`` once the date is ``days`` days old (``days`` >= 1: today's and the ``days`` - 1
    before are kept)."""

    root: Path
    days: int
    _swept_on: Optional[date] = None

    def sweep_if_due(self, today: Optional[date] = None) -> List[DiskChange]:
        """Sweep once a day (the first call sweeps); one change for each day whose OK images were removed."""
        today = today or datetime.now().date()
        if self._swept_on == today:
            return []
        self._swept_on = today
        return self.sweep(today)

    def sweep(self, today: date) -> List[DiskChange]:
        try:
            entries = sorted(os.scandir(self.root), key=lambda entry: entry.name)
        except OSError:  # not made yet (no part sorted), or away: nothing to remove
            return []
        changes = []
        for entry in entries:
            day = _day_of(entry.name)
            if day is None or (today - day).days < self.days or not entry.is_dir(follow_symlinks=False):
                continue
            # absolute: the audit trail is read weeks later, from elsewhere, and matched to sorted paths
            ok = Path(entry.path).absolute() / "OK"
            if not ok.is_dir() or ok.is_symlink():
                continue
            images, size, kept = _remove(ok)
            try:
                os.rmdir(entry.path)  # the day's folder, when OK was all it held
            except OSError:
                pass
            detail = (f"{ok}: {images:,} image{'' if images == 1 else 's'}, {size_said(size)}, older than "
                      f"{self.days} day{'' if self.days == 1 else 's'}"
                      + (f"; {kept:,} could not be removed" if kept else ""))
            changes.append(DiskChange(OK_IMAGES_REMOVED, detail, f"sorted OK images removed: {detail}"))
        return changes


def removal_of(sorted_path: Path, changes: Iterable[ModelChange]) -> Optional[ModelChange]:
    """The audit trail's entry that says a sorted image was removed with its day's OK images; None when it lies in
    no dated OK folder, or no sweep removed that folder."""
    ok = next((folder for folder in sorted_path.parents if folder.name == "OK" and _day_of(folder.parent.name)),
              None)
    if ok is None:
        return None
    said = f"{ok}: "
    return next((change for change in changes if change.kind == OK_IMAGES_REMOVED and change.detail.startswith(said)),
                None)


def _day_of(name: str) -> Optional[date]:
    """The date a dated folder of :func:`~.sorting.dated_folder` is named by; None for any other name."""
    try:
        day = datetime.strptime(name, "%Y-%m-%d").date()
    except ValueError:
        return None
    return day if day.isoformat() == name else None


def _remove(folder: Path) -> Tuple[int, int, int]:
    """Remove ``folder`` and all in it, as far as it can: ``(files removed, their bytes, files left)``."""
    removed, size, left = 0, 0, 0
    for parent, folders, files in os.walk(folder, topdown=False):
        for name in files:
            path = os.path.join(parent, name)
            try:
                bytes_ = os.lstat(path).st_size
                os.unlink(path)
            except OSError:
                left += 1
                continue
            removed, size = removed + 1, size + bytes_
        for name in folders:
            try:
                os.rmdir(os.path.join(parent, name))
            except OSError:
                pass
    try:
        os.rmdir(folder)
    except OSError:
        pass
    return removed, size, left

