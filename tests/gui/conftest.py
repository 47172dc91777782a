"""GUI fixtures: an isolated settings file, a window that never blocks on a dialog, helpers to wait."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path
from typing import Iterator, List, Sequence

import pytest
from PySide6.QtCore import QObject, QSettings, Slot

from patchcore_gui.core.engine import Engine
from patchcore_gui.core.synthetic import SyntheticSet
from patchcore_gui.gui.main_window import MainWindow
from patchcore_gui.gui.window_record import scratch_settings

#: Long enough for a build of a few synthetic parts on two slow cores.
JOB_TIMEOUT_MS = 60_000


class SignalLog(QObject):
    """Records a signal's emissions through a QObject slot: a lambda connected to a widget's signal
    that holds the widget can crash PySide when the widget is deleted."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: List[tuple] = []

    @Slot()
    def record(self, *args) -> None:
        self.calls.append(args)


@pytest.fixture(autouse=True)
def collect_on_the_ui_thread() -> Iterator[None]:
    """As the application does (gui/app.py): no automatic cycle collection, which could run on a
    worker's thread and free Qt objects there; each test's cycles are collected here, on this thread."""
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.enable()


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """Settings in a file of this test's own, never the user's; so is the inspection record."""
    return scratch_settings(tmp_path)


@pytest.fixture
def window(qtbot, settings: QSettings, backbone) -> Iterator[MainWindow]:
    """The real window, sharing the session's loaded backbone so builds and inspections start fast."""
    main = MainWindow(settings=settings, engine=Engine(backbone))
    main.use_message_boxes = False
    main._ask_to_save = lambda: "discard"  # type: ignore[method-assign]
    main.line_mode._ask_to_stop = lambda: True  # type: ignore[method-assign]
    qtbot.addWidget(main)
    main.show()
    yield main
    main.shutdown()


@pytest.fixture
def model_window(window: MainWindow, fitted) -> MainWindow:
    window.set_model(fitted.model)
    return window


@pytest.fixture
def few_good(tmp_path: Path, synthetic_set: SyntheticSet) -> Path:
    """A folder of 6 good parts: enough for a build that takes seconds, not minutes."""
    folder = tmp_path / "good"
    folder.mkdir()
    for path in synthetic_set.train_good[:6]:
        shutil.copy(path, folder / path.name)
    return folder


def inspect_and_wait(qtbot, window: MainWindow, paths: Sequence[Path]) -> None:
    with qtbot.waitSignal(window.job_done, timeout=JOB_TIMEOUT_MS) as blocker:
        window.add_inputs(list(paths))
    assert blocker.args == ["inspect", "finished"]
    qtbot.wait(200)  # the batch views refresh on a short timer


def verdicts(window: MainWindow) -> List[str]:
    return [window.document.verdict(item.score) for item in window.results.items()]
