"""Line mode: watch a folder a camera writes into, inspect every part once, record and sort it. No Qt.

:class:`~.runner.InspectionLine` runs it; :mod:`.arrival` decides when a file is a whole part,
:mod:`.sorting` places images and overlays, :mod:`.counters` counts the shift.
"""

from .arrival import ArrivalSettings, Part, PartQueue, is_part_name
from .counters import ShiftSnapshot
from .runner import InspectionLine, LineSettings, PartResult, RecordingFailed
from .sorting import OverlayWriter, PartSorter

__all__ = ["ArrivalSettings", "InspectionLine", "LineSettings", "OverlayWriter", "Part", "PartQueue", "PartResult",
           "PartSorter", "RecordingFailed", "ShiftSnapshot", "is_part_name"]
