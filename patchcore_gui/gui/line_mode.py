"""Line mode joined to the window: a "Line" tab with the :class:`LinePanel`, "Run line…" and the model lock.

The window's inspection layout becomes the "Inspect" tab beside it. While a line runs, the open model
cannot be replaced (opening and building are off, :meth:`LineMode.locked` says so to the window) and
the threshold is locked until the operator unlocks it on the line panel; a threshold moved after
that goes to the running line and into the record's audit trail.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QTabWidget

from ..line.recording import StoreRecorder
from ..record.recorder import default_station
from .line_panel import LinePanel

if TYPE_CHECKING:  # the window imports this module
    from .main_window import MainWindow

class LineMode(QObject):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window
        self.settings = window.settings.settings  # the QSettings behind the window's own
        self.panel = LinePanel(self.settings)
        self.panel.message.connect(window.statusBar().showMessage)
        self.panel.running_changed.connect(self._running_changed)
        self.panel.threshold_unlocked.connect(self._apply_lock)
        window.document.threshold_changed.connect(self._threshold_moved)
        self.tabs = QTabWidget()
        self.tabs.addTab(window.takeCentralWidget(), "Inspect")
        self.tabs.addTab(self.panel, "Line")
        window.setCentralWidget(self.tabs)
        self.run_action = QAction("&Run line…", window)
        self.run_action.setShortcut(QKeySequence("Ctrl+L"))
        self.run_action.setStatusTip("Inspect every part the camera writes into a folder, until stopped")
        self.run_action.triggered.connect(self.run_line)
        self.panel.run_button.clicked.connect(self.run_line)
        window.addAction(self.run_action)
        menu = window.menuBar().addMenu("&Line")
        menu.addAction(self.run_action)
        stop = menu.addAction("&Stop line")
        stop.triggered.connect(self.panel.stop)

    @property
    def locked(self) -> bool:
        """Whether the open model may not be replaced now (a line runs with it)."""
        return self.panel.running

    def store_target(self) -> str:
        return self.window.record.target  # the window's one record: a line's parts beside the ones inspected by hand

    @Slot()
    def run_line(self, folder: Optional[Path] = None) -> bool:
        """Ask for the camera folder (unless given) and start the line with the open, saved model."""
        document = self.window.document
        if self.panel.running:
            return False
        if document.model is None or document.path is None:
            self.window.show_error("Save the model first: the record names every part's model by its file",
                                   "Cannot run a line")
            return False
        folder = folder or self.panel.choose_folder()
        if folder is None:
            return False
        model, model_path, target = document.model, document.path, self.store_target()
        engine = self.window.engine

        def make_recorder() -> StoreRecorder:  # in the worker's thread: the store's connection belongs there
            if "://" not in target:
                Path(target).parent.mkdir(parents=True, exist_ok=True)
            return StoreRecorder.open(target, default_station(), model_path, model.threshold, model.review_from,
                                      model.min_defect_area)

        self.panel.start(folder, lambda: engine.inspector_for(model), make_recorder)
        self.tabs.setCurrentWidget(self.panel)
        return True

    @property
    def threshold_free(self) -> bool:
        """The threshold moves only without a line, or after the operator's unlock."""
        return not self.panel.running or self.panel.unlocked

    @Slot(bool)
    def _running_changed(self, running: bool) -> None:
        self.run_action.setEnabled(not running)
        self._apply_lock()

    @Slot()
    def _apply_lock(self) -> None:
        self.window.side_panel.threshold_panel.setEnabled(self.threshold_free)
        # the line judges by the minimum area it started with: it moves only without a line
        self.window.side_panel.defect_size_control.setEnabled(not self.panel.running)
        self.window._update_actions()

    @Slot(float)
    def _threshold_moved(self, threshold: float) -> None:
        if self.panel.running and self.panel.unlocked:
            self.panel.threshold_moved(threshold, self.window.document.review_from)

    def shutdown(self) -> None:
        self.panel.shutdown()
