"""What an operator ran into on a real desktop (issue 16: items 1, 3, 7, 8, 9), each driven through the window."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit

from patchcore_gui.core.config import PatchCoreConfig
from patchcore_gui.gui.dialogs import BuildOptionsDialog, BuildRequest, WriteFolderDialog, weights_available
from patchcore_gui.gui.main_window import MainWindow
from patchcore_gui.gui.results_model import ResultsTableModel
from patchcore_gui.gui.shown_part import NO_MODEL, NO_PART
from patchcore_gui.gui.threshold_panel import CountAxis

from .conftest import JOB_TIMEOUT_MS, inspect_and_wait

SMALL = PatchCoreConfig(coreset_ratio=0.05)


def _caption(window: MainWindow) -> str:
    caption = window.inspection_panel.view.caption
    return caption.textItem.toPlainText() if caption.isVisible() else ""


# --- 1: a file whose content changed is a new part -------------------------------------------------------------
def test_a_file_written_again_is_a_new_part_and_no_result_is_drawn_over_other_content(
        qtbot, model_window: MainWindow, synthetic_set, tmp_path: Path):
    camera = tmp_path / "cam"
    camera.mkdir()
    latest = camera / "latest.bmp"  # uncompressed: every part is a file of the same size

    def camera_writes(part: Path, mtime_ns: int) -> None:
        Image.open(part).convert("RGB").save(latest, "BMP")
        os.utime(latest, ns=(mtime_ns, mtime_ns))

    camera_writes(synthetic_set.test_good[0], 1_700_000_000 * 10**9)
    inspect_and_wait(qtbot, model_window, [latest])
    good_row = model_window.results.item(0)
    assert model_window.shown.item is good_row and model_window.inspection_panel.view.heat_item.image is not None

    camera_writes(synthetic_set.test_defective[0], good_row.fingerprint.mtime_ns + 10**9)  # a broken part
    model_window.results_panel.select_row(0)
    model_window.shown.show(None)
    model_window.shown.show(good_row)  # shown again: the file is read again and found changed
    assert model_window.shown.changed
    assert model_window.inspection_panel.view.heat_item.image is None
    assert model_window.inspection_panel.view.part_item.image is None  # not even the other pixels under the row
    assert "changed on disk" in _caption(model_window)

    inspect_and_wait(qtbot, model_window, [latest])  # added again: inspected as the new part it is
    assert model_window.results.rowCount() == 2
    broken_row = model_window.results.item(1)
    assert broken_row.score > good_row.score and model_window.document.verdict(broken_row.score) == "NG"
    assert model_window.shown.item is broken_row and not model_window.shown.changed
    assert model_window.inspection_panel.view.heat_item.image is not None

    # the same size and modification time, other bytes: only the hash tells, and it does; the file
    # is then known to have changed, so adding it again inspects it
    camera_writes(synthetic_set.test_defective[1], broken_row.fingerprint.mtime_ns)
    assert latest.stat().st_size == broken_row.fingerprint.size
    model_window.shown.show(None)
    model_window.shown.show(broken_row)
    assert model_window.shown.changed and model_window.inspection_panel.view.heat_item.image is None
    inspect_and_wait(qtbot, model_window, [latest])
    assert model_window.results.rowCount() == 3


def test_adding_an_unchanged_file_again_leaves_it_out(qtbot, model_window: MainWindow, synthetic_set):
    inspect_and_wait(qtbot, model_window, synthetic_set.test_good[:2])
    model_window.add_inputs(synthetic_set.test_good[:2])
    assert model_window.results.rowCount() == 2 and not model_window.busy
    assert "2 image(s) already in the list were left out" in model_window.messages[-1]


# --- 3: a build asks before it replaces an unsaved model ----------------------------------------------------------
def test_a_build_asks_before_replacing_an_unsaved_model(qtbot, model_window: MainWindow, few_good: Path):
    model_window.side_panel.threshold_panel.spin.setValue(2.5)
    assert model_window.document.dirty
    unsaved = model_window.model
    asked = []
    model_window._ask_to_save = lambda: asked.append(True) or "cancel"  # type: ignore[method-assign]
    assert not model_window.start_build(BuildRequest(few_good, SMALL))
    assert asked and model_window.model is unsaved and not model_window.busy
    model_window._ask_to_save = lambda: "discard"  # type: ignore[method-assign]
    with qtbot.waitSignal(model_window.job_done, timeout=JOB_TIMEOUT_MS) as blocker:
        assert model_window.start_build(BuildRequest(few_good, SMALL))
    assert blocker.args == ["build", "finished"] and model_window.model is not unsaved
    # a model with nothing unsaved is replaced without a question
    model_window.document.set_dirty(False)
    model_window._ask_to_save = lambda: pytest.fail("asked about a saved model")  # type: ignore[method-assign]
    with qtbot.waitSignal(model_window.job_done, timeout=JOB_TIMEOUT_MS):
        assert model_window.start_build(BuildRequest(few_good, SMALL))
    model_window._ask_to_save = lambda: "discard"  # type: ignore[method-assign]


# --- 8: calibration that reads right ------------------------------------------------------------------------------
def test_colour_bar_is_in_score_units_and_the_histogram_shows_both_sets(qtbot, model_window: MainWindow,
                                                                       synthetic_set):
    inspect_and_wait(qtbot, model_window, synthetic_set.test_defective[:2] + synthetic_set.test_good[:3])
    document, view = model_window.document, model_window.inspection_panel.view
    for threshold in (document.threshold, document.threshold * 2):
        document.set_threshold(threshold)
        low, high = view.colour_bar.levels()
        assert (low + high) / 2 == pytest.approx(threshold)  # the white mark (mid-bar) reads the threshold
    shown = model_window.shown.item
    # the heatmap is in the score's units: the map's peak is of the order of the part's score
    peak = float(np.max(view.heat_item.image))
    assert 0.5 * shown.score < peak < 1.5 * shown.score

    panel = model_window.side_panel.threshold_panel
    good, inspected = panel.good_bars.opts, panel.inspected_bars.opts
    assert len(good["x0"]) and len(inspected["x0"])
    for x0, x1 in zip(good["x0"], good["x1"]):  # the two sets share no x: neither hides the other
        assert not any(a < x1 and x0 < b for a, b in zip(inspected["x0"], inspected["x1"]))
    top = panel.plot.getViewBox().viewRange()[1][1]
    assert top > max(max(good["height"]), max(inspected["height"])) + 0.4  # the top tick is not on the edge

    for low, high in ((0.0, 2.5), (0.0, 4.0), (0.0, 60.0)):
        ticks = [value for _, values in CountAxis("left").tickValues(low, high, 200) for value in values]
        assert ticks and all(float(value).is_integer() for value in ticks)


def test_the_threshold_label_stays_inside_the_plot(qtbot, model_window: MainWindow, synthetic_set):
    model_window.resize(1024, 700)
    inspect_and_wait(qtbot, model_window, synthetic_set.test_good[:3])
    panel = model_window.side_panel.threshold_panel
    box = panel.plot.getViewBox()
    for position in (0, panel.slider.maximum()):  # the line at either end of the range
        panel.slider.setValue(position)
        qtbot.wait(50)
        label = panel.line.label.mapRectToScene(panel.line.label.boundingRect())
        assert box.sceneBoundingRect().adjusted(-2, -2, 2, 2).contains(label)


# --- 7: 1024 x 700 ------------------------------------------------------------------------------------------------
def test_usable_at_1024_by_700_with_a_side_panel_that_folds_away(qtbot, model_window: MainWindow, synthetic_set):
    model_window.resize(1024, 700)
    inspect_and_wait(qtbot, model_window, synthetic_set.test_defective[:1])
    qtbot.wait(100)
    table = model_window.results_panel.table
    name = model_window.results.index(0, ResultsTableModel.FILE).data()
    assert table.columnWidth(ResultsTableModel.FILE) >= table.fontMetrics().horizontalAdvance(name) + 8
    slider = model_window.inspection_panel.opacity_slider
    assert slider.width() >= slider.minimumWidth() > 40
    panel = model_window.side_panel.threshold_panel
    assert not panel.plot.geometry().intersects(panel.legend.geometry())

    sizes = model_window.splitter.sizes()
    model_window.commands.side_panel.trigger()
    folded = model_window.splitter.sizes()
    assert folded[2] == 0 and folded[1] > sizes[1]
    model_window.commands.side_panel.trigger()
    assert model_window.splitter.sizes()[2] >= model_window.side_panel.minimumSizeHint().width()


# --- 9: the smaller ones ------------------------------------------------------------------------------------------
def test_typing_a_threshold_gives_the_keys_back_to_the_window(qtbot, model_window: MainWindow, synthetic_set):
    inspect_and_wait(qtbot, model_window, synthetic_set.test_good[:1])
    model_window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is model_window)
    spin = model_window.side_panel.threshold_panel.spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "3.5")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert model_window.document.threshold == 3.5
    heatmap = model_window.inspection_panel.heatmap_box
    before = heatmap.isChecked()
    qtbot.keyClick(QApplication.focusWidget() or model_window, Qt.Key.Key_H)
    assert heatmap.isChecked() is not before and spin.value() == 3.5


def test_a_new_image_is_shown_and_sorting_keeps_the_selection_in_view(qtbot, model_window: MainWindow, synthetic_set):
    model_window.resize(1024, 500)
    inspect_and_wait(qtbot, model_window, synthetic_set.test_good[:6] + synthetic_set.test_defective[:4])
    model_window.results_panel.select_row(0)
    inspect_and_wait(qtbot, model_window, synthetic_set.test_defective[4:5])
    added = model_window.results.item(model_window.results.rowCount() - 1)
    table = model_window.results_panel.table
    assert model_window.shown.item is added
    assert table.viewport().rect().contains(table.visualRect(table.currentIndex()))

    model_window.results_panel.select_row(0)  # the first (lowest) good part
    shown = model_window.shown.item
    header = table.horizontalHeader()
    x = header.sectionViewportPosition(ResultsTableModel.SCORE) + header.sectionSize(ResultsTableModel.SCORE) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))
    scores = [float(table.model().index(r, ResultsTableModel.SCORE).data()) for r in range(table.model().rowCount())]
    assert scores == sorted(scores, reverse=True)  # the first click puts the highest scores on top
    assert model_window.shown.item is shown
    assert table.viewport().rect().intersects(table.visualRect(table.currentIndex()))


def test_under_ng_only_the_shown_part_stays_when_it_turns_ok(qtbot, model_window: MainWindow, synthetic_set):
    inspect_and_wait(qtbot, model_window, synthetic_set.test_defective[:3])
    panel = model_window.results_panel
    panel.ng_only.setChecked(True)
    assert panel.proxy.rowCount() == 3
    panel.select_row(1)
    shown = model_window.shown.item
    model_window.document.set_threshold(shown.score + 0.001)  # the shown part is OK now
    assert model_window.shown.item is shown and model_window.side_panel.verdict_panel.text == "OK"
    assert shown in [panel.proxy.index(r, 0).data(Qt.ItemDataRole.UserRole + 2) for r in range(panel.proxy.rowCount())]


def test_build_dialog_offers_only_networks_it_can_load_and_keeps_a_bad_folder_open(qtbot, tmp_path: Path):
    dialog = BuildOptionsDialog(str(tmp_path / "nowhere"))
    qtbot.addWidget(dialog)
    combo = dialog.backbone_combo
    assert combo.itemData(0) is None and combo.model().item(0).isEnabled()  # automatic: always a choice
    for index in range(1, combo.count()):
        assert combo.model().item(index).isEnabled() == weights_available(combo.itemData(index))
    assert combo.currentData() is None
    dialog.show()
    (tmp_path / "empty").mkdir()
    for folder, problem in ((tmp_path / "nowhere", "does not exist"), (tmp_path / "empty", "holds no images")):
        dialog.folder_edit.setText(str(folder))
        dialog.accept()
        assert dialog.isVisible() and problem in dialog.problem.text()


def test_cancelling_the_first_build_does_not_speak_of_a_previous_model(qtbot, window: MainWindow, synthetic_set):
    assert _caption(window) == NO_MODEL
    with qtbot.waitSignal(window.job_done, timeout=JOB_TIMEOUT_MS) as blocker:
        window.start_build(BuildRequest(synthetic_set.train_good[0].parent, PatchCoreConfig(coreset_ratio=0.5)))
        window.jobs.cancel()
    assert blocker.args == ["build", "cancelled"]
    assert window.messages[-1] == "Build cancelled"


def test_after_a_model_the_view_asks_for_parts_and_captions_fit(qtbot, model_window: MainWindow, tmp_path: Path,
                                                                synthetic_set):
    assert _caption(model_window) == NO_PART
    broken = tmp_path / ("a_long_file_name_of_a_part_from_line_3" * 2 + ".png")
    broken.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    inspect_and_wait(qtbot, model_window, [broken, synthetic_set.test_good[0]])
    model_window.results_panel.select_row(0)
    view = model_window.inspection_panel.view
    assert "ERROR" in _caption(model_window)
    assert view.caption.mapRectToScene(view.caption.boundingRect()).width() <= view.view_box.width() + 1

    model_window.results_panel.select_row(1)
    height, width = model_window.shown.item.image_size
    for _ in range(30):  # the wheel, turned far out
        view.view_box.scaleBy((1.5, 1.5))
    x_range, y_range = view.view_box.viewRange()
    assert x_range[1] - x_range[0] <= 3 * max(height, width) + 1


def test_the_overlay_folder_picker_makes_a_typed_new_folder(qtbot, tmp_path: Path):
    dialog = WriteFolderDialog(None, "Write overlays into", str(tmp_path))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.findChild(QLineEdit, "fileNameEdit").setText("overlays_line3")
    dialog.accept()
    assert (tmp_path / "overlays_line3").is_dir() and dialog.result() == QDialog.DialogCode.Accepted
    assert Path(dialog.selectedFiles()[0]) == tmp_path / "overlays_line3"
