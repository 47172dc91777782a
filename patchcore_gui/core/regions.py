"""Defect regions: the connected areas of a part's anomaly map above the threshold, in the part's own pixels.

One concept, one place: the outline an overlay or the window draws, the regions a list, a CSV or the
record shows, and the largest area the verdict's minimum defect area is judged by all come from
:func:`find_defect_regions`, called through :meth:`~.patchcore.Inspection.defect_regions` so the map
and mask it works on are the inspection's (a region of interest applies there).

Areas are counted in pixels of the original image, as a person sees the part (the map is brought back
onto it by the preprocessing's own mapping); with a pixel size they read in mm². Neighbours along a
diagonal belong to one region (8-connectivity), as an outline drawn around them shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import cv2
import numpy as np

if TYPE_CHECKING:
    from .model import PatchCoreModel


@dataclass(frozen=True)
class DefectRegion:
    """One connected area above the threshold.

    ``area`` in pixels of the original image; bounding box ``x, y`` (top-left, pixels) and ``width,
    height``; ``peak`` the highest anomaly inside in score units (comparable with the threshold);
    ``centre`` the centroid ``(x, y)`` in pixels.
    """

    area: int
    x: int
    y: int
    width: int
    height: int
    peak: float
    centre: Tuple[float, float]

    def to_dict(self) -> Dict[str, Any]:
        """As the inspection record's ``regions`` column holds it (short keys, plain JSON numbers).

        >>> DefectRegion(30, 10, 20, 5, 6, 4.25, (12.0, 22.5)).to_dict()
        {'x': 10, 'y': 20, 'w': 5, 'h': 6, 'area': 30, 'peak': 4.25, 'cx': 12.0, 'cy': 22.5}
        """
        return {"x": self.x, "y": self.y, "w": self.width, "h": self.height, "area": self.area,
                "peak": round(self.peak, 4), "cx": round(self.centre[0], 1), "cy": round(self.centre[1], 1)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DefectRegion":
        return cls(area=int(data["area"]), x=int(data["x"]), y=int(data["y"]), width=int(data["w"]),
                   height=int(data["h"]), peak=float(data["peak"]),
                   centre=(float(data.get("cx", data["x"])), float(data.get("cy", data["y"]))))

    def area_text(self, pixel_size_mm: Optional[float] = None) -> str:
        return area_text(self.area, pixel_size_mm)

    def describe(self, pixel_size_mm: Optional[float] = None) -> str:
        """One line for people and spreadsheets.

        >>> DefectRegion(120, 34, 50, 20, 12, 31.24, (44.0, 56.0)).describe()
        '120 px at x 34, y 50 (20 x 12 px), peak 31.24'
        """
        return (f"{self.area_text(pixel_size_mm)} at x {self.x}, y {self.y} ({self.width} x {self.height} px), "
                f"peak {self.peak:.2f}")


def area_text(area_px: float, pixel_size_mm: Optional[float] = None) -> str:
    """An area as people read it: pixels, and mm² when the pixel size is known.

    >>> area_text(120), area_text(120, 0.05)
    ('120 px', '0.300 mm² (120 px)')
    """
    pixels = f"{area_px:.0f} px"
    if pixel_size_mm:
        return f"{area_px * pixel_size_mm ** 2:.3f} mm² ({pixels})"
    return pixels


def min_area_px(area_mm2: float, pixel_size_mm: float) -> float:
    """An area entered in mm² as pixels of the image.

    >>> min_area_px(0.1, 0.05)
    40.0
    """
    if not (np.isfinite(pixel_size_mm) and pixel_size_mm > 0):
        raise ValueError(f"the pixel size must be a positive number of millimetres, not {pixel_size_mm}")
    return round(float(area_mm2) / pixel_size_mm ** 2, 6)


def defect_size_text(model: "PatchCoreModel") -> str:
    """The model's minimum defect area as a person reads it.

    >>> from types import SimpleNamespace as Model
    >>> defect_size_text(Model(min_defect_area=40.0, pixel_size_mm=0.05))
    'minimum defect area 0.100 mm² (40 px), pixel size 0.05 mm'
    >>> defect_size_text(Model(min_defect_area=0.0, pixel_size_mm=None))
    'no minimum defect area (every region counts)'
    """
    size = f", pixel size {model.pixel_size_mm:g} mm" if model.pixel_size_mm else ""
    if model.min_defect_area <= 0:
        return "no minimum defect area (every region counts)" + size
    return f"minimum defect area {area_text(model.min_defect_area, model.pixel_size_mm)}" + size


@dataclass(frozen=True)
class DefectRegions:
    """The regions of one part at one threshold, largest first, and where each lies.

    ``labels`` is ``(H, W)`` int32: 0 outside every region, ``k + 1`` inside ``regions[k]``.
    """

    regions: Tuple[DefectRegion, ...]
    labels: np.ndarray

    @property
    def largest_area(self) -> int:
        """Area of the largest region in pixels; 0 when there is none."""
        return largest_area(self.regions)

    @property
    def mask(self) -> np.ndarray:
        """``(H, W)`` bool: inside some region."""
        return self.labels > 0

    def __len__(self) -> int:
        return len(self.regions)


def largest_area(regions: Optional[Sequence[DefectRegion]]) -> int:
    """The largest region's area in pixels, 0 for none.

    >>> largest_area([DefectRegion(3, 0, 0, 1, 3, 1.0, (0.0, 1.0)), DefectRegion(9, 5, 5, 3, 3, 2.0, (6.0, 6.0))])
    9
    """
    return max((region.area for region in regions or ()), default=0)


def find_defect_regions(anomaly_map: np.ndarray, mask: np.ndarray, score_ratio: float) -> DefectRegions:
    """The connected areas of ``mask`` (``(H, W)`` bool, the map above the threshold), measured on ``anomaly_map``.

    ``score_ratio`` turns map values into score units (the model's ``map_scale.ratio``), so a peak
    reads like the threshold. Regions come largest first (ties: higher peak first), labels to match.

    >>> level_map = np.zeros((6, 8), np.float32); level_map[1:3, 1:4] = 2.0; level_map[4, 6] = 3.0
    >>> found = find_defect_regions(level_map, level_map > 1.0, 1.0)
    >>> [(r.area, r.x, r.y, r.width, r.height, r.peak) for r in found.regions]
    [(6, 1, 1, 3, 2, 2.0), (1, 6, 4, 1, 1, 3.0)]
    """
    if not mask.any():
        return DefectRegions((), np.zeros(mask.shape, np.int32))
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8,
                                                                       ltype=cv2.CV_32S)
    ratio = float(score_ratio) if score_ratio > 0 else 1.0
    found: List[Tuple[DefectRegion, int]] = []
    for label in range(1, count):
        x, y, width, height, area = (int(v) for v in stats[label])
        box = (slice(y, y + height), slice(x, x + width))
        peak = float(anomaly_map[box][labels[box] == label].max()) / ratio
        centre = (float(centroids[label][0]), float(centroids[label][1]))
        found.append((DefectRegion(area, x, y, width, height, peak, centre), label))
    found.sort(key=lambda pair: (-pair[0].area, -pair[0].peak, pair[0].y, pair[0].x))
    renumber = np.zeros(count, np.int32)
    for rank, (_, label) in enumerate(found, start=1):
        renumber[label] = rank
    return DefectRegions(tuple(region for region, _ in found), renumber[labels])


def regions_to_json(regions: Optional[Iterable[DefectRegion]]) -> Optional[List[Dict[str, Any]]]:
    """For the record's ``regions`` column: a list of :meth:`DefectRegion.to_dict`, or None (not measured)."""
    return None if regions is None else [region.to_dict() for region in regions]


def regions_from_json(data: Optional[Iterable[Mapping[str, Any]]]) -> Optional[Tuple[DefectRegion, ...]]:
    return None if data is None else tuple(DefectRegion.from_dict(item) for item in data)


def regions_summary(regions: Optional[Sequence[DefectRegion]], pixel_size_mm: Optional[float] = None) -> str:
    """A short phrase: how many regions and the largest one.

    >>> regions_summary([DefectRegion(120, 0, 0, 12, 10, 3.0, (6.0, 5.0))]), regions_summary([]), regions_summary(None)
    ('1 region, largest 120 px', 'no region', '-')
    """
    if regions is None:
        return "-"
    if not regions:
        return "no region"
    plural = "region" if len(regions) == 1 else "regions"
    return f"{len(regions)} {plural}, largest {area_text(largest_area(regions), pixel_size_mm)}"
