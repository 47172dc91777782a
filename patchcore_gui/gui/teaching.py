"""Teaching in the window: "This part is good" on a rejected part, and the model's teachings with undo.

:class:`WindowTeaching` owns what teaching adds to the window: the "This part is good" command (the
Model menu, Ctrl+G, and the results list's context menu on an NG or REVIEW row), the worker that
teaches on the engine's network (:class:`TeachWorker`, through the window's job status: progress
and Cancel), and a "Teachings" dock listing the model's teachings with Undo. A taught or undone
model replaces the document's with unsaved changes, and the window inspects its listed parts
again with it, as after any model change.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QDockWidget, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QMainWindow, QMenu, QPushButton, QVBoxLayout, QWidget)

from ..core.engine import Engine
from ..core.model import PatchCoreModel
from ..core.teaching import TeachingOutcome, undo_teaching
from .model_document import ModelDocument
from .part_decision import TAUGHT_NOTE
from .results_model import ITEM_ROLE, InspectedImage
from .window_record import RecordedAs
from .workers import Worker

#: Verdicts a person may overrule with "This part is good".
REJECTED = ("NG", "REVIEW")


class TeachWorker(Worker):
    """Good images -> the taught model (:class:`TeachingOutcome`), on the engine's network."""

    def __init__(self, engine: Engine, model: PatchCoreModel, paths: Sequence[Path]) -> None:
        super().__init__()
        self.engine = engine
        self.model = model
        self.paths = list(paths)

    def work(self) -> TeachingOutcome:
        return self.engine.teach(self.model, self.paths, progress=self._report, cancel=self._token)


class TeachingsPanel(QWidget):
    """The open model's teachings, oldest first, with Undo for the selected one or the newest.

    Emits ``undo_requested(number)``, numbered from 1 as ``patchcore teach --list`` counts them.
    """

    undo_requested = Signal(int)

    def __init__(self, document: ModelDocument, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("0") * 34)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.undo_selected = QPushButton("Undo selected")
        self.undo_selected.setToolTip("Take the selected teaching's patches out of the memory bank")
        self.undo_selected.clicked.connect(self._undo_selected)
        self.undo_newest = QPushButton("Undo newest")
        self.undo_newest.clicked.connect(self._undo_newest)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.undo_selected)
        buttons.addWidget(self.undo_newest)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        # methods, not lambdas: a lambda holding a widget can crash PySide when the widget goes
        self.list.currentRowChanged.connect(self._enable)
        document.model_changed.connect(self.refresh)
        self.refresh()

    def _teachings(self) -> tuple:
        model = self.document.model
        return model.teachings if model is not None else ()

    def refresh(self, *_model: object) -> None:
        self.list.clear()
        model = self.document.model
        teachings = self._teachings()
        for number, teaching in enumerate(teachings, start=1):
            when = teaching.taught_at.replace("T", " ").split("+")[0]
            item = QListWidgetItem(f"{number}. {teaching.file}: {len(teaching.patches):,} patches\n"
                                   f"    taught {when} UTC")
            item.setToolTip(f"sha256 of the image: {teaching.image_sha256 or 'not known'}")
            self.list.addItem(item)
        if model is None:
            self.summary.setText("No model open.")
        elif not teachings:
            self.summary.setText("Nothing taught: the memory bank is the one fitted. Right-click a rejected part "
                                 "that is good, or press Ctrl+G, to teach it.")
        else:
            taught = sum(len(t.patches) for t in teachings)
            self.summary.setText(f"{len(teachings)} image(s) taught: {taught:,} patches added to the "
                                 f"{len(model.memory_bank):,} fitted ones.")
        self._enable()

    def set_enabled_for_changes(self, enabled: bool) -> None:
        self._changes_allowed = enabled
        self._enable()

    def _enable(self, *_row: object) -> None:
        allowed = getattr(self, "_changes_allowed", True)
        self.undo_newest.setEnabled(allowed and self.list.count() > 0)
        self.undo_selected.setEnabled(allowed and self.list.currentRow() >= 0)

    def _undo_newest(self) -> None:
        self.undo_requested.emit(len(self._teachings()))

    def _undo_selected(self) -> None:
        if self.list.currentRow() >= 0:
            self.undo_requested.emit(self.list.currentRow() + 1)


