"""The inspection rule: a part's verdict from its score, the threshold, the review band and its largest
defect region. Its own module, free of the engine's libraries, so that the inspection record can be
read without them (``patchcore log``)."""

from __future__ import annotations

from typing import Optional

VERDICTS = ("OK", "REVIEW", "NG", "ERROR")


def verdict_of(score: Optional[float], threshold: float, review_from: Optional[float] = None,
               largest_region: Optional[float] = None, min_defect_area: float = 0.0) -> str:
    """The inspection rule, written only here.

    No score (an unreadable file) is "ERROR". A score above ``threshold`` is "NG", unless a minimum
    defect area is set and every defect region is smaller (``largest_region`` < ``min_defect_area``,
    in the same unit): a speck below the tolerance passes as "OK". With a review band
    (``review_from`` < ``threshold``), a score above ``review_from`` and at or below the threshold is
    "REVIEW", for a person to look at. Otherwise "OK". Region sizes unknown while a minimum area is
    set count as a defect: the rule never passes a part it could not measure.

    >>> verdict_of(25.2, 25.1), verdict_of(25.1, 25.1), verdict_of(None, 25.1)
    ('NG', 'OK', 'ERROR')
    >>> verdict_of(25.2, 25.1, largest_region=40, min_defect_area=50), verdict_of(24.0, 25.1, review_from=23.0)
    ('OK', 'REVIEW')
    """
    if score is None:
        return "ERROR"
    if score > threshold:
        too_small = min_defect_area > 0 and largest_region is not None and largest_region < min_defect_area
        if not too_small:
            return "NG"
        return "OK"
    if review_from is not None and score > review_from:
        return "REVIEW"
    return "OK"
