"""One inspected part as the record holds it, and how its time is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional

from ..core.verdict import VERDICTS  # noqa: F401  (the record knows the verdicts the rule gives, no others)

#: what a person decides a part is, after looking at it (a REVIEW part is decided one or the other)
DECIDED_VERDICTS = ("OK", "NG")

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class InspectionRecord:
    """One inspected part as it is recorded (the station comes from the store that writes it).

    ``time`` is when the result was known, timezone-aware (stored as UTC). ``file_size`` and
    ``sha256`` identify the image's content; None when it could not be read. ``model_sha256`` is the
    sha256 of the model file and ``threshold`` the one in force for this verdict. ``score`` is None
    for an ERROR, which says why in ``error``. ``regions`` is JSON-serialisable (the defect regions).
    ``review_from`` is the start of the review band in force (None: none), beside ``threshold``.
    ``sorted_path`` is where a line put the image after its verdict (None: not sorted), noted once
    the image is there.
    """

    time: datetime
    image_path: str
    file_size: Optional[int]
    sha256: Optional[str]
    model_sha256: str
    model_name: str
    threshold: float
    score: Optional[float]
    verdict: str
    error: Optional[str]
    inspection_ms: Optional[float]
    regions: Optional[list] = None
    review_from: Optional[float] = None
    sorted_path: Optional[str] = None

    @property
    def where(self) -> str:
        """Where the image was written and, once a line sorted it, where it went: ``camera -> sorted``."""
        return self.image_path if not self.sorted_path else f"{self.image_path} -> {self.sorted_path}"

    def __post_init__(self) -> None:
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise ValueError(f"record time {self.time} has no time zone (use datetime.now(timezone.utc))")
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, not {self.verdict!r}")


def to_time_us(moment: datetime) -> int:
    """Whole microseconds since 1970-01-01 UTC: how times are stored.

    >>> to_time_us(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=timezone.utc))
    1000005
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"time {moment} has no time zone")
    return (moment - _EPOCH) // _MICROSECOND


def from_time_us(time_us: int) -> datetime:
    """The UTC datetime of a stored time.

    >>> from_time_us(1000005).isoformat()
    '1970-01-01T00:00:01.000005+00:00'
    """
    return _EPOCH + timedelta(microseconds=int(time_us))
