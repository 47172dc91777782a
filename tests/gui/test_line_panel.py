"""The window's line mode panel under pytest-qt: live parts, counters, NG list, pause, unlock, stop."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import List, Tuple

import pytest
from PySide6.QtCore import Qt

from patchcore_gui.core import Inspector
from patchcore_gui.gui.line_panel import LinePanel
from patchcore_gui.line import ArrivalSettings, LineSettings
from patchcore_gui.line.runner import SessionMemory

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
    qtbot.waitUntil(lambda: panel.ng_list.count() == 2, timeout=TIMEOUT_MS)
    snapshot = panel.last_snapshot
    assert (snapshot.ok, snapshot.ng, snapshot.errors) == (2, 2, 0)
    assert panel.counter_labels["yield"].text() == "50.0 %"
    assert not panel.ng_list.item(0).icon().isNull()
    assert panel.verdict_label.text().startswith("NG  p3.png")  # an NG part's picture is always made
    assert panel.view.part_item.image is not None and panel.view.heat_item.image is not None
    panel.ng_list.setCurrentRow(0)
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


def test_unlocking_is_recorded_and_a_moved_threshold_counts_from_the_next_part(qtbot, panel, inspector,
                                                                              synthetic_set, tmp_path):
    camera = tmp_path / "camera"
    camera.mkdir()
    memory = AuditedMemory()
    panel.start(camera, lambda: inspector, lambda: memory, FAST)
    with qtbot.waitSignal(panel.threshold_unlocked, timeout=5000):
        panel.unlock_button.click()
    assert not panel.unlock_button.isEnabled()
    panel.threshold_moved(1e9)  # nothing is NG any more
    drop(synthetic_set.test_defective[0], camera, "d0.png")
    wait_inspected(qtbot, panel, 1)
    panel.stop()
    qtbot.waitUntil(lambda: not panel.running, timeout=TIMEOUT_MS)
    assert [kind for kind, _, _ in memory.changes] == ["threshold unlocked"]  # the move is the window's to record
    assert [(r.verdict, r.threshold) for r in memory.added] == [("OK", 1e9)]


def test_a_line_on_a_missing_folder_says_so(qtbot, panel, inspector, tmp_path):
    messages = []
    panel.message.connect(messages.append)
    with qtbot.waitSignal(panel.running_changed, timeout=TIMEOUT_MS, check_params_cb=lambda running: not running):
        panel.start(tmp_path / "gone", lambda: inspector, lambda: None, FAST)
    assert messages[-1] == f"Line stopped: folder '{tmp_path / 'gone'}' does not exist or is not a folder"


def test_a_review_band_given_while_the_line_runs_sends_doubtful_parts_to_review_and_counts_them(
        qtbot, panel, inspector, synthetic_set, tmp_path):
    camera = tmp_path / "camera"
    camera.mkdir()
    memory = AuditedMemory()
    panel.start(camera, lambda: inspector, lambda: memory, FAST)
    with qtbot.waitSignal(panel.threshold_unlocked, timeout=5000):
        panel.unlock_button.click()
    panel.threshold_moved(1e9, review_from=0.0)  # every readable part is now for a person to look at
    drop(synthetic_set.test_defective[0], camera, "d0.png")
    wait_inspected(qtbot, panel, 1)
    qtbot.waitUntil(lambda: panel.counter_labels["review"].text() == "1", timeout=TIMEOUT_MS)
    panel.stop()
    qtbot.waitUntil(lambda: not panel.running, timeout=TIMEOUT_MS)
    assert [(r.verdict, r.review_from) for r in memory.added] == [("REVIEW", 0.0)]
    assert panel.verdict_label.text().startswith("REVIEW") and "#8e44ad" in panel.verdict_label.styleSheet()
