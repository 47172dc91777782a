"""The window driven through its real widgets: build, cancel, drop, calibrate, save, reopen, errors."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from patchcore_gui.core.config import PatchCoreConfig
from patchcore_gui.core.model_file import load_model, save_model
from patchcore_gui.gui.dialogs import BuildRequest, weights_available
from patchcore_gui.gui.main_window import MainWindow
from patchcore_gui.gui.results_model import ResultsTableModel, display_name

from ..core.test_images import NOISE, encoded, png_header, write_twelve_bit

from .conftest import JOB_TIMEOUT_MS, SignalLog, inspect_and_wait, verdicts

SMALL = PatchCoreConfig(coreset_ratio=0.05)


def test_build_runs_in_a_worker_and_the_window_stays_responsive(qtbot, window: MainWindow, few_good: Path):
    ticks = SignalLog()
    timer = QTimer(interval=20)
    timer.timeout.connect(ticks.record)
    timer.start()
    with qtbot.waitSignal(window.job_done, timeout=JOB_TIMEOUT_MS) as blocker:
        assert window.start_build(BuildRequest(few_good, SMALL))
        assert window.busy and window.jobs.progress_bar.isVisible() and window.jobs.cancel_button.isVisible()
        assert not window.commands.build.isEnabled()  # one job at a time
    timer.stop()
    assert blocker.args == ["build", "finished"]
    assert len(ticks.calls) >= 5  # the UI thread kept running its timers while the network worked
    model = window.model
    assert model is not None and model.n_good_images == 6 and window.document.dirty
    assert Path(model.good_folder) == few_good.resolve()
    assert window.side_panel.model_panel.facts["Good images"].text().startswith("6")
    assert any(message.startswith("Built a model from 6 good images in ") and " s; threshold " in message
               for message in window.messages)  # how long it took, beside the estimate the dialog gave
    # one of six held out: the model tab says the threshold rests on too few
    assert "1 held-out good part is too few" in window.side_panel.model_panel.facts["Default threshold"].text()
    assert not window.busy and not window.jobs.progress_bar.isVisible()
    assert window.side_panel.threshold_panel.spin.value() == round(model.threshold, 3)


def test_cancel_keeps_the_previous_model(qtbot, model_window: MainWindow, synthetic_set):
    previous = model_window.model
    with qtbot.waitSignal(model_window.job_done, timeout=JOB_TIMEOUT_MS) as blocker:
        model_window.start_build(BuildRequest(synthetic_set.train_good[0].parent, PatchCoreConfig(coreset_ratio=0.5)))
        qtbot.mouseClick(model_window.jobs.cancel_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["build", "cancelled"]
    assert model_window.model is previous
    assert "previous model" in model_window.messages[-1]


def test_build_errors_are_messages(qtbot, window: MainWindow, tmp_path: Path, few_good: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not window.start_build(BuildRequest(empty, SMALL))
    assert "holds no images" in window.last_error
    (empty / "notes.txt").write_text("only text here")
    assert not window.start_build(BuildRequest(empty, SMALL))
    assert "holds no images" in window.last_error
    assert not window.start_build(BuildRequest(tmp_path / "nowhere", SMALL))
    assert "does not exist" in window.last_error
    data_set = few_good.parent / "data_set"  # a data set's root in the MVTec layout: defects would join the good
    (data_set / "train").mkdir(parents=True)
    shutil.copytree(few_good, data_set / "train" / "good")
    shutil.copytree(few_good, data_set / "test" / "crack")
    assert not window.start_build(BuildRequest(data_set, SMALL))
    assert "is a data set in the MVTec layout" in window.last_error and not window.busy
    for name in ("a.png", "b.png"):
        (empty / name).write_bytes(b"\x89PNG broken")
    with qtbot.waitSignal(window.job_done, timeout=JOB_TIMEOUT_MS) as blocker:
        window.start_build(BuildRequest(empty, SMALL))
    assert blocker.args == ["build", "failed"]
    assert "readable good images" in window.last_error and window.model is None
    single = tmp_path / "single"
    single.mkdir()
    shutil.copy(few_good / sorted(p.name for p in few_good.iterdir())[0], single / "only.png")
    with qtbot.waitSignal(window.job_done, timeout=JOB_TIMEOUT_MS) as blocker:
        window.start_build(BuildRequest(single, SMALL))
    assert blocker.args == ["build", "failed"]
    assert window.last_error == "need at least 2 good images to build a model, got 1" and window.model is None


def test_missing_weights_are_a_message(qtbot, window: MainWindow, few_good: Path):
    if weights_available("wide_resnet50_2"):
        pytest.skip("WideResNet-50-2 weights are on this machine")
    with qtbot.waitSignal(window.job_done, timeout=JOB_TIMEOUT_MS) as blocker:
        window.start_build(BuildRequest(few_good, PatchCoreConfig(backbone="wide_resnet50_2")))
    assert blocker.args == ["build", "failed"]
    assert "no ImageNet weights for wide_resnet50_2" in window.last_error and window.model is None


def _drop(window: MainWindow, paths) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    position = QPointF(window.inspection_panel.view.geometry().center())
    enter = QDragEnterEvent(position, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(position, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)


def test_a_twelve_bit_cameras_part_is_shown_and_judged_as_its_eight_bit_copy(qtbot, window, fitted, synthetic_set,
                                                                             backbone, tmp_path):
    """With a model of a 12-bit camera's parts, the window reads a dropped 16-bit file with 4095 as white:
    the picture is the part, not a black square, and the score is the 8-bit copy's."""
    from dataclasses import replace
    from patchcore_gui.core.images import read_image
    from patchcore_gui.core.patchcore import Inspector

    window.set_model(replace(fitted.model, preprocessing=replace(fitted.model.preprocessing, sample_bits=12)))
    original = synthetic_set.test_defective[0]
    pixels = read_image(original)
    twelve = tmp_path / "part12.png"
    write_twelve_bit(pixels, twelve)
    inspect_and_wait(qtbot, window, [twelve])
    [row] = window.results.items()
    np.testing.assert_array_equal(window.shown.image, pixels)
    assert row.score == pytest.approx(Inspector(fitted.model, backbone=backbone).inspect(pixels).score, rel=1e-6)


