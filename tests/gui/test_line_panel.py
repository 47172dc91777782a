"""The window's line mode panel under pytest-qt: live parts, counters, NG list, pause, unlock, stop."""

from __future__ import annotations

import shlex
import shutil
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import List, Tuple

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea

from patchcore_gui.core import Inspector, read_image
from patchcore_gui.core.roi import RegionOfInterest
from patchcore_gui.gui.line_panel import LinePanel
from patchcore_gui.gui.line_worker import SHOW_EVERY_S, SHOWN_SIDE, ShownLinePart, picture
from patchcore_gui.gui.results_model import VERDICT_COLOURS, downsize

from ..core.test_images import write_twelve_bit
from ..line.event_writer import EventWriter
from patchcore_gui.line import ArrivalSettings, LineSettings, PartResult, arrival
from patchcore_gui.line.runner import SessionMemory
from patchcore_gui.line.folder_lock import only_line_on
from patchcore_gui.line.shifts import ShiftPlan
from patchcore_gui.record import Decision, InspectionRecord, StoredInspection

# side by side in threads: the workers' start-up would add seconds to each test, and the window's own line
# (tests/gui/test_line_mode.py) runs them
FAST = LineSettings(arrival=ArrivalSettings(settle=0.2, give_up=1.5), processes=False)
TIMEOUT_MS = 60_000


class AuditedMemory(SessionMemory):
    """A recorder that also keeps the audit trail entries it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.changes: List[Tuple[str, float, str]] = []
        self.added = []

    def add(self, result):
        self.added.append(result)
        return super().add(result)

    def newest_parts(self, folder: Path, limit: int):
        """As the store answers it: the newest parts recorded, newest first."""
        return [(r.verdict, r.path, r.time) for r in self.added[::-1][:limit]]

    def record_change(self, kind: str, threshold: float, detail: str = "") -> None:
        self.changes.append((kind, threshold, detail))


@pytest.fixture
def panel(qtbot, settings):
    widget = LinePanel(settings)
    widget.use_message_boxes = False
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    yield widget
    widget.shutdown()


@pytest.fixture
def inspector(fitted, backbone) -> Inspector:
    return Inspector(fitted.model, backbone=backbone)


def drop(source: Path, folder: Path, name: str) -> None:
    shutil.copy(source, folder / f".{name}.part")
    (folder / f".{name}.part").rename(folder / name)


def run_on_a_camera(panel: LinePanel, inspector: Inspector, tmp_path: Path) -> Tuple[Path, AuditedMemory]:
    """The panel's line started on an empty camera folder, recording into memory: (the folder, the memory)."""
    camera = tmp_path / "camera"
    camera.mkdir()
    memory = AuditedMemory()
    panel.start(camera, lambda: inspector, lambda: memory, FAST)
    return camera, memory


def stop_line(qtbot, panel: LinePanel) -> None:
    """Stop the panel's line and wait until it has ended."""
    panel.stop()
    qtbot.waitUntil(lambda: not panel.running, timeout=TIMEOUT_MS)


def wait_for_the_ng_run(qtbot, panel: LinePanel, count: int) -> None:
    """Wait until the NG run's band shows over the newest part, said in the notice line as ``count`` in a row."""
    qtbot.waitUntil(lambda: panel.ng_run_warning.isVisible(), timeout=TIMEOUT_MS)
    assert panel.ng_run_warning.text().startswith("NG parts in a row since ")
    assert panel.ng_run_warning.text().endswith(": look at these parts and at what makes them")
    assert panel.notice_label.text().startswith(f"warning: {count} NG parts in a row since ")


def wait_inspected(qtbot, panel: LinePanel, count: int) -> None:
    qtbot.waitUntil(lambda: panel.last_snapshot is not None and panel.last_snapshot.inspected >= count,
                    timeout=TIMEOUT_MS)


