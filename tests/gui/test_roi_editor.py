"""The region of interest in the window: draw, exclude, erase, undo, apply; the part's score follows."""

from dataclasses import replace

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from patchcore_gui.core.images import read_image
from patchcore_gui.core.patchcore import Inspector
from patchcore_gui.core.roi import RegionOfInterest
from patchcore_gui.core.synthetic import write_png
from patchcore_gui.gui.roi_editor import EXCLUDE, INCLUDE, JOB, MaskCanvas, inspected_from_marks

from .conftest import JOB_TIMEOUT_MS, inspect_and_wait

#: The stain sits at x 46..66; 80 px from it on (its reach on these parts, tests/core/test_roi.py) is inspected.
RIGHT_FROM = 146


def _stained(image: np.ndarray) -> np.ndarray:
    out = image.copy()
    cv2.circle(out, (56, 56), 10, (60, 45, 30), -1)
    return out


@pytest.fixture(scope="module")
def stained_part(fitted, backbone, synthetic_set, tmp_path_factory):
    """A good part that passes when only its right side is inspected, with a stain on its left."""
    right = np.zeros((192, 192), bool)
    right[:, RIGHT_FROM:] = True
    masked = fitted.model.with_region_of_interest(RegionOfInterest.from_pixels(right))
    inspector = Inspector(masked, backbone=backbone)
    scores = [result.inspection.score for result in inspector.inspect_paths(synthetic_set.test_good)]
    best = synthetic_set.test_good[int(np.argmin(scores))]
    assert min(scores) < 0.97 * masked.threshold
    path = tmp_path_factory.mktemp("roi_editor") / "stained.png"
    write_png(path, _stained(read_image(best)))
    return path


def _select(window, path) -> None:
    for row, item in enumerate(window.results.items()):
        if item.path == path:
            window.results_panel.select_row(row)
            return
    raise AssertionError(f"{path} not listed")


def _apply_and_wait(qtbot, window, press) -> None:
    """Press apply, then wait for the region's job and the inspection it starts."""
    with qtbot.waitSignal(window.job_done, timeout=JOB_TIMEOUT_MS,
                          check_params_cb=lambda kind, outcome: kind == "inspect") as blocker:
        press()
    assert blocker.args == ["inspect", "finished"], list(window.messages)[-3:]
    qtbot.wait(200)


def _score(window, path) -> float:
    (score,) = [item.score for item in window.results.items() if item.path == path]
    return score


