"""Overlay files say which part they show: by their name and by the caption drawn into them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from patchcore_gui.core.images import read_image
from patchcore_gui.core.overlay import (OVERLAY_OPACITY, fit_caption, inspection_overlay, overlay_targets,
                                        render_overlay)
from patchcore_gui.core.patchcore import Inspector


def test_parts_that_share_a_file_name_get_overlays_named_after_their_folders(tmp_path):
    folders = ("broken_large", "broken_small", "contamination", "good")
    paths = [tmp_path / "test" / folder / "000.png" for folder in folders]
    targets = overlay_targets(paths)
    assert [t.file for t in targets] == [f"{folder}__000_overlay.png" for folder in folders]
    assert [t.part for t in targets] == [f"{folder}/000.png" for folder in folders]


def test_overlay_names_are_relative_to_the_batch_folder_and_unique(tmp_path):
    # one folder: the plain name; deeper folders join with "__"; a flattened clash gets a number
    assert [t.file for t in overlay_targets([tmp_path / "cam" / "a.png", tmp_path / "cam" / "b.png"])] == [
        "a_overlay.png", "b_overlay.png"]
    deep = overlay_targets([tmp_path / "line" / "x" / "y" / "p.png", tmp_path / "line" / "z.png"])
    assert [(t.part, t.file) for t in deep] == [("x/y/p.png", "x__y__p_overlay.png"), ("z.png", "z_overlay.png")]
    clash = overlay_targets([tmp_path / "a__b" / "c.png", tmp_path / "a" / "b__c.png", tmp_path / "A__B" / "C.png"])
    assert [t.file for t in clash] == ["a__b__c_overlay.png", "a__b__c_overlay_2.png", "A__B__C_overlay_3.png"]
    assert overlay_targets([]) == []


def test_the_caption_names_the_part(fitted, synthetic_set, backbone, monkeypatch):
    from patchcore_gui.core import overlay

    path = synthetic_set.test_defective[0]
    image = read_image(path)
    inspection = Inspector(fitted.model, backbone=backbone).inspect(image)
    drawn = []
    monkeypatch.setattr(overlay, "_draw_caption", lambda canvas, caption: drawn.append(caption))
    inspection_overlay(image, inspection, fitted.model, part=f"{path.parent.name}/{path.name}")
    verdict = fitted.model.verdict(inspection.score)
    assert drawn == [f"{path.parent.name}/{path.name}  {verdict}  {inspection.score:.3f} "
                     f"(threshold {fitted.model.threshold:.3f})"]


def test_a_caption_longer_than_the_image_keeps_its_end():
    caption = "line3/camera_left/2026-11-28/part_000123.png  NG  31.200 (threshold 29.870)"
    text, scale = fit_caption(caption, (512, 512))
    assert text == caption  # fits on a 512-pixel part once shrunk a little
    # shrunk to fit, not shrunk and then cut as well (seen on bottle: "...en_large/000.png  NG ...")
    bottle = "broken_large/000.png  NG  64.311 (threshold 29.870)"
    assert fit_caption(bottle, (512, 512))[0] == bottle
    text, scale = fit_caption(caption, (192, 192))
    # cut at its start only as far as it must be, at the smallest legible size (OpenCV's text widths differ between
    # its versions: 5.1 keeps "...3.png", 4.x and 5.0 "...000123.png")
    width = lambda text: cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0]  # noqa: E731
    assert text.startswith("...") and text.endswith(".png  NG  31.200 (threshold 29.870)") and scale == 0.35
    assert width(text) <= 192 - 8 < width("..." + caption[len(caption) - len(text) + 2:])
    rendered = render_overlay(np.full((192, 192, 3), 90, np.uint8), np.zeros((192, 192), np.float32), (0.0, 1.0),
                              np.zeros((192, 192), bool), 0.0, caption=caption)
    assert (rendered[:12, 150:185] == 255).any()  # the text runs to the right edge, inside the image


def test_written_overlays_show_the_heatmap(fitted, synthetic_set, backbone):
    path = synthetic_set.test_good[0]
    image = read_image(path)
    inspection = Inspector(fitted.model, backbone=backbone).inspect(image)
    overlay = inspection_overlay(image, inspection, fitted.model)
    assert OVERLAY_OPACITY >= 0.3
    assert np.abs(overlay[40:].astype(int) - image[40:]).mean() > 10  # a visible heatmap, not the bare part