def test_a_running_line_shows_parts_counters_and_the_ng_list(qtbot, panel, inspector, synthetic_set, tmp_path,
                                                             settings):
    camera = tmp_path / "camera"
    camera.mkdir()
    memory = AuditedMemory()
    panel.sorting.setCurrentIndex(panel.sorting.findData("move"))
    with qtbot.waitSignal(panel.running_changed, timeout=5000) as started:
        panel.start(camera, lambda: inspector, lambda: memory, FAST)
    assert started.args == [True]
    assert not panel.run_button.isEnabled() and panel.stop_button.isEnabled() and not panel.sorting.isEnabled()
    for index, source in enumerate(synthetic_set.test_good[:2] + synthetic_set.test_defective[:2]):
        drop(source, camera, f"p{index}.png")
    wait_inspected(qtbot, panel, 4)
    qtbot.waitUntil(lambda: panel.ng_model.rowCount() == 2, timeout=TIMEOUT_MS)
    snapshot = panel.last_snapshot
    assert (snapshot.ok, snapshot.ng, snapshot.errors) == (2, 2, 0)
    assert panel.counter_labels["yield"].text() == "50.0 %"
    assert not panel.ng_model.data(panel.ng_model.index(0), Qt.ItemDataRole.DecorationRole).isNull()
    assert panel.ng_title.text().startswith("NG parts of this shift: 2 (")
    # an NG part's picture is always made; the newest is drawn at most every SHOW_EVERY_S
    qtbot.waitUntil(lambda: panel.verdict_label.text().startswith("NG  p3.png"), timeout=5000)
    assert panel.view.part_item.image is not None and panel.view.heat_item.image is not None
    panel.ng_list.setCurrentIndex(panel.ng_model.index(0))
    assert panel.verdict_label.text().startswith("NG  p2.png")
    assert settings.value("line/folder") == str(camera)
    assert len(list((tmp_path / "camera-sorted").glob("*/NG/*.png"))) == 2

    panel.pause_button.click()
    drop(synthetic_set.test_good[2], camera, "p4.png")
    qtbot.waitUntil(lambda: panel.last_snapshot.backlog == 1, timeout=TIMEOUT_MS)
    assert panel.counter_labels["backlog"].text().startswith("1 (oldest")
    panel.pause_button.click()
    wait_inspected(qtbot, panel, 5)

    with qtbot.waitSignal(panel.running_changed, timeout=TIMEOUT_MS) as stopped:
        panel.stop_button.click()
    assert stopped.args == [False]
    assert panel.run_button.isEnabled() and "Line stopped: inspected 5" in panel.folder_label.text()
    assert [r.path.name for r in memory.added] == [f"p{i}.png" for i in range(5)]
    assert panel.verdict_label.text().startswith(("OK  p4.png", "NG  p2.png"))  # a stopped line's last look stays

    # the next run starts empty: the last run's part is not its newest
    with qtbot.waitSignal(panel.running_changed, timeout=5000):
        panel.start(camera, lambda: inspector, lambda: memory, FAST)
    assert panel.view.part_item.image is None and panel.verdict_label.text() == "—"
    assert panel.view.caption.textItem.toPlainText() == f"Waiting for the first part in {camera}"
    with qtbot.waitSignal(panel.running_changed, timeout=TIMEOUT_MS):
        panel.stop_button.click()


def test_unlocking_is_recorded_and_a_moved_threshold_counts_from_the_next_part(qtbot, panel, inspector,
                                                                              synthetic_set, tmp_path):
    camera, memory = run_on_a_camera(panel, inspector, tmp_path)
    with qtbot.waitSignal(panel.threshold_unlocked, timeout=5000):
        panel.unlock_button.click()
    assert not panel.unlock_button.isEnabled()
    panel.threshold_moved(1e9)  # nothing is NG any more
    drop(synthetic_set.test_defective[0], camera, "d0.png")
    wait_inspected(qtbot, panel, 1)
    stop_line(qtbot, panel)
    assert [kind for kind, _, _ in memory.changes] == ["threshold unlocked"]  # the move is the window's to record
    assert [(r.verdict, r.threshold) for r in memory.added] == [("OK", 1e9)]


def test_a_camera_folder_on_a_network_share_is_listed_and_the_panel_says_so(qtbot, panel, inspector, synthetic_set,
                                                                           tmp_path, monkeypatch):
    """Files another machine writes into a share raise no file events here: the folder is listed instead."""
    monkeypatch.setattr(arrival, "network_file_system", lambda folder, partitions=None: "cifs")
    camera = tmp_path / "camera"
    camera.mkdir()
    memory = AuditedMemory()
    messages = []
    panel.message.connect(messages.append)
    panel.start(camera, lambda: inspector, lambda: memory, FAST)
    # the watch decides how it sees the folder, in the line's thread; the panel shows what it decided
    qtbot.waitUntil(lambda: panel.folder_label.text() == f"Running on {camera} (a network folder, cifs: looked at "
                    "every 1 s)", timeout=TIMEOUT_MS)
    drop(synthetic_set.test_good[0], camera, "p0.png")
    wait_inspected(qtbot, panel, 1)
    assert panel.worker.line.watch.poll_every == arrival.POLL_EVERY_S
    assert any(text.startswith(f"{camera} is looked at every 1 s: it is on a network file system (cifs)")
               for text in messages)
    stop_line(qtbot, panel)
    assert [r.path.name for r in memory.added] == ["p0.png"]


