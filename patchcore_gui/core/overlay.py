"""Heatmap overlays for people: the part, its anomaly map in colour, and the NG regions outlined."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional, Set, Tuple

import cv2
import numpy as np

from .model import verdict_of

if TYPE_CHECKING:  # only for annotations: the orchestration imports this module
    from .model import PatchCoreModel
    from .patchcore import Inspection

#: OpenCV's JET: blue for good, red for defect; the GUI uses the same map so the two agree.
COLOUR_MAP = cv2.COLORMAP_JET


def colourise(anomaly_map: np.ndarray, value_range: Tuple[float, float]) -> np.ndarray:
    """``(H, W)`` float32 -> ``(H, W, 3)`` uint8 RGB, ``value_range`` spanning the whole colour map."""
    low, high = value_range
    scaled = np.clip((anomaly_map - low) / max(high - low, 1e-12), 0.0, 1.0)
    bgr = cv2.applyColorMap((scaled * 255).astype(np.uint8), COLOUR_MAP)
    return bgr[..., ::-1]


def render_overlay(image: np.ndarray, anomaly_map: np.ndarray, value_range: Tuple[float, float],
                   defect_mask: np.ndarray, opacity: float = 0.45, caption: str = "") -> np.ndarray:
    """The part with its heatmap blended in, NG regions outlined in white, and an optional caption.

    ``image (H, W, 3) uint8``, ``anomaly_map (H, W)``, ``defect_mask (H, W) bool`` -> ``(H, W, 3) uint8``.
    """
    heat = colourise(anomaly_map, value_range)
    blended = cv2.addWeighted(image, 1.0 - opacity, heat, opacity, 0.0)
    contours, _ = cv2.findContours(defect_mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    thickness = max(1, round(min(image.shape[:2]) / 256))
    cv2.drawContours(blended, contours, -1, (255, 255, 255), thickness)
    if caption:
        scale = max(0.4, min(image.shape[:2]) / 500)
        (width, height), base = cv2.getTextSize(caption, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        cv2.rectangle(blended, (0, 0), (width + 8, height + base + 8), (0, 0, 0), thickness=-1)
        cv2.putText(blended, caption, (4, height + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return blended


def encode_png(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise ValueError("cannot encode the overlay as PNG")
    return data.tobytes()


def inspection_overlay(image: np.ndarray, inspection: "Inspection", model: "PatchCoreModel",
                       threshold: Optional[float] = None, opacity: float = 0.45) -> np.ndarray:
    """The overlay a person sees for one inspected part: heatmap, NG outlines, verdict and score.

    One rendering for the CLI, the demo report and the GUI export, so all three look the same.
    ``threshold`` defaults to the model's.
    """
    level = model.threshold if threshold is None else threshold
    verdict = verdict_of(inspection.score, level)
    return render_overlay(image, inspection.anomaly_map, model.map_scale.colour_range(level),
                          inspection.defect_mask(model, level), opacity,
                          caption=f"{verdict}  {inspection.score:.3f} (threshold {level:.3f})")


def overlay_name(path: Path, taken: Set[str]) -> str:
    """``<stem>_overlay.png`` for ``path``, numbered when two inputs from different folders share a stem.

    >>> taken = set()
    >>> overlay_name(Path("good/001.png"), taken), overlay_name(Path("crack/001.png"), taken)
    ('001_overlay.png', '001_overlay_2.png')
    """
    name, number = f"{path.stem}_overlay.png", 2
    while name in taken:
        name, number = f"{path.stem}_overlay_{number}.png", number + 1
    taken.add(name)
    return name