class WindowTeaching(QObject):
    """Teaching for a :class:`MainWindow`: the command, the worker, the dock; the window stays as it was."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._menu: Optional[QMenu] = None
        self.action = QAction("This part is &good", window)
        self.action.setShortcut(QKeySequence("Ctrl+G"))
        self.action.setStatusTip("Teach the shown part as good: the memory bank takes in what it lacked (no rebuild)")
        self.action.triggered.connect(self.teach_shown_part)
        window.addAction(self.action)
        self.panel = TeachingsPanel(window.document)
        self.panel.undo_requested.connect(self.undo)
        self.dock = QDockWidget("Teachings", window)
        self.dock.setObjectName("teachings_dock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        toggle = self.dock.toggleViewAction()
        toggle.setText("&Teachings")
        toggle.setStatusTip("The images taught as good, with undo")
        for action in window.menuBar().actions():
            title = action.text().replace("&", "")
            if action.menu() is not None and title == "Model":
                action.menu().addSeparator()
                action.menu().addAction(self.action)
                action.menu().addAction(toggle)
        window.line_mode.panel.teach_good.connect(self.teach_line_part)
        #: a recorded part being taught (its image now, where it was recorded), and who said it is good and why:
        #: recorded OK once it is taught
        self._decided_when_taught: Optional[Tuple[Path, RecordedAs, str, str]] = None
        table = window.results_panel.table
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._context_menu)
        for changed in (window.jobs.ended, window.document.model_changed, window.document.threshold_changed,
                        window.results_panel.current_changed):
            changed.connect(self._enable)
        self._undo_waiting: List[Tuple[int, str]] = []  # asked for while the list was being inspected again
        window.jobs.ended.connect(self._undo_when_free)
        self._enable()

    # --- what may be taught now -----------------------------------------------------------------------------
    def _refusal(self) -> str:
        """Why nothing can be taught now, or ""."""
        window = self.window
        if window.document.model is None:
            return "Open or build a model before teaching it"
        if window.busy:
            return "Wait for the running job to end, or cancel it, before teaching"
        return ""

    def _rejected(self, item: Optional[InspectedImage]) -> bool:
        if item is None or item.score is None:
            return False
        document = self.window.document  # the list's own verdict: regions against the minimum defect area too
        return document.verdict(item.score, item.largest_region(document.threshold)) in REJECTED

    def _enable(self, *_changed: object) -> None:
        free = not self._refusal()
        self.action.setEnabled(free and self._rejected(self.window.shown.item))
        self.panel.set_enabled_for_changes(free)

    def _context_menu(self, position: QPoint) -> None:
        table = self.window.results_panel.table
        item = table.indexAt(position).data(ITEM_ROLE)
        if not self._rejected(item):
            return
        if self._menu is not None:
            self._menu.deleteLater()
        self._menu = menu = QMenu(table)
        asks = self.window.record.recorded_as(item.path) is not None  # who says so, for the record
        action = menu.addAction(f"This part is good: teach {item.path.name}{'…' if asks else ''}")
        action.setEnabled(not self._refusal())
        action.setData(str(item.path))
        action.triggered.connect(self._teach_menu_part)
        menu.popup(table.viewport().mapToGlobal(position))

    # --- teaching and undo ----------------------------------------------------------------------------------
    def _teach_menu_part(self) -> None:
        action = self.sender()
        if isinstance(action, QAction) and action.data():
            self._teach_listed_part(Path(action.data()))

    def teach_shown_part(self) -> None:
        item = self.window.shown.item
        if self._rejected(item):
            self._teach_listed_part(item.path)

    def _teach_listed_part(self, path: Path) -> None:
        """Teach a part of the results list: one reopened from the record is decided OK on that record too."""
        self._teach_part(path, self.window.record.recorded_as(path))

    def teach_line_part(self, path: Path, recorded: Optional[Path]) -> None:
        """Teach a part of the line's list (its image at ``path``, recorded by the window's line at ``recorded``)
        as good."""
        self._teach_part(path, None if recorded is None else RecordedAs(self.window.record.station, str(recorded)))

    def _teach_part(self, path: Path, recorded: Optional[RecordedAs]) -> None:
        """Teach the part whose image is at ``path`` as good. A part from the record (a line's, or one reopened
        from History) is a person's verdict too: asked who and why first, recorded OK once it is taught."""
        refusal = self._refusal()
        if recorded is None or refusal:
            self.teach([path])  # says the refusal
            return
        history = self.window.history
        asked = history.ask_who_and_why(self.window, self.window.settings.settings, "OK", path.name, teaching=True)
        if asked is not None and self.teach([path]):
            person, note = asked
            self._decided_when_taught = (path, recorded, person, TAUGHT_NOTE + (f": {note}" if note else ""))

    def teach(self, paths: Sequence[Path]) -> bool:
        """Teach ``paths`` as good in the background; the list is inspected again with the taught model."""
        refusal = self._refusal()
        if refusal:
            self.window.show_error(refusal, "Cannot teach now")
            return False
        self._decided_when_taught = None  # what an earlier teaching, cancelled, would have recorded
        worker = TeachWorker(self.window.engine, self.window.document.model, paths)
        self.window.jobs.start("teach", worker, self._taught)
        self._enable()
        return True

    def _taught(self, outcome: TeachingOutcome) -> None:
        window = self.window
        threshold = window.document.threshold
        taught_before = len(window.document.model.teachings) if window.document.model is not None else 0
        problems: List[str] = [image.error for image in outcome.images if image.error is not None]
        lines = [image.line(threshold) for image in outcome.images if image.error is None]
        if problems:
            window.show_error("; ".join(problems), "Cannot teach")
        if outcome.model is not window.document.model:
            # set while the job still counts as running: the listed parts are inspected again after it
            window.set_model(outcome.model, window.document.path, dirty=True)
        for line in lines:
            window.show_info(f"Taught {line}" + ("" if outcome.added == 0 else " (not saved yet: Ctrl+S)"))
        decided, self._decided_when_taught = self._decided_when_taught, None
        taught = {image.path for image in outcome.images if image.error is None}  # not one that could not be
        if decided is not None and decided[0] in taught:
            _path, recorded, person, note = decided
            window.history.record_decision(Path(recorded.image_path), "OK", person, note, recorded.station)
        found = outcome.cautions(threshold, taught_before)
        cautioned = [(number, image.path.name) for number, image, _caution in found]
        if found:
            window.show_error("; ".join(caution for _n, _i, caution in found) + " (Model > Teachings)",
                              "Taught a part far from the good ones",
                              offer=("Undo it" if len(cautioned) == 1 else "Undo them",
                                     lambda: self.undo_cautioned(cautioned)))

    def undo_cautioned(self, cautioned: Sequence[Tuple[int, str]]) -> None:
        """Take the teachings of parts taught with a caution out again, once the list's inspection is done."""
        self._undo_waiting = list(cautioned)
        self._undo_when_free()

    def _undo_when_free(self, *_ended: object) -> None:
        window, model = self.window, self.window.document.model
        if not self._undo_waiting or window.busy or model is None:
            return
        waiting, self._undo_waiting = self._undo_waiting, []
        undone = []
        for number, name in sorted(waiting, reverse=True):  # the newest first: the older ones keep their numbers
            if number <= len(model.teachings) and model.teachings[number - 1].file == name:
                model = undo_teaching(model, number)
                undone.append(f"{number}: {name}")
        if undone:
            window.set_model(model, window.document.path, dirty=True)
            window.show_info(f"Undid teaching {', '.join(reversed(undone))} (not saved yet: Ctrl+S)")

    def undo(self, number: int) -> bool:
        """Take teaching ``number`` (1 = the oldest) out of the model; the list is inspected again."""
        refusal = self._refusal()
        model = self.window.document.model
        if refusal or model is None:
            self.window.show_error(refusal, "Cannot undo now")
            return False
        try:
            undone = undo_teaching(model, number)
        except ValueError as exc:
            self.window.show_error(str(exc), "Cannot undo")
            return False
        removed = model.teachings[number - 1]
        self.window.set_model(undone, self.window.document.path, dirty=True)
        self.window.show_info(f"Undid teaching {number}: {removed.file} ({len(removed.patches):,} patches) "
                              f"(not saved yet: Ctrl+S)")
        return True
