"""Line mode joined to the window: a "Line" tab with the :class:`LinePanel`, "Run line…" and the model lock.

The window's inspection layout becomes the "Inspect" tab beside it. While a line runs, the open model
cannot be replaced (opening and building are off, :meth:`LineMode.locked` says so to the window) and
the threshold is locked until the operator unlocks it on the line panel; a threshold moved after
that goes to the running line and into the record's audit trail.

The model can be tuned meanwhile (a region of interest, a minimum defect area, a part taught): the
line goes on with its model file until the tuned model is saved over it, and then takes it up between
parts (:class:`~..line.model_file_follower.ModelFileFollower`, as ``patchcore watch`` does). The record
names every part's model by its file, so a change reaches the line only once it is in that file. A
model another program wrote over the file (``patchcore teach`` on it, say) is taken up the same way,
and opened again here unless this window has unsaved changes to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox, QTabWidget

from ..core import PatchCoreModel
from ..core.model_file import NOTHING_CHANGED, what_changed
from ..line.recording import StoreRecorder
from ..record.store import MODEL_TAKEN_UP
from .line_panel import LinePanel
from .window_record import RecordedAs

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
        window.document.saved.connect(self._saved)
        self.panel.model_taken_up.connect(self._taken_up)
        self.panel.inspect_again.connect(self._inspect_again)
        # a person's verdict on a listed part is recorded where History records one (the window's record)
        self.panel.decide_part.connect(window.history.decide_recorded)
        window.history.decided.connect(self.panel.part_decided)
        for changed in (window.document.model_changed, window.document.defect_size_changed,
                        window.document.state_changed):
            changed.connect(self._tell_unsaved_tuning)
        # the running line's model file, and its model as the line has it (an unlocked threshold moved too)
        self._line_file: Optional[Path] = None
        self._line_model: Optional[PatchCoreModel] = None
        self._awaited: Optional[Path] = None
        self._awaiting = QTimer(self, interval=2000)
        self._awaiting.timeout.connect(self._look_for_the_awaited_folder)
        self.panel.wait_cancelled.connect(self._stop_waiting)
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

    @Slot(Path, object)
    def _inspect_again(self, path: Path, recorded_path: Optional[Path]) -> None:
        """An NG part of the line's, inspected with the window's model in the Inspect tab, where it is tuned
        (recorded again only where it now differs from the line's record: the window's line records as the
        window's station)."""
        self.tabs.setCurrentIndex(0)
        recorded = None if recorded_path is None else RecordedAs(self.window.record.station, str(recorded_path))
        self.window.reopen_part(path, recorded)

    @property
    def locked(self) -> bool:
        """Whether the open model may not be replaced now (a line runs with it)."""
        return self.panel.running

    def store_target(self) -> str:
        return self.window.record.target  # the window's one record: a line's parts beside the ones inspected by hand

    def run_line_once_there(self, folder: Path) -> bool:
        """Run the line on ``folder`` now, or once it appears: a camera share a line PC mounts after its window has
        started at log-in. Looked for every 2 s meanwhile, and said in the Line tab; a line started by hand ends
        the wait."""
        if folder.is_dir() or self.panel.running:
            return self.run_line(folder)
        self._awaited = folder
        self.tabs.setCurrentWidget(self.panel)
        self.panel.say_waiting(f"Waiting for the camera folder {folder} to appear: the line starts when it does")
        self._awaiting.start()
        return True

    @Slot()
    def _look_for_the_awaited_folder(self) -> None:
        folder = self._awaited
        if folder is not None and not self.panel.running and not folder.is_dir():
            return
        self._awaiting.stop()
        self._awaited = None
        if folder is not None and not self.panel.running:
            self.panel.stop_waiting(f"The camera folder {folder} is there: starting the line")
            self.run_line(folder)

    @Slot()
    def _stop_waiting(self) -> None:
        """Stop pressed while waiting: a wrong folder given at the start, or a line not wanted after all."""
        folder, self._awaited = self._awaited, None
        self._awaiting.stop()
        self.panel.stop_waiting(f"Not waiting for {folder} any more: Run line… starts a line")

    @Slot()
    def run_line(self, folder: Optional[Path] = None) -> bool:
        """Ask for the camera folder (unless given) and start the line with the open, saved model."""
        document = self.window.document
        if self.panel.running:
            return False
        if document.model is None or document.path is None or document.dirty:
            # unsaved changes would be inspected with, yet recorded under the file that lacks them
            self.window.show_error("Save the model first (Ctrl+S): the record names every part's model by its file",
                                   "Cannot run a line")
            return False
        folder = folder or self.panel.choose_folder()
        if folder is None:
            return False
        model, model_path = document.model, document.path
        engine = self.window.engine
        self._line_file, self._line_model = model_path, model
        # its own inspector: the window's changes in place with the region of interest being tuned
        if not self.panel.start(folder, lambda: engine.inspector_of_its_own(model),
                                self._recorder_opener(model_path, model, "line started"),
                                model_file=(model_path, document.file_stamp,
                                            lambda tuned: self._recorder_opener(model_path, tuned, MODEL_TAKEN_UP))):
            return False
        self.tabs.setCurrentWidget(self.panel)
        return True

    def _recorder_opener(self, model_path: Path, model: PatchCoreModel, kind: str) -> Callable[[], StoreRecorder]:
        target, station = self.store_target(), self.window.record.station

        def open_recorder() -> StoreRecorder:  # in the worker's thread: the store's connection belongs there
            if "://" not in target:
                Path(target).parent.mkdir(parents=True, exist_ok=True)
            return StoreRecorder.open(target, station, model_path, model.threshold, model.review_from,
                                      model.min_defect_area, kind=kind)
        return open_recorder

    @Slot(object)
    def _saved(self, path: Path) -> None:
        """Saved while a line runs: over its model file, the line takes the model up after the parts in hand."""
        if not self.panel.running or self._line_file is None or self._line_model is None:
            return
        if path != self._line_file:
            self.panel.show_notice(f"Saved as {path.name}: the line goes on with {self._line_file.name}")
        elif self.window.document.model is not None:
            change = what_changed(self._line_model, self.window.document.model)
            self.panel.show_notice(f"{path.name} saved: the line takes it up after the parts in hand ({change})")

    @Slot(object)
    def _taken_up(self, model: PatchCoreModel) -> None:
        """The line inspects with ``model`` from its file: saved here, or written by another program."""
        self._line_model = model
        document = self.window.document
        if document.path != self._line_file or not document.changed_on_disk:
            return  # saved here, or this window has another file open
        if document.dirty:
            self.panel.show_notice(f"{document.name} was changed by another program and the line inspects with it; "
                                   "the changes here are not in it (saving asks before writing over it)")
        else:
            self.window.set_model(model, document.path)

    @Slot()
    def _tell_unsaved_tuning(self, *_changed: object) -> None:
        document = self.window.document
        if (not self.panel.running or document.model is None or self._line_model is None
                or document.model is self._line_model or document.path != self._line_file):
            return
        # the window cannot open or build another model while a line runs: only named settings differ here,
        # and this runs on every move of the threshold
        change = what_changed(self._line_model, document.model, scored=False)
        if change != NOTHING_CHANGED:
            self.panel.show_notice(f"Not on the line yet: {change}. Save the model (Ctrl+S) to put it on the line")

    @property
    def threshold_free(self) -> bool:
        """The threshold moves only without a line, or after the operator's unlock."""
        return not self.panel.running or self.panel.unlocked

    @Slot(bool)
    def _running_changed(self, running: bool) -> None:
        self.run_action.setEnabled(not running)
        if not running:
            self._line_file = self._line_model = None
        self._apply_lock()

    @Slot()
    def _apply_lock(self) -> None:
        self.window.side_panel.threshold_panel.setEnabled(self.threshold_free)
        self.window._update_actions()

    @Slot(float)
    def _threshold_moved(self, threshold: float) -> None:
        if self.panel.running and self.panel.unlocked and self._line_model is not None:
            review_from = self.window.document.review_from
            self._line_model = self._line_model.with_threshold(threshold).with_review_band(review_from)
            self.panel.threshold_moved(threshold, review_from)

    def may_close(self) -> bool:
        """Whether the window may close: a running line stops with it, so the operator is asked first (a window
        closed by mistake would leave the line uninspected until someone notices)."""
        return not self.panel.running or self._ask_to_stop()

    def _ask_to_stop(self) -> bool:
        """Whether to stop the running line and close (tests replace this method)."""
        folder = self.panel.folder
        return QMessageBox.question(
            self.window, "Stop the line?", f"A line is running on {folder}: closing the window stops it (after the "
            "parts in hand), and no part the camera writes is inspected until a line runs again. Stop it and close?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel) == QMessageBox.StandardButton.Yes

    def shutdown(self) -> None:
        self.panel.shutdown()
