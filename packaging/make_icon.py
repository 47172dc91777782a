"""Draw the application icon: a grey part on a patch grid with one hot spot (the defect).

    python packaging/make_icon.py        # writes resources/patchcore.png and resources/patchcore.ico

The icon is drawn here rather than taken from anywhere, so its licence is the project's. The PNG is
the window icon (Linux, and the source for other sizes); the ICO (16 to 256 px) is the Windows
executable's icon. Re-running gives the same pixels.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]


def draw_icon(size: int = 256) -> np.ndarray:
    """``(size, size, 4)`` uint8 BGRA: drawn at 4x and reduced, for smooth edges."""
    s = size * 4
    image = np.zeros((s, s, 4), np.uint8)
    navy = (92, 52, 24, 255)
    # background: a rounded square
    radius, margin = s // 6, s // 32
    cv2.rectangle(image, (margin + radius, margin), (s - margin - radius, s - margin), navy, -1)
    cv2.rectangle(image, (margin, margin + radius), (s - margin, s - margin - radius), navy, -1)
    for cx in (margin + radius, s - margin - radius):
        for cy in (margin + radius, s - margin - radius):
            cv2.circle(image, (cx, cy), radius, navy, -1, cv2.LINE_AA)
    # the part: a washer, light grey with a darker rim
    centre = (s // 2, s // 2)
    cv2.circle(image, centre, int(s * 0.36), (200, 200, 196, 255), -1, cv2.LINE_AA)
    cv2.circle(image, centre, int(s * 0.36), (150, 150, 146, 255), s // 64, cv2.LINE_AA)
    cv2.circle(image, centre, int(s * 0.13), navy, -1, cv2.LINE_AA)
    # the patch grid PatchCore compares
    step = s // 8
    for k in range(1, 8):
        cv2.line(image, (k * step, margin * 2), (k * step, s - margin * 2), (255, 200, 120, 90), s // 256, cv2.LINE_AA)
        cv2.line(image, (margin * 2, k * step), (s - margin * 2, k * step), (255, 200, 120, 90), s // 256, cv2.LINE_AA)
    # the anomaly: a hot spot outlined in white, as the window draws it
    spot = (int(s * 0.66), int(s * 0.34))
    heat = np.zeros((s, s), np.float32)
    cv2.circle(heat, spot, int(s * 0.11), 1.0, -1)
    heat = cv2.GaussianBlur(heat, (0, 0), s * 0.04)
    heat /= heat.max()
    colour = np.array([40, 60, 240], np.float32)  # BGR red-orange
    alpha = (heat * 0.85)[..., None]
    inside = image[..., 3:] > 0
    image[..., :3] = np.where(inside, image[..., :3] * (1 - alpha) + colour * alpha, image[..., :3]).astype(np.uint8)
    cv2.circle(image, spot, int(s * 0.12), (255, 255, 255, 255), s // 64, cv2.LINE_AA)
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


def main() -> int:
    RESOURCES.mkdir(exist_ok=True)
    bgra = draw_icon(256)
    cv2.imwrite(str(RESOURCES / "patchcore.png"), bgra)
    rgba = Image.fromarray(cv2.cvtColor(bgra, cv2.COLOR_BGRA2RGBA))
    rgba.save(RESOURCES / "patchcore.ico", sizes=ICO_SIZES)
    print(f"wrote {RESOURCES / 'patchcore.png'} and {RESOURCES / 'patchcore.ico'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