def test_dropped_images_and_folders_are_inspected(qtbot, model_window: MainWindow, synthetic_set):
    good_folder = synthetic_set.test_good[0].parent
    with qtbot.waitSignal(model_window.job_done, timeout=JOB_TIMEOUT_MS):
        _drop(model_window, [good_folder] + synthetic_set.test_defective[:2])
    qtbot.waitUntil(lambda: model_window.results.rowCount() == 8)
    items = model_window.results.items()
    assert all(item.score is not None and item.score > 0 for item in items)
    assert model_window.shown.item is items[0]  # the first result is shown at once
    assert model_window.side_panel.verdict_panel.text in ("OK", "NG")
    view = model_window.inspection_panel.view
    assert view.part_item.image is not None and view.heat_item.image is not None
    # the defective parts are NG, the good ones OK, with the model's own threshold
    assert verdicts(model_window)[-2:] == ["NG", "NG"]
    assert verdicts(model_window)[:6].count("OK") >= 5
    # dropping the same files again does not duplicate rows
    model_window.add_inputs(synthetic_set.test_defective[:2])
    assert model_window.results.rowCount() == 8 and not model_window.busy


def test_one_threshold_for_slider_spin_box_line_and_verdicts(qtbot, model_window: MainWindow, synthetic_set):
    inspect_and_wait(qtbot, model_window, synthetic_set.test_good + synthetic_set.test_defective)
    panel = model_window.side_panel.threshold_panel
    scores = np.sort([item.score for item in model_window.results.items()])
    counts_before = model_window.results.counts()
    assert counts_before["NG"] >= 5
    assert model_window.statusBar().currentMessage().startswith(f"Inspected: {counts_before['OK']} OK, ")

    # the number box: above every score, all parts are OK
    panel.spin.setValue(float(scores[-1]) + 0.01)
    assert model_window.results.counts()["NG"] == 0
    assert model_window.statusBar().currentMessage() == ""  # the batch's counts went with the threshold they were at
    assert abs(panel.line.value() - panel.spin.value()) < 1e-9
    assert model_window.model.threshold == panel.spin.value() and model_window.document.dirty
    assert "NG 0" in model_window.side_panel.verdict_panel.counts.text().replace("</b> ", " ").replace("<b>", "")

    # the line: well below every score, all parts are NG and the shown defective part has outlines
    model_window.results_panel.select_row(model_window.results_panel.proxy.rowCount() - 1)
    panel.line.setValue(float(scores[0]) * 0.5)
    assert model_window.results.counts()["NG"] == len(scores)
    assert abs(panel.spin.value() - round(panel.line.value(), 3)) < 1e-6
    assert model_window.side_panel.verdict_panel.text == "NG"
    outlines = model_window.inspection_panel.view.outline_item
    assert outlines.image is not None and outlines.image[..., 3].any()

    # the slider: all the way up is above every score again
    panel.slider.setValue(panel.slider.maximum())
    assert model_window.results.counts()["NG"] == 0
    assert model_window.document.threshold > scores[-1]
    assert model_window.side_panel.verdict_panel.text == "OK"
    assert not outlines.image[..., 3].any()  # nothing above the threshold, no outline

    # the list follows: "NG only" hides everything now, then shows the NG parts after a reset
    model_window.results_panel.ng_only.setChecked(True)
    assert model_window.results_panel.proxy.rowCount() == 0
    panel.reset_button.click()
    assert model_window.model.threshold == model_window.model.default_threshold
    assert model_window.results_panel.proxy.rowCount() == counts_before["NG"]


