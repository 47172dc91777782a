"""The inspection window: build or open a model, inspect parts, calibrate the threshold by eye.

The window puts the panels together and runs the jobs. The open model is a :class:`ModelDocument`
that the panels observe; what waits to be inspected is an :class:`InspectionQueue`; the part on
screen is a :class:`ShownPart`; the network is the :class:`Engine`'s. Every long call runs in a
worker (:mod:`.workers`) through :class:`.job_status.JobStatus`, one at a time; images added while
a job runs wait in the queue and are inspected when it ends.

Messages for people go through :meth:`MainWindow.show_error` / :meth:`MainWindow.show_info`, which
record them (``last_error``, ``messages``) and never block, so tests can observe them.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Callable, Deque, Optional, Sequence, Tuple, Union

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QSplitter, QWidget

from ..core.config import PatchCoreConfig
from ..core.csv_style import PLAIN, CsvStyle
from ..core.engine import Engine
from ..core.errors import PatchCoreError
from ..core.images import IMAGE_SUFFIXES, find_images, good_part_images
from ..core.likeness import likeness_warning
from ..core.model import PatchCoreModel
from ..core.model_file import MODEL_SUFFIX, is_model_path, load_model
from ..core.overlay import OVERLAY_OPACITY
from ..core.patchcore import FitResult
from ..core.results import ResultsSource, csv_written_message, rows_to_write, write_results_csv
from .batch_message import BatchMessage
from .csv_choice import CsvChoice
from .dialogs import BuildOptionsDialog, BuildRequest, choose_folder_to_write
from .image_view import InspectionPanel
from .inspection_queue import InspectionQueue
from .job_status import JobStatus
from .line_mode import LineMode
from .model_document import ModelDocument, with_model_suffix
from .results_model import InspectedImage
from .regions_panel import install_regions
from .results_panel import ResultsPanel
from .roi_editor import install_region_of_interest
from .shown_part import ShownPart
from .side_panel import SidePanel
from .history_panel import HistoryPanel, install_history_dock
from .teaching import WindowTeaching
from .window_actions import install_actions
from .window_record import RecordedAs, WindowRecord, station_name, store_target
from .window_settings import WindowSettings
from .workers import BuildWorker, ExportWorker, InspectWorker

PathLike = Union[str, Path]
APP_TITLE = "PatchCore Inspector"
#: Messages the window keeps to be read back (tests, and a person's last words in the status bar).
KEPT_MESSAGES = 1000
#: What a failed job's message box is titled, and what a cancelled job says.
FAILED_TITLES = {"build": "The build failed", "inspect": "The inspection failed", "export": "The export failed",
                 "region of interest": "Cannot set the region of interest",
                 "teach": "The teaching failed"}
CANCELLED = {"inspect": "Inspection cancelled: the images inspected so far are kept", "export": "Export cancelled",
             "teach": "Teaching cancelled: the model is unchanged"}


class MainWindow(QMainWindow):
    #: (kind, outcome): kind "build" | "inspect" | "export"; outcome "finished" | "failed" | "cancelled".
    job_done = Signal(str, str)

    def __init__(self, settings: Optional[QSettings] = None, engine: Optional[Engine] = None,
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.settings = WindowSettings(settings if settings is not None else QSettings())
        self.csv_choice = CsvChoice(self.settings.settings)
        # the network stays loaded between jobs: loading it takes seconds
        self.engine = engine if engine is not None else Engine()
        self.document = ModelDocument(self)
        self.queue = InspectionQueue()
        self.last_error = ""
        self.batch_message = BatchMessage(self.statusBar(), self.show_info)
        #: the newest messages said (a window left open on a line for weeks keeps the newest KEPT_MESSAGES)
        self.messages: Deque[str] = deque(maxlen=KEPT_MESSAGES)
        #: Off in tests: messages are then only recorded and shown in the status bar.
        self.use_message_boxes = True
        self._dropped_folder: Optional[Path] = None

        self.setWindowTitle(f"{APP_TITLE}[*]")
        self.setAcceptDrops(True)
        self._build_layout()
        self.document.state_changed.connect(self._show_document_state)
        self.document.threshold_changed.connect(self._threshold_moved)
        self.commands = install_actions(self, self._command_table())
        self.region_refresher = install_regions(self)
        self._install_record()
        self.region_of_interest = install_region_of_interest(self)
        self.line_mode = LineMode(self)
        self.teaching = WindowTeaching(self)
        self._refresh_timer = QTimer(self, singleShot=True, interval=150)  # coalesces a batch's updates
        self._refresh_timer.timeout.connect(self._refresh_batch_views)
        self.settings.restore(self, self.splitter, self.inspection_panel.opacity_slider)
        self._update_actions()
        self.statusBar().showMessage("Build a model from good parts (Ctrl+B) or open one (Ctrl+O), "
                                     "then drop images here", 15000)

    def _build_layout(self) -> None:
        self.results_panel = ResultsPanel(self.document)
        self.results = self.results_panel.results
        self.inspection_panel = InspectionPanel()
        self.side_panel = SidePanel(self.document)
        self.shown = ShownPart(self.document, self.inspection_panel.view, self.side_panel.verdict_panel, self)
        self.shown.problem.connect(self.show_error)
        self.shown.changed_on_disk.connect(self.queue.forget)
        self.results_panel.current_changed.connect(self.shown.show)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        for widget, stretch in ((self.results_panel, 0), (self.inspection_panel, 1), (self.side_panel, 0)):
            self.splitter.addWidget(widget)
            self.splitter.setStretchFactor(self.splitter.count() - 1, stretch)
        # the list and the part always stay; the side panel folds away on a small screen (F9)
        for index, collapsible in enumerate((False, False, True)):
            self.splitter.setCollapsible(index, collapsible)
        self.splitter.setSizes([370, 600, 430])
        self.setCentralWidget(self.splitter)

        self.jobs = JobStatus()
        self.jobs.ended.connect(self._job_ended)
        self.statusBar().addPermanentWidget(self.jobs)

    def _command_table(self) -> dict:
        return {
            "open_model": self.open_model_dialog, "save_model": self.save_model_interactive,
            "save_model_as": self.save_model_as_dialog, "build": self.build_dialog,
            "add_images": self.add_images_dialog, "add_folder": self.add_folder_dialog,
            "export_csv": self.export_csv_dialog, "export_overlays": self.export_overlays_dialog,
            "clear": self.clear_results, "cancel": self.jobs.cancel, "quit": self.close,
            "next": self.results_panel.select_next, "previous": self.results_panel.select_previous,
            "heatmap": self.inspection_panel.heatmap_box.toggle, "fit": self.inspection_panel.view.fit_to_view,
            "default_threshold": self.document.reset_threshold, "side_panel": self.toggle_side_panel,
        }

    def _install_record(self) -> None:
        """Every part inspected here goes into the inspection record; the History dock reads it back."""
        self.record = WindowRecord(self.document, store_target(self.settings.settings),
                                   station_name(self.settings.settings), self)
        self.record.problem.connect(self.show_error)
        self.record.info.connect(self.show_info)
        # the Line tab, made after the record, says when shifts start by the time the History is read
        self.history = HistoryPanel(self.record.target, shifts=lambda: self.line_mode.panel.shift_plan(),
                                    csv_choice=self.csv_choice, station=lambda: self.record.station)
        self.history.reopen.connect(self.reopen_part)
        self.history.said.connect(self.statusBar().showMessage)
        self.record.recorded.connect(self.history.refresh_if_visible)
        self.history_dock = install_history_dock(self, self.history)

    def reopen_part(self, path: Path, recorded: Optional[RecordedAs] = None) -> None:
        """A past part (from the History, or the line's NG parts): inspected again with the open model, and shown;
        recorded again only where it differs from ``recorded``, its record."""
        if recorded is not None:
            self.record.reopened(path, recorded)
        self.add_inputs([path])

    @property
    def model(self) -> Optional[PatchCoreModel]:
        """The open model (the document's), or None."""
        return self.document.model

    def toggle_side_panel(self) -> None:
        sizes = self.splitter.sizes()
        if sizes[2] > 0:
            self.splitter.setSizes([sizes[0], sizes[1] + sizes[2], 0])
        else:
            wanted = max(self.side_panel.minimumSizeHint().width(), 330)
            self.splitter.setSizes([sizes[0], max(sizes[1] - wanted, 1), wanted])

    # --- messages -----------------------------------------------------------------------------------------
    def show_error(self, text: str, title: str = "Problem",
                   offer: Optional[Tuple[str, Callable[[], object]]] = None) -> Optional[QMessageBox]:
        """Said in the status bar and, with message boxes, in a box; ``offer`` (label, action) adds a button that
        does something about it. The box, if any."""
        self.last_error = text
        self.messages.append(text)
        self.statusBar().showMessage(text, 20000)
        if not self.use_message_boxes:
            return None
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if offer is not None:
            button = box.addButton(offer[0], QMessageBox.ButtonRole.ActionRole)
            button.clicked.connect(offer[1])
        box.open()  # window-modal but not blocking: workers keep reporting behind it
        return box

    def show_info(self, text: str) -> None:
        self.batch_message.heard(text)
        self.messages.append(text)
        self.statusBar().showMessage(text, 10000)

    def _ask_to_save(self) -> str:
        """'save', 'discard' or 'cancel' for a model with unsaved changes (tests replace this method)."""
        answer = QMessageBox.question(
            self, APP_TITLE, "The model has unsaved changes (a new build, a teaching or a moved threshold). Save it?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
            answer, "cancel")

    def _ask_to_overwrite(self, path: Path) -> bool:
        """Whether to save over a model file another program wrote since (tests replace this method)."""
        return QMessageBox.question(
            self, APP_TITLE, f"{path.name} was changed by another program since it was opened here (a threshold "
            "moved or a part taught from the command line, say). Overwrite it with the model as it is here?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel) == QMessageBox.StandardButton.Yes

    def _may_discard_model(self) -> bool:
        if not self.document.dirty or self.document.model is None:
            return True
        answer = self._ask_to_save()
        if answer == "save":
            return self.save_model_interactive()
        return answer == "discard"

    # --- the model ------------------------------------------------------------------------------------------
    def set_model(self, model: PatchCoreModel, path: Optional[Path] = None, dirty: bool = False) -> None:
        """Make ``model`` current; results of an earlier model are inspected again with it. While a line
        runs, only the line's model tuned (the same file) may be."""
        if path != self.document.path and self._model_locked():
            return
        redo = [item.path for item in self.results.items()] if self.document.model is not None else []
        looked_at = self.shown.item.path if self.shown.item is not None else None
        if redo:
            self.clear_results()
        self.document.set_model(model, path, dirty)
        if redo:
            self.show_info(f"The model changed: inspecting the {len(redo)} images again")
            self.add_inputs(redo)
            self.results_panel.follow_part(looked_at)
            self.batch_message.list_inspected_again()
        else:
            self._refresh_batch_views()
            self._run_pending()
        self._update_actions()

    def _model_locked(self) -> bool:
        if self.line_mode.locked:
            self.show_error("A line is running with the open model: stop it before opening or building another",
                            "The model is locked")
        return self.line_mode.locked

    def open_model(self, path: PathLike) -> bool:
        if self._model_locked():
            return False
        try:
            model = load_model(path)
        except PatchCoreError as exc:
            self.show_error(str(exc), "Cannot open the model")
            return False
        self.settings.remember_folder("model", Path(path))
        self.set_model(model, Path(path))
        self.show_info(f"Opened {Path(path).name}")
        return True

    def save_model_to(self, path: PathLike) -> bool:
        if self.document.model is None:
            return False
        if with_model_suffix(path) == self.document.path and self.document.changed_on_disk \
                and not self._ask_to_overwrite(self.document.path):
            return False
        try:
            target = self.document.save(path)
        except OSError as exc:
            self.show_error(f"cannot save the model to '{with_model_suffix(path)}': {exc.strerror or exc}",
                            "Cannot save")
            return False
        self.settings.remember_folder("model", target)
        self.show_info(f"Saved {target.name} (threshold {self.document.threshold:.3f})")
        return True

    def save_model_interactive(self) -> bool:
        if self.document.path is not None:
            return self.save_model_to(self.document.path)
        return self.save_model_as_dialog()

    def _show_document_state(self) -> None:
        self.setWindowModified(self.document.dirty)
        name = self.document.name
        self.setWindowTitle(f"{name}[*] — {APP_TITLE}" if name else f"{APP_TITLE}[*]")

    def _threshold_moved(self) -> None:
        self.side_panel.verdict_panel.show_counts(self.results.counts())
        self.batch_message.threshold_moved(self.document.threshold)

    # --- jobs ---------------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.jobs.busy

    def _job_ended(self, kind: str, outcome: str, message: str) -> None:
        if outcome == "failed":
            self.show_error(message, FAILED_TITLES.get(kind, "Problem"))
            self.queue.drop_pending()
        elif outcome == "cancelled":
            self.queue.drop_pending()
            if kind == "build":
                self.show_info("Build cancelled: the previous model is still in use" if self.document.model
                               else "Build cancelled")
            else:
                self.show_info(CANCELLED.get(kind, "Cancelled"))
        self._update_actions()
        if kind == "inspect" and not len(self.queue):
            self.results_panel.stop_awaiting()
            self.batch_message.batch_ended()
        self.job_done.emit(kind, outcome)
        self._run_pending()

    # --- build --------------------------------------------------------------------------------------------
    def build_dialog(self) -> None:
        self._open_build_dialog(Path(self.settings.folder("good")))

    def _open_build_dialog(self, folder: Path) -> None:
        if self.busy:
            return
        config = self.document.model.config if self.document.model is not None else PatchCoreConfig()
        dialog = BuildOptionsDialog(str(folder), config, self)
        if dialog.exec() == BuildOptionsDialog.DialogCode.Accepted:
            self.start_build(dialog.request())

    def start_build(self, request: BuildRequest) -> bool:
        """Build a model from the images in ``request.folder`` in the background."""
        if self.busy:
            self.show_error("wait for the running job to end, or cancel it, before building")
            return False
        try:
            images, problems = good_part_images(request.folder)
        except PatchCoreError as exc:
            self.show_error(str(exc), "Cannot build")
            return False
        if not self._may_discard_model():  # the new model would replace an unsaved one
            return False
        for problem in problems:
            self.show_info(f"skipped: {problem}")
        self.settings.remember_folder("good", request.folder)
        worker = BuildWorker(self.engine, images, request.config, str(request.folder.resolve()))
        self.jobs.start("build", worker, self._build_finished)
        self._update_actions()
        return True

    def _build_finished(self, outcome: FitResult) -> None:
        model, skipped = outcome.model, outcome.skipped
        # set while the job still counts as running: images listed under the old model are queued
        # and inspected again once the job has ended
        self.set_model(model, None, dirty=True)
        if skipped:
            self.show_error(f"{len(skipped)} file(s) could not be read and were skipped, e.g. {skipped[0]}",
                            "Some good images were skipped")
        took = sum(outcome.seconds.values())  # beside the build dialog's estimate of it
        self.show_info(f"Built a model from {model.n_good_images} good images in {took:.0f} s; "
                       f"threshold {model.threshold:.3f} (not saved yet: Ctrl+S)")

    # --- inspect ------------------------------------------------------------------------------------------
    def add_inputs(self, inputs: Sequence[PathLike]) -> None:
        """Queue image files and folders for inspection (a model file among them is opened)."""
        paths = [Path(p) for p in inputs]
        models = [p for p in paths if is_model_path(p)]
        if models and not self.busy:
            self.open_model(models[0])
        images, problems = find_images([p for p in paths if p not in models])
        for problem in problems:
            self._add_item(InspectedImage.failure(problem.path, problem))
        left_out = self.queue.add(images)
        if left_out:
            self.show_info(f"{left_out} image(s) already in the list were left out (unchanged since)")
        if len(images) > left_out:
            self.results_panel.follow_next()  # show the first new part when it arrives
            if self.document.model is None:
                self.show_info(f"{len(self.queue)} image(s) wait for a model: build one (Ctrl+B) or open one "
                               f"(Ctrl+O)")
        self._run_pending()

    def _run_pending(self) -> None:
        if self.busy or self.document.model is None or not len(self.queue):
            return
        worker = InspectWorker(self.engine, self.document.model, self.queue.take())
        worker.inspected.connect(self._add_item)
        self.jobs.start("inspect", worker, self._inspect_finished)
        self._update_actions()

    def _add_item(self, item: InspectedImage) -> None:
        if item.fingerprint is not None:
            self.queue.listed(item.path, item.fingerprint.stat_key)
        self.results_panel.append(item)
        self.record.add(item)
        if not self._refresh_timer.isActive():  # at most one refresh per interval, however fast rows come
            self._refresh_timer.start()

    def _inspect_finished(self, _count: int) -> None:
        self._refresh_batch_views()
        counts = self.results.counts()
        unlike = likeness_warning(self.model, [(item.path, item.patch_scores) for item in self.results.items()
                                               if item.patch_scores is not None]) if self.model else None
        self.batch_message.say(counts, f"Warning: {unlike}" if unlike else "", self.document.threshold)

    def clear_results(self) -> None:
        self.results_panel.clear()
        self.queue.clear()
        self.shown.show(None)
        self._refresh_batch_views()

    def _refresh_batch_views(self) -> None:
        self.results_panel.refresh_counts()
        self.side_panel.verdict_panel.show_counts(self.results.counts())
        self.side_panel.threshold_panel.set_inspected_scores(self.results.scores())
        self._update_actions()

    # --- export -------------------------------------------------------------------------------------------
    def export_csv(self, path: PathLike, style: CsvStyle = PLAIN) -> bool:
        # what the list shows is what is written; the file and the message say which
        source = ResultsSource.of(self.model, self.document.path, ng_only=self.results_panel.proxy.ng_only)
        rows = rows_to_write(self.results.result_rows(), self.results_panel.proxy.ng_only)
        try:
            write_results_csv(path, rows, source, style)
        except OSError as exc:
            self.show_error(f"cannot write '{path}': {exc.strerror or exc}", "Cannot export")
            return False
        self.settings.remember_folder("export", Path(path))
        self.show_info(csv_written_message(path, len(rows), self.results.rowCount(), source))
        return True

    def export_overlays(self, folder: PathLike) -> bool:
        if self.model is None or self.busy:
            return False
        self.settings.remember_folder("export", Path(folder))
        worker = ExportWorker(self.model, self.results.items(), Path(folder))  # the record's opacity, not the slider's
        self.jobs.start("export", worker, self._export_finished)
        self._update_actions()
        return True

    def _export_finished(self, outcome: tuple) -> None:
        written, problems = outcome
        if problems:
            self.show_error(f"{len(problems)} overlay(s) could not be written, e.g. {problems[0]}")
        self.show_info(f"Wrote {len(written)} overlay(s)" + (f" to {written[0].parent}" if written else "")
                       + f", heatmap at {OVERLAY_OPACITY:.0%} opacity whatever the view shows")

    # --- dialogs: they ask for a path, then call the methods above -----------------------------------------
    def open_model_dialog(self) -> None:
        if self.busy or not self._may_discard_model():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open model", self.settings.folder("model"),
                                              f"PatchCore models (*{MODEL_SUFFIX});;All files (*)")
        if path:
            self.open_model(path)

    def save_model_as_dialog(self) -> bool:
        if self.model is None:
            return False
        start = str(self.document.path or Path(self.settings.folder("model")) / f"model{MODEL_SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self, "Save model", start, f"PatchCore models (*{MODEL_SUFFIX})")
        return self.save_model_to(path) if path else False

    def add_images_dialog(self) -> None:
        patterns = " ".join(f"*{suffix}" for suffix in sorted(IMAGE_SUFFIXES))
        paths, _ = QFileDialog.getOpenFileNames(self, "Add images", self.settings.folder("images"),
                                                f"Images ({patterns});;All files (*)")
        if paths:
            self.settings.remember_folder("images", Path(paths[0]))
            self.add_inputs(paths)

    def add_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of images", self.settings.folder("images"))
        if folder:
            self.settings.remember_folder("images", Path(folder))
            self.add_inputs([folder])

    def export_csv_dialog(self) -> None:
        start = str(Path(self.settings.folder("export")) / "results.csv")
        chosen = self.csv_choice.ask(self, "Export results", start)
        if chosen is not None:
            self.export_csv(*chosen)

    def export_overlays_dialog(self) -> None:
        folder = choose_folder_to_write(self, "Write overlays into", self.settings.folder("export"))
        if folder:
            self.export_overlays(folder)

    def _update_actions(self) -> None:
        if hasattr(self, "commands"):
            line = getattr(self, "line_mode", None)
            self.commands.enable(has_model=self.model is not None, busy=self.busy,
                                 has_rows=self.results.rowCount() > 0, model_locked=bool(line and line.locked),
                                 threshold_locked=bool(line and not line.threshold_free))

    # --- drag and drop, closing ---------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.drop_paths(paths)

    def drop_paths(self, paths: Sequence[Path]) -> None:
        """A model file opens; with no model yet, a single folder is built from; the rest is inspected."""
        if self.model is None and not self.busy and len(paths) == 1 and paths[0].is_dir():
            # the dialog opens after the drop has completed: a modal loop inside a drop event stalls
            # the drag source on some platforms
            self._dropped_folder = paths[0]
            QTimer.singleShot(0, self._build_from_dropped_folder)
            return
        if any(is_model_path(path) for path in paths) and not self._may_discard_model():
            paths = [path for path in paths if not is_model_path(path)]
        self.add_inputs(paths)

    def _build_from_dropped_folder(self) -> None:
        if self._dropped_folder is not None:
            self._open_build_dialog(self._dropped_folder)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.line_mode.may_close() or not self._may_discard_model():
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Save the settings, cancel the running job and wait for its thread."""
        self.settings.save(self, self.splitter, self.inspection_panel.opacity_slider)
        self.queue.drop_pending()
        self.line_mode.shutdown()
        self.region_refresher.shutdown()
        self.jobs.shutdown()
        self.history.shutdown()
        self.record.close()
