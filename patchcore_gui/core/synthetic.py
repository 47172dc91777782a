"""Synthetic parts for the demo and the tests: good discs, and discs with scratches and stains.

A good part is a machined disc with concentric turning marks, a bore and four holes, lit a little
differently each time and placed with a small offset: enough variation that a detector must learn
what good looks like, with defects a person would call defects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

import cv2
import numpy as np

DEFECT_KINDS = ("scratch", "stain")


def good_part(rng: np.random.Generator, size: int = 192) -> np.ndarray:
    """``(size, size, 3)`` uint8 RGB image of a good part."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    centre = size / 2 + rng.uniform(-2, 2, size=2)
    radius = np.hypot(xx - centre[0], yy - centre[1])
    outer, bore = 0.42 * size, 0.12 * size
    brightness = rng.uniform(0.9, 1.1)
    turning = 0.5 + 0.08 * np.sin(radius * 1.3) + 0.04 * np.sin(radius * 0.37 + rng.uniform(0, 6.28))
    image = np.where((radius < outer) & (radius > bore), turning * brightness, 0.12)
    angle0 = rng.uniform(-0.05, 0.05)
    for k in range(4):
        angle = angle0 + k * np.pi / 2
        hole = (centre[0] + 0.28 * size * np.cos(angle), centre[1] + 0.28 * size * np.sin(angle))
        image = np.where(np.hypot(xx - hole[0], yy - hole[1]) < 0.045 * size, 0.15, image)
    image = image + rng.normal(0, 0.015, image.shape)
    grey = np.clip(image * 255, 0, 255).astype(np.uint8)
    return np.stack([grey, grey, (grey * 0.95).astype(np.uint8)], axis=-1)


def add_defect(image: np.ndarray, kind: str, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """A copy of ``image`` with one defect on the disc's face, and its ``(H, W)`` uint8 0/255 mask."""
    size = image.shape[0]
    out = image.copy()
    mask = np.zeros(image.shape[:2], np.uint8)
    angle = rng.uniform(0, 2 * np.pi)
    r = rng.uniform(0.2, 0.36) * size
    cx, cy = int(size / 2 + r * np.cos(angle)), int(size / 2 + r * np.sin(angle))
    if kind == "scratch":
        direction = rng.uniform(0, np.pi)
        length = rng.uniform(0.12, 0.2) * size
        dx, dy = int(length / 2 * np.cos(direction)), int(length / 2 * np.sin(direction))
        cv2.line(mask, (cx - dx, cy - dy), (cx + dx, cy + dy), 255, thickness=max(2, size // 64))
        out[mask > 0] = (235, 235, 225)
    elif kind == "stain":
        axes = (int(rng.uniform(0.03, 0.06) * size), int(rng.uniform(0.02, 0.04) * size))
        cv2.ellipse(mask, (cx, cy), axes, float(np.degrees(angle)), 0, 360, 255, thickness=-1)
        out[mask > 0] = (out[mask > 0] * np.array([0.45, 0.35, 0.25])).astype(np.uint8)
    else:
        raise ValueError(f"unknown defect kind {kind!r} (known: {', '.join(DEFECT_KINDS)})")
    return out, mask


@dataclass(frozen=True)
class SyntheticSet:
    """Where :func:`write_synthetic_set` put the images, in the MVTec layout."""

    root: Path
    train_good: List[Path]
    test_good: List[Path]
    test_defective: List[Path]


def write_png(path: Path, rgb: np.ndarray) -> None:
    """Write an ``(H, W, 3)`` RGB or ``(H, W)`` grey uint8 image as PNG, making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    array = rgb[..., ::-1] if rgb.ndim == 3 else rgb
    ok, encoded = cv2.imencode(".png", array)
    if not ok:
        raise OSError(f"cannot encode {path.name}")
    path.write_bytes(encoded.tobytes())


def write_synthetic_set(root: Path, n_train: int = 24, n_test_good: int = 6, n_test_defective: int = 6,
                        size: int = 192, seed: int = 0) -> SyntheticSet:
    """Write ``root/train/good``, ``root/test/good``, ``root/test/<kind>`` and ``root/ground_truth/<kind>``."""
    rng = np.random.default_rng(seed)
    train = [root / "train" / "good" / f"part_{i:03d}.png" for i in range(n_train)]
    test_good = [root / "test" / "good" / f"part_{i:03d}.png" for i in range(n_test_good)]
    for path in train + test_good:
        write_png(path, good_part(rng, size))
    defective: List[Path] = []
    for i in range(n_test_defective):
        kind = DEFECT_KINDS[i % len(DEFECT_KINDS)]
        image, mask = add_defect(good_part(rng, size), kind, rng)
        path = root / "test" / kind / f"part_{i:03d}.png"
        write_png(path, image)
        write_png(root / "ground_truth" / kind / f"part_{i:03d}_mask.png", mask)
        defective.append(path)
    return SyntheticSet(root=root, train_good=train, test_good=test_good, test_defective=defective)