def test_a_camera_folder_that_goes_away_is_shown_until_it_is_back(qtbot, panel, inspector, synthetic_set, tmp_path,
                                                                  monkeypatch):
    camera, memory = run_on_a_camera(panel, inspector, tmp_path)
    drop(synthetic_set.test_good[0], camera, "p0.png")
    wait_inspected(qtbot, panel, 1)
    assert panel.folder_warning.isHidden() and panel.folder_label.text() == f"Running on {camera}"
    shutil.rmtree(camera)
    qtbot.waitUntil(lambda: panel.folder_warning.isVisible(), timeout=10_000)
    assert panel.folder_warning.text().startswith(f"The camera folder {camera} is gone: no part can arrive.")
    assert panel.notice_label.text() == f"the camera folder {camera} is gone: the line waits for it to come back"
    # it comes back as a share mounted there: listed from then on, and the folder line says so
    monkeypatch.setattr(arrival, "network_file_system", lambda folder, partitions=None: "nfs4")
    camera.mkdir()
    drop(synthetic_set.test_good[1], camera, "p1.png")
    wait_inspected(qtbot, panel, 2)
    qtbot.waitUntil(lambda: panel.folder_warning.isHidden(), timeout=10_000)
    qtbot.waitUntil(lambda: panel.folder_label.text() == f"Running on {camera} (a network folder, nfs4: looked at "
                    "every 1 s)", timeout=10_000)
    assert panel.notice_label.text()
    stop_line(qtbot, panel)
    assert panel.notice_label.text() == ""  # a stopped line's notices are not left standing as if it ran
    assert [r.path.name for r in memory.added] == ["p0.png", "p1.png"]
    threshold = inspector.model.threshold
    assert memory.changes == [("camera folder gone", threshold, str(camera)), ("camera folder back", threshold,
                                                                               str(camera))]


def test_subfolders_too_inspects_the_parts_a_camera_writes_into_a_new_folder(qtbot, panel, inspector, synthetic_set,
                                                                           tmp_path, settings):
    camera = tmp_path / "camera"
    camera.mkdir()
    memory = AuditedMemory()
    panel.subfolders.setChecked(True)
    panel.start(camera, lambda: inspector, lambda: memory, FAST)
    assert not panel.subfolders.isEnabled()
    assert panel.folder_label.text() == f"Running on {camera} and its subfolders"
    (camera / "2026-11-30").mkdir()
    drop(synthetic_set.test_good[0], camera / "2026-11-30", "p0.png")
    wait_inspected(qtbot, panel, 1)
    stop_line(qtbot, panel)
    assert [r.path for r in memory.added] == [camera / "2026-11-30" / "p0.png"]
    assert str(settings.value("line/subfolders")).lower() == "true" and panel.subfolders.isEnabled()


def test_a_line_on_a_missing_folder_says_so(qtbot, panel, inspector, tmp_path):
    messages = []
    panel.message.connect(messages.append)
    with qtbot.waitSignal(panel.running_changed, timeout=TIMEOUT_MS, check_params_cb=lambda running: not running):
        panel.start(tmp_path / "gone", lambda: inspector, lambda: None, FAST)
    assert messages[-1] == f"Line stopped: folder '{tmp_path / 'gone'}' does not exist or is not a folder"


