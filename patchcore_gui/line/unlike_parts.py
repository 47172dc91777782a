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

from dataclasses import dataclass
from datetime import datetime
from typing import Optional, Tuple

from ..core.likeness import LikenessCheck, Unlikeness
from ..core.model import PatchCoreModel

#: Unlike parts in a row before the line says so (one alone can be a stray in front of the camera).
UNLIKE_IN_A_ROW = 5
#: the audit trail's entries (``patchcore log --changes``)
UNLIKE_BEGAN, UNLIKE_ENDED = "parts unlike the good parts", "parts like the good parts again"


@dataclass(frozen=True)
class UnlikeChange:
    """A run of unlike parts began or ended: ``kind`` and ``detail`` as the audit trail has them."""

    kind: str  #: :data:`UNLIKE_BEGAN` or :data:`UNLIKE_ENDED`
    detail: str

    def notice(self) -> str:
        """The line said where the operator looks (the window's notice, the console's standard error)."""
        if self.kind == UNLIKE_BEGAN:
            return f"warning: {self.detail}"
        return f"the parts look like the good parts again, {self.detail}"


class UnlikeParts:
    """Follows the unlike parts in a row as the line concludes its parts (in arrival order, in one thread);
    :attr:`shown` may be read from any thread."""

    def __init__(self, in_a_row: int = UNLIKE_IN_A_ROW) -> None:
        self.in_a_row = in_a_row
        #: while ``in_a_row`` or more unlike parts came in a row: ``(how many, one line that says so and why)``,
        #: else ``(0, "")``; one tuple, so that a reader on another thread never sees one without the other
        self.shown: Tuple[int, str] = (0, "")
        # the run's parts, counted with their reasons; None until an unlike part starts one
        self._check: Optional[LikenessCheck] = None
        self._since: Optional[datetime] = None

    def add(self, model: PatchCoreModel, part: Unlikeness, time: datetime) -> Optional[UnlikeChange]:
        """Count one inspected part judged by ``model``; the change when a run of unlike parts begins or
        ends, else None."""
        if not part.reasons:
            ended = self._check.unlike if self._check is not None else 0
            self._check, self.shown = None, (0, "")
            if ended >= self.in_a_row:
                return UnlikeChange(UNLIKE_ENDED, f"after {ended:,} in a row that did not")
            return None
        if self._check is None:
            self._check, self._since = LikenessCheck(model), time
        self._check.model = model  # the words name the model in force (a new threshold is a new model object)
        self._check.count(part)
        count = self._check.unlike
        if count < self.in_a_row:
            return None
        assert self._since is not None
        state = (f"{count:,} parts in a row since {self._since.astimezone():%H:%M:%S} do not look like "
                 f"the good parts this model was built from ({self._check.why()}): is it the model for these "
                 "parts, and is the camera as it was?")
        self.shown = (count, state)
        return UnlikeChange(UNLIKE_BEGAN, state) if count == self.in_a_row else None
