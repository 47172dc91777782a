"""Heatmap overlays for people: the part, its anomaly map in colour, and the NG regions outlined.

An overlay file must say which part it shows on its own, once copied out of its folder: its name
and its caption carry the part's path relative to the folder the batch came from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, Sequence, Set, Tuple

import cv2
import numpy as np

from .verdict import verdict_of

if TYPE_CHECKING:  # only for annotations: the orchestration imports this module
    from .model import PatchCoreModel
    from .patchcore import Inspection
    from .regions import DefectRegion

#: OpenCV's JET: blue for good, red for defect; the GUI uses the same map so the two agree.
COLOUR_MAP = cv2.COLORMAP_JET
#: Heatmap opacity of every written overlay, whatever the window's slider shows: an exported file is
#: a record and must show its heatmap (at 0 it would have none) and look the same from CLI and window.
OVERLAY_OPACITY = 0.45
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def colourise(anomaly_map: np.ndarray, value_range: Tuple[float, float]) -> np.ndarray:
    """``(H, W)`` float32 -> ``(H, W, 3)`` uint8 RGB, ``value_range`` spanning the whole colour map."""
    low, high = value_range
    scaled = np.clip((anomaly_map - low) / max(high - low, 1e-12), 0.0, 1.0)
    bgr = cv2.applyColorMap((scaled * 255).astype(np.uint8), COLOUR_MAP)
    return bgr[..., ::-1]


def render_overlay(image: np.ndarray, anomaly_map: np.ndarray, value_range: Tuple[float, float],
                   defect_mask: np.ndarray, opacity: float = 0.45, caption: str = "",
                   regions: Sequence["DefectRegion"] = ()) -> np.ndarray:
    """The part with its heatmap blended in, NG regions outlined in white, and an optional caption.

    ``image (H, W, 3) uint8``, ``anomaly_map (H, W)``, ``defect_mask (H, W) bool`` -> ``(H, W, 3) uint8``.
    With ``regions`` (largest first, as lists show them) each of the first few is numbered beside its outline.
    """
    heat = colourise(anomaly_map, value_range)
    blended = cv2.addWeighted(image, 1.0 - opacity, heat, opacity, 0.0)
    contours, _ = cv2.findContours(defect_mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    thickness = max(1, round(min(image.shape[:2]) / 256))
    cv2.drawContours(blended, contours, -1, (255, 255, 255), thickness)
    if len(regions) > 1:
        _number_regions(blended, regions)
    if caption:
        _draw_caption(blended, caption)
    return blended


#: Regions numbered on an overlay: the first ones of the list (largest first); more would hide the part.
NUMBERED_REGIONS = 9


def _number_regions(canvas: np.ndarray, regions: Sequence["DefectRegion"]) -> None:
    """The number of each of the first regions, white on black, just outside the top-left of its box."""
    scale = max(0.35, min(canvas.shape[:2]) / 700)
    for number, region in enumerate(regions[:NUMBERED_REGIONS], start=1):
        (width, height), base = cv2.getTextSize(str(number), _FONT, scale, 1)
        left = int(np.clip(region.x - width - 3, 0, canvas.shape[1] - width - 2))
        top = int(np.clip(region.y - 2, height + 2, canvas.shape[0] - base - 1))
        cv2.rectangle(canvas, (left - 1, top - height - 1), (left + width + 1, top + base), (0, 0, 0), thickness=-1)
        cv2.putText(canvas, str(number), (left, top), _FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)


def fit_caption(caption: str, image_hw: Tuple[int, int]) -> Tuple[str, float]:
    """``(text, font scale)`` that fit ``caption`` across an image of ``image_hw``: shrunk down to a
    legible size, then cut at its start so that its end (verdict, score) is always whole."""
    room, smallest = image_hw[1] - 8, 0.35
    scale = max(0.4, min(image_hw) / 500)
    width = cv2.getTextSize(caption, _FONT, scale, 1)[0][0]
    if width > room:  # text width is not quite proportional to the scale: step down until it fits
        scale = max(smallest, scale * room / width)
        while cv2.getTextSize(caption, _FONT, scale, 1)[0][0] > room and scale > smallest:
            scale = max(smallest, scale * 0.97)
    text = caption
    while cv2.getTextSize(text, _FONT, scale, 1)[0][0] > room and len(text) > 4:
        text = "..." + text[4:]  # Hershey fonts have no ellipsis character
    return text, scale


def _draw_caption(canvas: np.ndarray, caption: str) -> None:
    """White text on a black band at the top."""
    text, scale = fit_caption(caption, canvas.shape[:2])
    (width, height), base = cv2.getTextSize(text, _FONT, scale, 1)
    cv2.rectangle(canvas, (0, 0), (width + 8, height + base + 8), (0, 0, 0), thickness=-1)
    cv2.putText(canvas, text, (4, height + 4), _FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)


def encode_png(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise ValueError("cannot encode the overlay as PNG")
    return data.tobytes()


_MODELS_BAND = object()  # "the model's own review band", told apart from None (no band)


def inspection_overlay(image: np.ndarray, inspection: "Inspection", model: "PatchCoreModel",
                       threshold: Optional[float] = None, opacity: float = OVERLAY_OPACITY,
                       part: str = "", review_from: object = _MODELS_BAND) -> np.ndarray:
    """The overlay a person sees for one inspected part: heatmap, NG outlines (numbered when there are
    several), and a caption with the part's name (``part``, e.g. ``broken_large/000.png``), verdict and score.

    One rendering for the CLI, the demo report and the GUI export, so all three look the same.
    ``threshold`` and ``review_from`` (a number, or None for no review band) default to the model's;
    the outlines are the part's defect regions at the threshold. Outside a region of interest the part
    is dimmed.
    """
    level = model.threshold if threshold is None else threshold
    if model.roi is not None:  # the ignored area at half brightness, as the window dims it
        image = np.where(model.roi.pixels_at(image.shape[:2])[:, :, None], image, image // 2).astype(np.uint8)
    review = model.review_from if review_from is _MODELS_BAND else review_from
    regions = inspection.defect_regions(model, level)
    largest = regions.largest_area if model.min_defect_area > 0 else None
    verdict = verdict_of(inspection.score, level, review, regions.largest_area, model.min_defect_area)  # type: ignore[arg-type]
    caption = overlay_caption(part, inspection.score, level, verdict, largest, model.min_defect_area,
                              review)  # type: ignore[arg-type]
    return render_overlay(image, inspection.anomaly_map, model.map_scale.colour_range(level), regions.mask, opacity,
                          caption=caption, regions=regions.regions)


def overlay_caption(part: str, score: float, threshold: float, verdict: Optional[str] = None,
                    largest_region: Optional[float] = None, min_defect_area: float = 0.0,
                    review_from: Optional[float] = None) -> str:
    """The caption of an overlay: which part, its verdict and its score against the threshold (and the
    review band's start, when the part falls in it), and with a minimum defect area the largest region
    against it (the verdict is the model's, given or by the score).

    >>> overlay_caption("broken_large/000.png", 64.2, 29.87)
    'broken_large/000.png  NG  64.200 (threshold 29.870)'
    >>> overlay_caption("good/003.png", 29.1, 29.87, review_from=28.5)
    'good/003.png  REVIEW  29.100 (review from 28.500, threshold 29.870)'
    >>> overlay_caption("speck/001.png", 31.2, 29.87, "OK", largest_region=12, min_defect_area=40)
    'speck/001.png  OK  31.200 (threshold 29.870, largest region 12 px, min 40 px)'
    """
    verdict = verdict or verdict_of(score, threshold, review_from=review_from, largest_region=largest_region,
                                    min_defect_area=min_defect_area)
    band = f"review from {review_from:.3f}, " if verdict == "REVIEW" and review_from is not None else ""
    size = (f", largest region {largest_region:.0f} px, min {min_defect_area:.0f} px"
            if min_defect_area > 0 and largest_region is not None else "")
    return f"{part + '  ' if part else ''}{verdict}  {score:.3f} ({band}threshold {threshold:.3f}{size})"


@dataclass(frozen=True)
class OverlayTarget:
    """Where one part's overlay goes and what its caption calls the part."""

    part: str  #: the part's path relative to the batch's common folder, "/"-separated: ``broken_large/000.png``
    file: str  #: the overlay's file name: ``broken_large__000_overlay.png``


#: Joins folder names in an overlay's file name: rare in folder names, and "/" cannot be in a file name.
FOLDER_SEPARATOR = "__"


def overlay_targets(paths: Sequence[Path]) -> List[OverlayTarget]:
    """One :class:`OverlayTarget` per path, in order: named after the path relative to the folder
    all of ``paths`` share, folders joined by ``__`` into one flat name.

    Flat rather than mirrored subfolders: the name alone says which part it is wherever the file
    is copied or attached, and one folder of overlays is one list to page through. A name that is
    still taken (``a__b/c.png`` and ``a/b__c.png``) gets a number.

    >>> [t.file for t in overlay_targets([Path("test/good/000.png"), Path("test/crack/000.png")])]
    ['good__000_overlay.png', 'crack__000_overlay.png']
    >>> overlay_targets([Path("cam/part_7.png")])[0]
    OverlayTarget(part='part_7.png', file='part_7_overlay.png')
    """
    relative = _relative_parts(paths)
    taken: Set[str] = set()
    targets = []
    for part in relative:
        stem = FOLDER_SEPARATOR.join(part.split("/")[:-1] + [Path(part).stem])
        name, number = f"{stem}_overlay.png", 2
        while name.casefold() in taken:  # case-insensitive file systems (Windows, macOS) would merge them
            name, number = f"{stem}_overlay_{number}.png", number + 1
        taken.add(name.casefold())
        targets.append(OverlayTarget(part=part, file=name))
    return targets


def _relative_parts(paths: Sequence[Path]) -> List[str]:
    absolute = [Path(os.path.abspath(path)) for path in paths]
    if not absolute:
        return []
    try:
        common = Path(os.path.commonpath([str(path.parent) for path in absolute]))
    except ValueError:  # different drives (Windows): each keeps its own folder
        return [f"{path.parent.name}/{path.name}" if path.parent.name else path.name for path in absolute]
    return [path.relative_to(common).as_posix() for path in absolute]