def test_a_review_band_given_while_the_line_runs_sends_doubtful_parts_to_review_and_counts_them(
        qtbot, panel, inspector, synthetic_set, tmp_path):
    camera, memory = run_on_a_camera(panel, inspector, tmp_path)
    with qtbot.waitSignal(panel.threshold_unlocked, timeout=5000):
        panel.unlock_button.click()
    panel.threshold_moved(1e9, review_from=0.0)  # every readable part is now for a person to look at
    drop(synthetic_set.test_defective[0], camera, "d0.png")
    wait_inspected(qtbot, panel, 1)
    qtbot.waitUntil(lambda: panel.counter_labels["review"].text() == "1", timeout=TIMEOUT_MS)
    stop_line(qtbot, panel)
    assert [(r.verdict, r.review_from) for r in memory.added] == [("REVIEW", 0.0)]
    assert panel.verdict_label.text().startswith("REVIEW") and "#8e44ad" in panel.verdict_label.styleSheet()
    # listed for a person beside the NG parts, and said to be one
    assert panel.ng_model.data(panel.ng_model.index(0)) == "d0.png\nREVIEW"
    assert not panel.ng_model.data(panel.ng_model.index(0), Qt.ItemDataRole.DecorationRole).isNull()  # its picture
    assert panel.ng_title.text().startswith("NG and REVIEW parts of this shift: 0 NG, 1 REVIEW (")
    # a person's decision (History's, or the list's menu) marks its row: the list says what is still waiting
    [result] = memory.added
    recorded = StoredInspection(7, "line", InspectionRecord(result.time, str(result.path.absolute()), 1, "0" * 64,
                                                            "1" * 64, "model", 1e9, 0.5, "REVIEW", None, 3.0))
    decision = Decision(1, datetime(2026, 12, 2, 8, 1, tzinfo=timezone.utc), "line", "OK", "A. Meyer", "dust")
    panel.part_decided(replace(recorded, record=replace(recorded.record, image_path=str(tmp_path / "gone.png"))),
                       decision)  # another part: nothing listed changes
    assert panel.ng_model.data(panel.ng_model.index(0)) == "d0.png\nREVIEW"
    panel.part_decided(recorded, decision)
    index = panel.ng_model.index(0)
    assert panel.ng_model.data(index) == "d0.png\ndecided OK"
    assert panel.ng_model.data(index, Qt.ItemDataRole.ToolTipRole).endswith(f"\ndecided {decision.said()}")
    assert panel.ng_model.data(index, Qt.ItemDataRole.ForegroundRole) == VERDICT_COLOURS["OK"]
    assert panel.ng_title.text().startswith("NG and REVIEW parts of this shift: 0 NG, 1 REVIEW (0 undecided) (")
    panel.part_decided(recorded, replace(decision, verdict="NG"))  # decided again: the newest counts, once
    assert panel.ng_model.data(index) == "d0.png\ndecided NG" and "(0 undecided)" in panel.ng_title.text()