def test_save_and_reopen_keeps_the_calibrated_threshold(qtbot, model_window: MainWindow, tmp_path: Path, settings):
    model_window.side_panel.threshold_panel.spin.setValue(1.234)
    assert model_window.document.dirty and model_window.isWindowModified()
    path = tmp_path / "line3"
    assert model_window.save_model_to(path)
    assert model_window.document.path == tmp_path / "line3.patchcore" and not model_window.document.dirty
    assert load_model(model_window.document.path).threshold == 1.234

    other = MainWindow(settings=settings)
    other.use_message_boxes = False
    qtbot.addWidget(other)
    assert other.open_model(model_window.document.path)
    assert other.model.threshold == 1.234 and other.side_panel.threshold_panel.spin.value() == 1.234
    assert other.side_panel.model_panel.facts["File"].text().replace("\u200b", "") == "line3.patchcore"
    assert other.side_panel.model_panel.facts["Threshold"].text() == "1.234"
    assert settings.value("folders/model") == str(tmp_path)


def test_saving_over_a_model_file_another_program_changed_asks_first(qtbot, model_window: MainWindow, tmp_path: Path):
    path = tmp_path / "line3.patchcore"
    assert model_window.save_model_to(path)
    asked = []
    model_window._ask_to_overwrite = lambda file: asked.append(file) or False
    model_window.side_panel.threshold_panel.spin.setValue(1.5)
    assert model_window.save_model_interactive() and asked == []  # nobody else wrote it: no question
    tuned = load_model(path).with_threshold(2.5)  # e.g. `patchcore threshold` on the line, meanwhile
    time.sleep(0.01)  # a later modification time even on coarse clocks
    save_model(tuned, path)
    model_window.side_panel.threshold_panel.spin.setValue(1.75)
    assert not model_window.save_model_interactive() and asked == [path]
    assert load_model(path).threshold == 2.5 and model_window.document.dirty  # the other program's change kept
    assert model_window.save_model_to(tmp_path / "copy")  # another file: no question
    model_window._ask_to_overwrite = lambda file: True
    model_window.document.set_model(model_window.model, path, dirty=True)
    save_model(tuned.with_threshold(3.0), path)
    assert model_window.save_model_interactive() and load_model(path).threshold == 1.75