def test_draw_exclude_undo_and_apply_changes_the_score(qtbot, model_window, stained_part, synthetic_set):
    window = model_window
    inspect_and_wait(qtbot, window, synthetic_set.test_good[:2] + [stained_part])
    _select(window, stained_part)
    before = _score(window, stained_part)
    assert window.document.verdict(before) == "NG"

    editor = window.region_of_interest.open_editor()
    qtbot.addWidget(editor)
    assert editor.canvas.inspected.all() and editor.apply_button.isEnabled()  # (the whole part)
    # exclude the stain's side with a rectangle, as a drag over the view draws it
    qtbot.mouseClick(editor.exclude_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(editor.rectangle_button, Qt.MouseButton.LeftButton)
    editor.finish_rectangle((0.0, 0.0), (float(RIGHT_FROM), 192.0))
    assert not editor.canvas.inspected[:, :RIGHT_FROM].any() and editor.canvas.inspected[:, RIGHT_FROM:].all()
    assert "24% of the part is inspected" in editor.summary.text()
    # a polygon erased in the excluded area, then undone; redo and undo again
    qtbot.mouseClick(editor.erase_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(editor.polygon_button, Qt.MouseButton.LeftButton)
    for x, y in ((10, 10), (60, 10), (60, 60)):
        editor.add_point(x, y)
    editor.close_polygon()
    assert editor.canvas.inspected[15, 50] and not editor.canvas.inspected[50, 15]
    qtbot.mouseClick(editor.undo_button, Qt.MouseButton.LeftButton)
    assert not editor.canvas.inspected[:, :RIGHT_FROM].any()
    qtbot.mouseClick(editor.redo_button, Qt.MouseButton.LeftButton)
    assert editor.canvas.inspected[15, 50]
    qtbot.mouseClick(editor.undo_button, Qt.MouseButton.LeftButton)

    _apply_and_wait(qtbot, window, lambda: qtbot.mouseClick(editor.apply_button, Qt.MouseButton.LeftButton))
    model = window.model
    assert model.roi is not None and model.roi.share == pytest.approx((192 - RIGHT_FROM) / 192)
    assert window.document.dirty
    # what the region did stays in the status bar with the counts, not replaced by them a moment later
    said = window.statusBar().currentMessage()
    assert said.startswith("region of interest: 24% of the part inspected; the ") and "recomputed" in said
    assert ". Inspected again: " in said
    after = _score(window, stained_part)
    assert after < before and window.document.verdict(after) == "OK", (before, after, model.threshold)
    # the part the region was drawn on is still the one shown, inspected again (not the list's first)
    assert window.shown.item.path == stained_part and window.shown.item.score == after
    # the view shows the region on the part: ignored pixels dimmed, inspected ones clear
    layer = window.inspection_panel.view.region_item.image
    assert layer is not None and layer[100, 20, 3] > 0 and layer[100, 170, 3] == 0
    assert "the region" in window.region_panel.status.text()

    # and back to the whole part from the Region page
    _apply_and_wait(qtbot, window, lambda: qtbot.mouseClick(window.region_panel.clear_button,
                                                            Qt.MouseButton.LeftButton))
    assert window.model.roi is None and _score(window, stained_part) == pytest.approx(before, rel=1e-6)
    assert window.inspection_panel.view.region_item.image is None


def test_a_drag_on_the_view_draws_a_rectangle(qtbot, model_window, stained_part):
    window = model_window
    inspect_and_wait(qtbot, window, [stained_part])
    _select(window, stained_part)
    editor = window.region_of_interest.open_editor()
    qtbot.addWidget(editor)
    qtbot.waitExposed(editor)
    editor.view_box.autoRange(padding=0)
    qtbot.wait(100)
    view = editor.view
    # scene positions of image pixels, then the widget's own mouse events
    start, end = (view.mapFromScene(editor.view_box.mapViewToScene(QPointF(x, y))) for x, y in ((20, 20), (100, 120)))
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 6):
        qtbot.mouseMove(view.viewport(), pos=start + (end - start) * (step / 5))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    inspected = editor.canvas.inspected
    assert inspected[60, 60] and not inspected[150, 150] and not inspected[5, 5], inspected.mean()


def test_a_bad_picture_is_one_line_and_a_good_one_applies(qtbot, model_window, tmp_path):
    window = model_window
    grey = tmp_path / "grey.png"
    write_png(grey, np.full((192, 192), 128, np.uint8))
    assert not window.region_of_interest.apply_picture(grey)
    assert window.last_error.startswith("cannot use mask 'grey.png': not black and white")
    wrong = tmp_path / "wrong.png"
    write_png(wrong, np.full((50, 300), 255, np.uint8))
    with qtbot.waitSignal(window.job_done, timeout=JOB_TIMEOUT_MS) as blocker:
        window.region_of_interest.apply_picture(wrong)
    assert blocker.args == [JOB, "failed"] and "it is 300 x 50 pixels but the good parts are 192 x 192" in window.last_error
    assert window.model.roi is None
    half = tmp_path / "half.png"
    picture = np.zeros((192, 192), np.uint8)
    picture[96:] = 255
    write_png(half, picture)
    with qtbot.waitSignal(window.job_done, timeout=JOB_TIMEOUT_MS) as blocker:
        window.region_of_interest.apply_picture(half)
    assert blocker.args == [JOB, "finished"] and window.model.roi.share == 0.5


def test_the_page_says_plainly_what_an_old_model_does_not_recalibrate(window, fitted):
    window.set_model(replace(fitted.model, good_patches=None,
                             roi=RegionOfInterest.from_pixels(np.pad(np.ones((96, 96), bool), 48))))
    assert "no record of its held-out parts" in window.region_panel.status.text()
    assert window.region_panel.clear_button.isEnabled()


def test_marks_include_exclude_and_erase_with_exact_undo(qtbot):
    canvas = MaskCanvas((10, 10))
    canvas.rectangle((2, 2), (8, 8), "include")
    assert canvas.inspected.sum() == 36
    canvas.rectangle((4, 4), (6, 6), "exclude")
    assert canvas.inspected.sum() == 32
    canvas.rectangle((0, 0), (10, 10), "erase")
    assert canvas.inspected.all() and canvas.region() is None
    for expected in (32, 36, 100):
        canvas.undo_stack.undo()
        assert canvas.inspected.sum() == expected
    marks = np.array([[INCLUDE, EXCLUDE]], np.uint8)
    assert inspected_from_marks(marks).tolist() == [[True, False]]
