"""Parts in a row that do not look like the line's model's good parts: said when it begins and when it ends.

A line judges every part by its score. The wrong model opened, another product on the belt, a camera put
into 12-bit mode or a light gone dark all score every part far above the threshold: every one NG, sorted and
counted as a defect, with nothing on the screen to tell it from a bad batch. The signs of
:mod:`..core.likeness` tell them apart part by part (a defect, however large, leaves most of the part like a
good one; measured there). One unlike part can be a stray (a hand in the picture, a part put in turned);
:data:`UNLIKE_IN_A_ROW` of them in a row is the line's state: said once as a warning when it begins, shown
while it lasts, said once more when the parts look like the good ones again; both moments go into the
record's audit trail, where quality asking about an hour of NG parts finds why. The verdicts stay the
scores': a part that looks like nothing the model knows is no good part either.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from ..core.likeness import LikenessCheck, Unlikeness
from ..core.model import PatchCoreModel
from .runs_in_a_row import PartsInARow, RunChange

#: Unlike parts in a row before the line says so (one alone can be a stray in front of the camera).
UNLIKE_IN_A_ROW = 5
#: the audit trail's entries (``patchcore log --changes``)
UNLIKE_BEGAN, UNLIKE_ENDED = "parts unlike the good parts", "parts like the good parts again"


class UnlikeParts(PartsInARow):
    """The run of parts unlike the model's good parts, said with the signs they show."""

    began, ended = UNLIKE_BEGAN, UNLIKE_ENDED

    def __init__(self, in_a_row: int = UNLIKE_IN_A_ROW) -> None:
        super().__init__(in_a_row)
        # the run's parts by their reasons, for its words; None until an unlike part starts one
        self._check: Optional[LikenessCheck] = None

    def add(self, model: PatchCoreModel, part: Unlikeness, time: datetime) -> Optional[RunChange]:
        """Count one inspected part judged by ``model``; the change when a run of unlike parts begins or
        ends, else None."""
        if not part.reasons:
            self._check = None
            return self._part(False, time)
        if self._check is None:
            self._check = LikenessCheck(model)
        self._check.model = model  # the words name the model in force (a new threshold is a new model object)
        self._check.count(part)
        return self._part(True, time)

    def _state(self, count: int, since: datetime) -> str:
        return f"{count:,} parts {self._in_a_row(since)}"

    def _shown(self, since: datetime) -> str:
        return f"Parts {self._in_a_row(since)}"

    def _in_a_row(self, since: datetime) -> str:
        assert self._check is not None
        return (f"in a row since {since.astimezone():%H:%M:%S} do not look like the good parts this model was built "
                f"from ({self._check.why()}): is it the model for these parts, and is the camera as it was?")

    def _ended_detail(self, count: int) -> str:
        return f"after {count:,} in a row that did not"

    def _ended_said(self, detail: str) -> str:
        return f"the parts look like the good parts again, {detail}"