def test_bad_files_are_error_rows_and_messages_not_crashes(qtbot, model_window: MainWindow, synthetic_set,
                                                           tmp_path: Path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    missing = tmp_path / "missing.png"
    inspect_and_wait(qtbot, model_window, [broken, missing, synthetic_set.test_good[0]])
    rows = {item.path.name: item for item in model_window.results.items()}
    assert set(rows) == {"broken.png", "missing.png", synthetic_set.test_good[0].name}
    for name in ("broken.png", "missing.png"):
        assert rows[name].score is None and rows[name].error and rows[name].verdict(1.0) == "ERROR"
    assert model_window.results.counts()["ERROR"] == 2
    # the error row shows its message in the list and in the verdict panel
    source = model_window.results
    row = [i.path.name for i in source.items()].index("broken.png")
    assert source.index(row, ResultsTableModel.FILE).data().splitlines()[1] == rows["broken.png"].error
    model_window.results_panel.select_row(model_window.results_panel.proxy.mapFromSource(source.index(row, 0)).row())
    assert model_window.side_panel.verdict_panel.text == "ERROR"

    assert not model_window.open_model(tmp_path / "broken.png")
    assert "not a PatchCore model" in model_window.last_error and model_window.model is not None


def test_export_results_and_overlays(qtbot, model_window: MainWindow, synthetic_set, tmp_path: Path):
    inspect_and_wait(qtbot, model_window, synthetic_set.test_defective[:2] + [tmp_path / "missing.png"])
    csv_path = tmp_path / "out" / "results.csv"
    assert model_window.export_csv(csv_path)
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("file,score,threshold,verdict") and len(lines) == 4
    assert sum(",NG," in line for line in lines) == 2 and sum(",ERROR," in line for line in lines) == 1
    with qtbot.waitSignal(model_window.job_done, timeout=JOB_TIMEOUT_MS) as blocker:
        assert model_window.export_overlays(tmp_path / "overlays")
    assert blocker.args == ["export", "finished"]
    assert sorted(p.name for p in (tmp_path / "overlays").iterdir()) == sorted(
        f"{p.parent.name}__{p.stem}_overlay.png" for p in synthetic_set.test_defective[:2])


def test_keyboard_moves_through_the_results_and_sorting_works(qtbot, model_window: MainWindow, synthetic_set):
    inspect_and_wait(qtbot, model_window, synthetic_set.test_good[:3] + synthetic_set.test_defective[:2])
    model_window.results_panel.select_row(0)
    first = model_window.shown.item
    qtbot.keyClick(model_window.results_panel.table, Qt.Key.Key_PageDown)
    assert model_window.shown.item is not first
    model_window.commands.previous.trigger()
    assert model_window.shown.item is first
    qtbot.keyClick(model_window.results_panel.table, Qt.Key.Key_Down)
    assert model_window.shown.item is model_window.results.item(1)
    model_window.results_panel.table.sortByColumn(ResultsTableModel.SCORE, Qt.SortOrder.DescendingOrder)
    shown_scores = [model_window.results_panel.proxy.index(r, ResultsTableModel.SCORE).data() for r in range(5)]
    assert shown_scores == sorted(shown_scores, key=float, reverse=True)


def test_window_geometry_and_folders_are_remembered(qtbot, settings, few_good: Path):
    first = MainWindow(settings=settings)
    qtbot.addWidget(first)
    first.resize(640, 480)
    first.settings.remember_folder("good", few_good)
    first.close()
    assert settings.value("window/geometry") is not None
    second = MainWindow(settings=settings)
    qtbot.addWidget(second)
    assert second.size().width() == 640 and second.settings.folder("good") == str(few_good)


def test_unsaved_threshold_asks_before_closing(qtbot, model_window: MainWindow):
    model_window.side_panel.threshold_panel.spin.setValue(2.5)
    asked = []
    model_window._ask_to_save = lambda: asked.append(True) or "cancel"
    model_window.close()
    assert asked and model_window.isVisible()  # cancel keeps the window open
    model_window._ask_to_save = lambda: "discard"
    assert model_window.close()


def test_images_added_before_a_model_wait_for_it(qtbot, window: MainWindow, fitted, synthetic_set):
    window.add_inputs(synthetic_set.test_defective[:2])
    assert window.results.rowCount() == 0 and "wait for a model" in window.messages[-1]
    with qtbot.waitSignal(window.job_done, timeout=JOB_TIMEOUT_MS):
        window.set_model(fitted.model)
    qtbot.waitUntil(lambda: window.results.rowCount() == 2)
    assert verdicts(window) == ["NG", "NG"]


def test_every_kind_of_bad_image_is_a_row_that_names_it(qtbot, model_window: MainWindow, synthetic_set, tmp_path):
    lot = tmp_path / "lot"
    (lot / "folder.jpg").mkdir(parents=True)  # a folder with an image's name is searched, not read
    good = Image.open(synthetic_set.test_good[0]).convert("RGB")
    contents = {"empty.png": b"", "notes.png": b"these are notes, not pixels\n", "huge.png": png_header(20000, 20000),
                "half.png": encoded(NOISE, "PNG")[:2000], "half.jpg": encoded(NOISE, "JPEG")[:1500],
                "folder.jpg/inside.png": encoded(good, "PNG"), "dot.png": encoded(Image.new("RGB", (1, 1)), "PNG"),
                "grey16.png": encoded(Image.fromarray(np.asarray(good.convert("L"), np.uint16) * 257), "PNG"),
                "cmyk.jpg": encoded(good.convert("CMYK"), "JPEG"),
                "anim.gif": encoded(good, "GIF", save_all=True, append_images=[good.rotate(90)])}
    for name, data in contents.items():
        (lot / name).write_bytes(data)
    os.symlink(lot, lot / "folder.jpg" / "loop")
    inspect_and_wait(qtbot, model_window, [lot])
    rows = {display_name(item.path): item for item in model_window.results.items()}
    assert {name: item.error for name, item in rows.items() if item.error} == {
        "lot/empty.png": "cannot read 'empty.png': empty file (0 bytes)",
        "lot/notes.png": "cannot read 'notes.png': not an image (28 bytes; PNG, JPEG, BMP, TIFF, GIF and WebP "
                         "are read)",
        "lot/huge.png": "cannot read 'huge.png': too large (20000 x 20000 pixels; at most 67,108,864 pixels, "
                        "e.g. 8192 x 8192, are read)",
        "lot/half.png": rows["lot/half.png"].error, "lot/half.jpg": rows["lot/half.jpg"].error,
        "folder.jpg/loop": f"'{lot / 'folder.jpg' / 'loop'}' links back to a folder it is inside (a loop); "
                           "not followed"}
    for name in ("half.png", "half.jpg"):
        assert rows[f"lot/{name}"].error.startswith(f"cannot read '{name}': truncated or damaged (")
    assert sorted(name for name, item in rows.items() if item.score is not None) == [
        "folder.jpg/inside.png", "lot/anim.gif", "lot/cmyk.jpg", "lot/dot.png", "lot/grey16.png"]
    assert model_window.results.counts()["ERROR"] == 6 and not model_window.busy


def test_cancel_during_a_batch_keeps_the_rows_so_far_and_the_window_stays_usable(qtbot, model_window: MainWindow,
                                                                                synthetic_set, tmp_path):
    parts = []
    for i in range(40):
        parts.append(tmp_path / f"part_{i:02d}.png")
        shutil.copy(synthetic_set.test_good[i % len(synthetic_set.test_good)], parts[-1])
    with qtbot.waitSignal(model_window.job_done, timeout=JOB_TIMEOUT_MS) as blocker:
        model_window.add_inputs(parts)
        qtbot.waitUntil(lambda: model_window.results.rowCount() > 0, timeout=JOB_TIMEOUT_MS)
        qtbot.mouseClick(model_window.jobs.cancel_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["inspect", "cancelled"]
    kept = model_window.results.rowCount()
    assert 0 < kept < 40 and "images inspected so far are kept" in model_window.messages[-1]
    assert all(item.score is not None for item in model_window.results.items())
    assert not model_window.busy and model_window.commands.build.isEnabled()
    inspect_and_wait(qtbot, model_window, synthetic_set.test_defective[:2])  # the next batch runs as usual
    assert model_window.results.rowCount() == kept + 2 and verdicts(model_window)[-2:] == ["NG", "NG"]


def test_a_save_or_export_that_cannot_write_is_a_message(qtbot, model_window: MainWindow, tmp_path: Path):
    (tmp_path / "file").write_text("a file where a folder should be")
    model_window.document.set_dirty(True)
    assert not model_window.save_model_to(tmp_path / "file" / "line3.patchcore")
    assert model_window.last_error == (f"cannot save the model to '{tmp_path / 'file' / 'line3.patchcore'}': "
                                       f"'{tmp_path / 'file'}' is not a folder")
    assert model_window.document.dirty and model_window.document.path is None
    assert not model_window.export_csv(tmp_path / "file" / "results.csv")
    assert model_window.last_error == (f"cannot write '{tmp_path / 'file' / 'results.csv'}': "
                                       f"'{tmp_path / 'file'}' is not a folder")


def test_the_window_fits_a_short_screen_with_the_history_view_shown(qtbot, model_window):
    window, title_bar = model_window, 30
    screen = window.screen().availableGeometry()
    pages = window.side_panel.pages  # the model's eleven facts scroll: they do not set the window's least height
    assert pages.minimumSizeHint().height() < window.side_panel.model_panel.minimumSizeHint().height()
    # a screen too short for both: the offscreen one is 800 px, a line PC's 768 less its task bar
    window.history.setMinimumHeight(screen.height() - window.minimumSizeHint().height())
    window.history_dock.show()
    qtbot.waitUntil(lambda: window.history_dock.isVisible() and window.history_dock.isFloating())
    assert window.minimumSizeHint().height() + title_bar <= screen.height()
    qtbot.waitUntil(lambda: window.height() + title_bar <= screen.height())
    assert window.history_dock.frameGeometry().bottom() <= screen.bottom()


def test_on_a_line_pcs_screen_the_histogram_shows_its_score_axis_without_scrolling(qtbot, model_window):
    model_window.resize(1366, 740)  # 1366 x 768 less the task bar
    model_window.show()
    qtbot.waitExposed(model_window)
    page = model_window.side_panel.pages.widget(0)
    plot = model_window.side_panel.threshold_panel.plot
    qtbot.waitUntil(lambda: plot.isVisible() and page.viewport().height() > 0)
    bottom = plot.mapTo(page.viewport(), plot.rect().bottomLeft()).y()
    # a plot's own preferred 480 px put the axis 140 px under the fold there
    assert page.verticalScrollBar().value() == 0 and bottom <= page.viewport().height()
    # nor does what is under the verdict scroll where it has its least height (asked its height for its width,
    # it took its preferred one, the plot's 480 px among it, and scrolled beside the page's own scroll bar)
    below = model_window.side_panel.below_the_verdict
    model_window.resize(1366, 600)
    qtbot.waitUntil(lambda: page.verticalScrollBar().maximum() > 0)  # the page scrolls now: the plot's 480 px
    assert below.viewport().height() >= below.widget().minimumSizeHint().height()
    assert below.verticalScrollBar().maximum() == 0
    assert plot.height() >= 150