def test_a_model_with_a_region_of_interest_shows_the_ignored_area_on_the_newest_part(
        qtbot, panel, fitted, backbone, synthetic_set, tmp_path):
    top = np.zeros((64, 64), bool)  # any size: the region is scaled to each part
    top[: top.shape[0] // 2] = True
    roi_inspector = Inspector(fitted.model.with_region_of_interest(RegionOfInterest.from_pixels(top)),
                              backbone=backbone)
    camera = tmp_path / "camera"
    camera.mkdir()
    panel.start(camera, lambda: roi_inspector, lambda: None, FAST)
    drop(synthetic_set.test_defective[0], camera, "d0.png")
    wait_inspected(qtbot, panel, 1)
    qtbot.waitUntil(lambda: panel.newest is not None, timeout=TIMEOUT_MS)
    assert panel.newest.region is not None and panel.view.region_item.image is not None


def test_parts_faster_than_the_eye_are_drawn_at_most_every_interval_and_the_newest_is_drawn_last(qtbot, panel,
                                                                                                  monkeypatch):
    drawn: List[str] = []
    monkeypatch.setattr(panel, "_show", lambda shown: drawn.append(shown.result.path.name))
    picture = np.zeros((8, 8, 3), np.uint8)
    for index in range(20):  # 20 NG parts at once, each with its picture
        result = PartResult(Path(f"p{index}.png"), datetime.now(timezone.utc), "NG", 9.0, 1.0, None, 50.0, 10, "x",
                            0.0)
        panel._part_done(ShownLinePart(result, image=picture, thumbnail=b""))
    assert drawn == ["p0.png"] and panel.ng_model.total == 20  # every one listed, one drawn
    qtbot.waitUntil(lambda: len(drawn) == 2, timeout=5000)
    assert drawn[-1] == "p19.png"
    qtbot.wait(int(2000 * SHOW_EVERY_S))
    assert len(drawn) == 2  # nothing newer came: nothing drawn again


def test_an_ng_part_the_line_already_read_is_drawn_without_reading_it_again(inspector, synthetic_set, tmp_path):
    source = synthetic_set.test_defective[0]
    image = read_image(source)
    inspection = inspector.inspect(image)
    result = PartResult(tmp_path / "gone.png", datetime.now(timezone.utc), "NG", inspection.score,
                        inspector.model.threshold, None, 50.0, 1, "x", 0.0, inspection=inspection, pixels=image)
    shown = picture(result, inspector.model, thumbnail=True)  # its file does not exist: the pixels serve
    assert shown.image is not None and shown.image.shape[:2] == image.shape[:2] and shown.thumbnail
    assert shown.anomaly_map is not None and shown.defect_mask is not None
    assert picture(replace(result, pixels=None), inspector.model, thumbnail=True).image is None


def test_a_twelve_bit_cameras_part_is_drawn_bright_with_its_models_depth(inspector, synthetic_set, tmp_path):
    pixels = read_image(synthetic_set.test_defective[0])
    source = tmp_path / "part12.png"
    write_twelve_bit(pixels, source)
    inspection = inspector.inspect(pixels)
    twelve_bit = replace(inspector.model, preprocessing=replace(inspector.model.preprocessing, sample_bits=12))
    result = PartResult(source, datetime.now(timezone.utc), "NG", inspection.score, twelve_bit.threshold, None,
                        50.0, 1, "x", 0.0, inspection=inspection)
    shown = picture(result, twelve_bit, thumbnail=False)
    assert shown.image is not None and abs(shown.image.astype(int).mean() - downsize(pixels, SHOWN_SIDE).mean()) < 1


def test_a_long_folder_line_wraps_instead_of_widening_the_panel_past_a_small_screen(qtbot, panel):
    panel.folder_label.setText("Running on /mnt/camera and its subfolders (a network folder, cifs: looked at every "
                               "1 s); sorted into " + "/srv/inspection/line-3/station-2" * 6)
    qtbot.wait(50)  # the layout takes the new text in on its next request
    assert panel.minimumSizeHint().width() < 1000  # a 1366 px line PC screen, with the window's frame


def test_on_a_short_screen_the_settings_and_counters_scroll_and_are_never_cut_off_sideways(qtbot, panel):
    column = panel.counter_labels["inspected"].parentWidget()
    scroll = column.parentWidget().parentWidget()  # the scroll area's viewport holds the column
    assert isinstance(scroll, QScrollArea) and panel.minimumSizeHint().height() < column.minimumSizeHint().height()
    panel.resize(1300, 300)  # the column takes a quarter of the tab's width, less than its rows
    qtbot.waitUntil(lambda: scroll.verticalScrollBar().maximum() > 0)
    assert scroll.viewport().height() < column.minimumSizeHint().height() <= column.height()
    assert scroll.viewport().width() >= column.minimumSizeHint().width()  # the counts at the column's right edge
    assert scroll.horizontalScrollBar().maximum() == 0
    # where the settings and counters fit, the NG parts' list takes what is left, however many NG parts it could
    # show: the column does not scroll (asked its height at a width for the notice's wrapped line, as a running
    # line always has one, it answered with the list's preferred 192 px and scrolled)
    panel.notice_label.setText("2 inspection processes ready (loading the model into them took 4.8 s)")
    panel.resize(1300, panel.height() - scroll.viewport().height() + column.minimumSizeHint().height() + 30)
    qtbot.waitUntil(lambda: scroll.viewport().height() >= column.minimumSizeHint().height())
    qtbot.wait(50)
    assert scroll.verticalScrollBar().maximum() == 0 and panel.ng_list.height() < panel.ng_list.sizeHint().height()


def test_a_new_shift_starts_the_counters_and_the_ng_parts_again_and_the_line_goes_on(qtbot, panel, inspector,
                                                                                      synthetic_set, tmp_path,
                                                                                      settings):
    camera = tmp_path / "camera"
    camera.mkdir()
    messages: List[str] = []
    panel.message.connect(messages.append)
    panel.shifts_edit.setText("06:00 14:30 2200")
    assert panel.shifts_edit.styleSheet() and "'2200' is not a time of day" in panel.shifts_edit.toolTip()
    assert panel.start(camera, lambda: inspector, lambda: SessionMemory(), FAST) is False
    assert not panel.running and messages[-1] == ("Cannot run the line: '2200' is not a time of day for a shift "
                                                  "to start (write it as 06:00)")
    panel.shifts_edit.setText("22:00 06:00 14:30")
    assert not panel.shifts_edit.styleSheet()
    assert panel.start(camera, lambda: inspector, lambda: SessionMemory(), FAST)
    assert settings.value("line/shifts") == "06:00 14:30 22:00" and not panel.shifts_edit.isEnabled()
    started = ShiftPlan.parse("06:00 14:30 22:00").start_of(datetime.now().astimezone())
    qtbot.waitUntil(lambda: panel.shift_label.text().startswith("Shift since "), timeout=TIMEOUT_MS)
    assert panel.shift_label.text() in (f"Shift since {started:%H:%M}", f"Shift since {started:%Y-%m-%d %H:%M}")
    drop(synthetic_set.test_defective[0], camera, "p0.png")
    wait_inspected(qtbot, panel, 1)
    qtbot.waitUntil(lambda: panel.ng_model.rowCount() == 1, timeout=TIMEOUT_MS)
    asked = datetime.now()
    panel.new_shift_button.click()
    qtbot.waitUntil(lambda: panel.ng_model.rowCount() == 0, timeout=TIMEOUT_MS)
    assert panel.last_snapshot.inspected == 0 and panel.ng_title.text().startswith("NG parts of this shift: 0")
    assert any(text.startswith(f"The shift since {started:%H:%M} ended: inspected 1: OK 0, NG 1") or
               text.startswith(f"The shift since {started:%Y-%m-%d %H:%M} ended: inspected 1") for text in messages)
    assert panel.shift_label.text() in (f"Shift since {asked:%H:%M}", f"Shift since {datetime.now():%H:%M}")
    drop(synthetic_set.test_good[0], camera, "p1.png")  # the line went on
    wait_inspected(qtbot, panel, 1)
    stop_line(qtbot, panel)


class ShiftRecord(SessionMemory):
    """A record that holds parts of this shift from before the line started (a restart within the shift)."""

    def verdicts_since(self, since):
        self.since = since
        return {"OK": 5, "NG": 2, "REVIEW": 0, "ERROR": 0}


def test_a_restart_within_a_shift_counts_its_earlier_parts_and_says_its_ng_parts_are_in_the_record(
        qtbot, panel, inspector, synthetic_set, tmp_path):
    camera = tmp_path / "camera"
    camera.mkdir()
    record = ShiftRecord()
    panel.shifts_edit.setText("00:00")
    assert panel.start(camera, lambda: inspector, lambda: record, FAST)
    drop(synthetic_set.test_defective[0], camera, "p0.png")
    qtbot.waitUntil(lambda: panel.ng_model.total == 1 and panel.last_snapshot.ng == 3, timeout=TIMEOUT_MS)
    assert record.since == ShiftPlan.parse("00:00").start_of(datetime.now().astimezone())
    assert panel.counter_labels["inspected"].text() == "8"
    qtbot.waitUntil(lambda: panel.ng_title.text() == ("NG parts of this shift: 3; 2 of them before this start, in "
                                                      "the record (View > History) (click one to look again, right-click for more)"),
                    timeout=TIMEOUT_MS)
    stop_line(qtbot, panel)


def test_a_folder_another_line_inspects_is_refused_in_one_line(qtbot, panel, inspector, tmp_path):
    """The line PC's service already watches it: two lines would inspect, record and sort every part twice."""
    camera = tmp_path / "camera"
    camera.mkdir()
    messages: List[str] = []
    panel.message.connect(messages.append)
    with only_line_on(camera):
        panel.start(camera, lambda: inspector, lambda: SessionMemory(), FAST)
        qtbot.waitUntil(lambda: not panel.running, timeout=TIMEOUT_MS)
    assert messages[-1].startswith(f"Line stopped: another line already inspects {camera} (process ")
    assert panel.run_button.isEnabled()


def test_a_sort_folder_that_is_a_file_stops_the_line_at_its_start_in_one_line(qtbot, panel, inspector, tmp_path):
    camera = tmp_path / "camera"
    camera.mkdir()
    panel.sort_root(camera).write_text("a file where the sorted parts would go")
    panel.sorting.setCurrentIndex(panel.sorting.findData("copy"))
    messages: List[str] = []
    panel.message.connect(messages.append)
    panel.start(camera, lambda: inspector, lambda: SessionMemory(), FAST)
    qtbot.waitUntil(lambda: not panel.running, timeout=TIMEOUT_MS)
    assert messages[-1] == (f"Line stopped: the sorted images cannot go into {panel.sort_root(camera)}: it is a file, "
                            "not a folder")


def test_parts_unlike_the_good_parts_are_shown_over_the_newest_part_until_they_look_like_them(
        qtbot, panel, inspector, synthetic_set, tmp_path):
    from PIL import Image

    from patchcore_gui.line.unlike_parts import UNLIKE_IN_A_ROW

    camera, memory = run_on_a_camera(panel, inspector, tmp_path)
    rng = np.random.default_rng(1)
    for index in range(UNLIKE_IN_A_ROW):  # another product: fine texture, the parts' size
        other = tmp_path / f"other{index}.png"
        Image.fromarray(rng.integers(0, 256, (192, 192, 3), dtype=np.uint8)).save(other)
        drop(other, camera, f"p{index}.png")
    qtbot.waitUntil(lambda: panel.unlike_warning.isVisible(), timeout=TIMEOUT_MS)
    assert panel.unlike_warning.text().startswith("Parts in a row since ")
    assert panel.ng_run_warning.isHidden()  # NG in a row as well, but this band says why
    assert panel.unlike_warning.text().endswith("is it the model for these parts, and is the camera as it was?")
    drop(synthetic_set.test_good[0], camera, "good.png")
    qtbot.waitUntil(lambda: panel.unlike_warning.isHidden(), timeout=TIMEOUT_MS)
    stop_line(qtbot, panel)
    assert [kind for kind, _, _ in memory.changes if "good parts" in kind] == [
        "parts unlike the good parts", "parts like the good parts again"]


def test_ng_parts_in_a_row_are_warned_of_over_the_newest_part_until_an_ok_part(qtbot, panel, inspector, synthetic_set,
                                                                              tmp_path, settings):
    panel.ng_in_a_row.setValue(2)
    plant = EventWriter(tmp_path / "plant")  # the plant's program is told of it all, OK parts too
    panel.signal_setting.edit.setText(shlex.join(plant.command))
    panel.signal_setting.ok_parts.setChecked(True)
    camera, memory = run_on_a_camera(panel, inspector, tmp_path)
    assert not panel.ng_in_a_row.isEnabled() and settings.value("line/ng_in_a_row") in (2, "2")
    assert not panel.signal_setting.isEnabled()
    drop(synthetic_set.test_defective[0], camera, "p0.png")
    wait_inspected(qtbot, panel, 1)
    assert panel.ng_run_warning.isHidden()
    drop(synthetic_set.test_defective[1], camera, "p1.png")
    wait_for_the_ng_run(qtbot, panel, 2)
    drop(synthetic_set.test_good[0], camera, "p2.png")
    qtbot.waitUntil(lambda: panel.ng_run_warning.isHidden(), timeout=TIMEOUT_MS)
    stop_line(qtbot, panel)
    assert panel.ng_in_a_row.isEnabled()
    assert [kind for kind, _, _ in memory.changes if "in a row" in kind] == [
        "NG parts in a row", "an OK part after NG parts in a row"]
    assert plant.names() == ["line-started", "ng", "ng-parts-in-a-row", "ng", "an-ok-part-after-ng-parts-in-a-row",
                             "ok", "line-stopped"]
    assert panel.signal_setting.isEnabled()
    next_start = LinePanel(settings)
    qtbot.addWidget(next_start)
    assert next_start.ng_in_a_row.value() == 2  # remembered
    assert next_start.signal_setting.edit.text() == shlex.join(plant.command)
    assert next_start.signal_setting.ok_parts.isChecked() and not next_start.signal_setting.held_open.isChecked()


def test_a_line_started_again_in_a_run_of_ng_parts_shows_it_at_once_and_tells_the_plant_again(
        qtbot, panel, inspector, synthetic_set, tmp_path):
    panel.ng_in_a_row.setValue(2)
    plant = EventWriter(tmp_path / "plant")
    panel.signal_setting.edit.setText(shlex.join(plant.command))
    camera, memory = run_on_a_camera(panel, inspector, tmp_path)
    for index in range(2):
        drop(synthetic_set.test_defective[index], camera, f"p{index}.png")
    qtbot.waitUntil(lambda: panel.ng_run_warning.isVisible(), timeout=TIMEOUT_MS)
    stop_line(qtbot, panel)
    panel.start(camera, lambda: inspector, lambda: memory, FAST)  # the PC rebooted: the run goes on
    wait_for_the_ng_run(qtbot, panel, 2)
    assert panel.notice_label.text().endswith("(recorded before this start)")
    drop(synthetic_set.test_good[0], camera, "p2.png")
    qtbot.waitUntil(lambda: panel.ng_run_warning.isHidden(), timeout=TIMEOUT_MS)
    stop_line(qtbot, panel)
    assert plant.names() == ["line-started", "ng", "ng-parts-in-a-row", "ng", "line-stopped",
                             "line-started", "ng-parts-in-a-row", "an-ok-part-after-ng-parts-in-a-row", "line-stopped"]
    assert [kind for kind, _, _ in memory.changes if "in a row" in kind] == [
        "NG parts in a row", "an OK part after NG parts in a row"]  # its start once in the audit trail


def test_a_disk_nearly_full_is_shown_over_the_newest_part_while_the_line_runs(qtbot, panel, inspector, tmp_path,
                                                                           monkeypatch, settings):
    from patchcore_gui.line import disk_space

    monkeypatch.setattr(disk_space, "read_usage", lambda folder: disk_space.Usage(10**11, 10**11 - 3 * 10**8,
                                                                                  3 * 10**8))
    assert panel.disk_warning_minutes.value() == 60  # an hour unless told
    assert panel.ok_kept_days.value() == 0 and panel.ok_kept_days.text() == "for ever"
    panel.disk_warning_minutes.setValue(20)
    panel.ok_kept_days.setValue(14)
    camera, memory = run_on_a_camera(panel, inspector, tmp_path)
    assert not panel.disk_warning_minutes.isEnabled() and settings.value("line/disk_warning_min") in (20, "20")
    assert not panel.ok_kept_days.isEnabled() and settings.value("line/ok_kept_days") in (14, "14")
    assert panel.worker.settings.disk_full_within_s == 1200 and panel.worker.settings.ok_images_kept_days == 14
    qtbot.waitUntil(lambda: panel.disk_warning.isVisible(), timeout=TIMEOUT_MS)
    assert panel.disk_warning.text().startswith("The disk of the camera folder (")
    assert panel.disk_warning.text().endswith("is nearly full: 300 MB free. When it is full the camera cannot save its "
                                              "images: make room there.")
    assert "nearly full" in panel.notice_label.text()
    stop_line(qtbot, panel)
    assert panel.disk_warning.isHidden() and panel.disk_warning_minutes.isEnabled()
    assert [kind for kind, _, _ in memory.changes if "disk" in kind] == [disk_space.DISK_NEARLY_FULL]
    panel.disk_warning_minutes.setValue(0)  # never: no look at the disks
    camera.rename(tmp_path / "first camera")
    run_on_a_camera(panel, inspector, tmp_path)
    worker = panel.worker
    qtbot.waitUntil(lambda: worker.line is not None and worker.line.ready.is_set(), timeout=TIMEOUT_MS)
    assert worker.settings.disk_full_within_s == 0 and worker.line.disk_space._thread is None
    assert panel.disk_warning.isHidden()
    stop_line(qtbot, panel)
    assert LinePanel(settings).disk_warning_minutes.value() == 0  # remembered
    assert LinePanel(settings).ok_kept_days.value() == 14


def test_a_signal_command_this_pc_cannot_run_stops_the_line_from_starting_in_one_line(qtbot, panel, inspector,
                                                                                       tmp_path):
    messages: List[str] = []
    panel.message.connect(messages.append)
    panel.signal_setting.edit.setText("stacklight-nowhere COM4")
    camera = tmp_path / "camera"
    camera.mkdir()
    assert panel.start(camera, lambda: inspector, lambda: SessionMemory(), FAST) is False
    assert not panel.running and messages == ["Cannot run the line: the signal command's program 'stacklight-nowhere' "
                                              "is not a program this PC can run (not found, or not executable)"]


def test_a_settings_file_edited_by_hand_gives_the_ng_warning_its_default(qtbot, settings):
    from patchcore_gui.line.ng_in_a_row import NG_IN_A_ROW

    settings.setValue("line/ng_in_a_row", "five")
    edited = LinePanel(settings)
    qtbot.addWidget(edited)
    assert edited.ng_in_a_row.value() == NG_IN_A_ROW and edited.ng_in_a_row.text() == str(NG_IN_A_ROW)
