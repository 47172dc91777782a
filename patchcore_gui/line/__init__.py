"""Line mode: watch a folder a camera writes into, inspect every part once, record and sort it. No Qt.

:class:`~.runner.InspectionLine` runs it; :mod:`.arrival` decides when a file is a whole part,
:mod:`.sorting` places images and overlays, :mod:`.counters` counts the shift, :mod:`.shifts` says when
one starts.
"""

from typing import Dict, List

from ..lazy_exports import lazy_exports

#: Imported when first used: ``patchcore log --since 06:00`` reads a shift's start (:mod:`.shifts`)
#: without the runner, which loads torch.
_HOMES: Dict[str, List[str]] = {
    ".arrival": ["ArrivalSettings", "Part", "PartQueue", "is_part_name"],
    ".counters": ["ShiftSnapshot"],
    ".runner": ["InspectionLine", "LineSettings", "PartResult", "RecordingFailed"],
    ".shifts": ["ShiftPlan"],
    ".sorting": ["OverlayWriter", "PartSorter", "where_the_part_is"],
}
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)

__all__ = ["ArrivalSettings", "InspectionLine", "LineSettings", "OverlayWriter", "Part", "PartQueue", "PartResult",
           "PartSorter", "RecordingFailed", "ShiftPlan", "ShiftSnapshot", "is_part_name",
           "where_the_part_is"]
