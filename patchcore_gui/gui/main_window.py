"""The inspection window: build or open a model, inspect parts, calibrate the threshold by eye.

The window holds the state (model, results, the running job) and adapts the engine to widgets;
every long call runs in a worker (:mod:`.workers`). One job runs at a time; images added while a
job runs wait in a queue and are inspected when it ends.

Messages for people go through :meth:`MainWindow.show_error` / :meth:`MainWindow.show_info`, which
record them (``last_error``, ``messages``) and show them without blocking, so tests can observe them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Union

import numpy as np
from PySide6.QtCore import QByteArray, QModelIndex, QSettings, QSize, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QFileDialog, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QMainWindow, QMessageBox, QProgressBar, QPushButton, QSlider, QSplitter, QTableView,
                               QVBoxLayout, QWidget)

from ..core.backbones import FeatureBackbone
from ..core.config import PatchCoreConfig
from ..core.errors import PatchCoreError
from ..core.images import find_images, read_image
from ..core.model import PatchCoreModel
from ..core.model_file import MODEL_SUFFIX, load_model, save_model
from ..core.patchcore import Inspection, Inspector
from ..core.results import write_results_csv
from .dialogs import BuildOptionsDialog, BuildRequest
from .image_view import InspectionView
from .results_model import (ITEM_ROLE, InspectedImage, ResultsFilterProxy, ResultsTableModel, VerdictDelegate,
                            display_name)
from .side_panel import ModelPanel, VerdictPanel
from .threshold_panel import ThresholdPanel
from .workers import BuildOutcome, BuildWorker, ExportWorker, InspectWorker, Worker, start_worker

PathLike = Union[str, Path]
APP_TITLE = "PatchCore Inspector"
STAGE_NAMES = {"features": "Reading good parts", "coreset": "Choosing the memory bank",
               "calibration": "Calibrating the threshold", "inspect": "Inspecting", "export": "Writing overlays",
               "loading network": "Loading the network"}


@dataclass
class Job:
    kind: str  # "build", "inspect" or "export"
    worker: Worker
    thread: QThread


def _problem_path(problem: str) -> Path:
    """The file a one-line engine problem names ("cannot read 'x.png': ...")."""
    parts = problem.split("'")
    return Path(parts[1]) if len(parts) >= 3 else Path(problem)


class MainWindow(QMainWindow):
    model_changed = Signal(object)
    #: (kind, outcome): kind "build" | "inspect" | "export"; outcome "finished" | "failed" | "cancelled".
    job_done = Signal(str, str)

    def __init__(self, settings: Optional[QSettings] = None, backbone: Optional[FeatureBackbone] = None,
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.settings = settings if settings is not None else QSettings()
        self.model: Optional[PatchCoreModel] = None
        self.model_path: Optional[Path] = None
        self.dirty = False
        self.last_error = ""
        self.messages: List[str] = []
        #: Off in tests: messages are then only recorded and shown in the status bar.
        self.use_message_boxes = True
        self._backbone = backbone
        self._inspector: Optional[Inspector] = None
        self._job: Optional[Job] = None
        #: Every started thread with its worker, until the thread has finished: dropping the Python
        #: reference to a worker whose thread still runs would delete it under the thread's feet.
        self._threads: Dict[QThread, Worker] = {}
        self._pending: List[Path] = []
        self._known: Set[Path] = set()
        # the selected part, read again from disk, and its map at full size: kept while it is shown
        # so a threshold move only re-draws outlines and colours
        self._shown: Optional[InspectedImage] = None
        self._shown_image: Optional[np.ndarray] = None
        self._shown_inspection: Optional[Inspection] = None

        self.setWindowTitle(f"{APP_TITLE}[*]")
        self.setAcceptDrops(True)
        self._build_widgets()
        self._build_actions()
        self._build_status_bar()
        self._refresh_timer = QTimer(self, singleShot=True, interval=150)
        self._refresh_timer.timeout.connect(self._refresh_batch_views)
        self._restore_settings()
        self._update_actions()

    # ================================================================================================
    # layout
    # ================================================================================================
    def _build_widgets(self) -> None:
        self.results = ResultsTableModel(self)
        self.proxy = ResultsFilterProxy(self)
        self.proxy.setSourceModel(self.results)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        # arrival order until a header is clicked (enabling sorting sorts by the indicator at once)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setIconSize(QSize(44, 44))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(50)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setItemDelegateForColumn(ResultsTableModel.VERDICT, VerdictDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(ResultsTableModel.FILE, QHeaderView.ResizeMode.Stretch)
        digit = self.fontMetrics().horizontalAdvance("0")
        for column, width in ((ResultsTableModel.THUMB, 52), (ResultsTableModel.SCORE, 8 * digit),
                              (ResultsTableModel.VERDICT, 9 * digit)):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().currentRowChanged.connect(self._current_row_changed)
        self.ng_only = QCheckBox("NG only")
        self.ng_only.setToolTip("Show only the parts above the threshold")
        self.ng_only.toggled.connect(self._ng_only_toggled)
        self.list_counts = QLabel()
        results_box = QGroupBox("Results")
        list_top = QHBoxLayout()
        list_top.addWidget(self.ng_only)
        list_top.addStretch(1)
        list_top.addWidget(self.list_counts)
        results_layout = QVBoxLayout(results_box)
        results_layout.addLayout(list_top)
        results_layout.addWidget(self.table, 1)

        self.view = InspectionView()
        self.heatmap_box = QCheckBox("Heatmap")
        self.heatmap_box.setChecked(True)
        self.heatmap_box.setToolTip("Show the anomaly heatmap over the part (H)")
        self.heatmap_box.toggled.connect(self.view.set_heatmap_visible)
        self.outline_box = QCheckBox("NG regions")
        self.outline_box.setChecked(True)
        self.outline_box.setToolTip("Outline the regions above the threshold")
        self.outline_box.toggled.connect(self.view.set_outline_visible)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(45)
        self.opacity_slider.setMaximumWidth(160)
        self.opacity_slider.setToolTip("Heatmap opacity")
        self.opacity_slider.valueChanged.connect(self._opacity_changed)
        fit_button = QPushButton("Fit")
        fit_button.setToolTip("Show the whole part (Ctrl+0); zoom with the wheel, pan by dragging")
        fit_button.clicked.connect(self.view.fit_to_view)
        view_controls = QHBoxLayout()
        for widget in (self.heatmap_box, self.outline_box, QLabel("Opacity"), self.opacity_slider):
            view_controls.addWidget(widget)
        view_controls.addStretch(1)
        view_controls.addWidget(fit_button)
        view_host = QWidget()
        view_layout = QVBoxLayout(view_host)
        view_layout.setContentsMargins(0, 0, 0, 0)
        view_layout.addWidget(self.view, 1)
        view_layout.addLayout(view_controls)

        self.model_panel = ModelPanel()
        self.verdict_panel = VerdictPanel()
        self.threshold_panel = ThresholdPanel()
        self.threshold_panel.threshold_changed.connect(self._threshold_changed)
        threshold_box = QGroupBox("Threshold")
        QVBoxLayout(threshold_box).addWidget(self.threshold_panel)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.verdict_panel)
        side_layout.addWidget(threshold_box, 1)
        side_layout.addWidget(self.model_panel)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        for widget, stretch in ((results_box, 0), (view_host, 1), (side, 0)):
            self.splitter.addWidget(widget)
            self.splitter.setStretchFactor(self.splitter.count() - 1, stretch)
        self.splitter.setSizes([370, 600, 430])
        self.setCentralWidget(self.splitter)

    def _action(self, text: str, slot, shortcuts: Sequence[Union[str, QKeySequence.StandardKey]] = (),
                tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setStatusTip(tip)
        action.setToolTip(f"{tip} ({QKeySequence(shortcuts[0]).toString(QKeySequence.SequenceFormat.NativeText)})"
                          if shortcuts and tip else tip)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even with the menu bar hidden
        return action

    def _build_actions(self) -> None:
        a = self._action
        self.open_action = a("&Open model…", self.open_model_dialog, ["Ctrl+O"], "Open a model file")
        self.save_action = a("&Save model", self.save_model_interactive, ["Ctrl+S"],
                             "Save the model with its threshold")
        self.save_as_action = a("Save model &as…", self.save_model_as_dialog, ["Ctrl+Shift+S"],
                                "Save the model to a new file")
        self.build_action = a("&Build model…", self.build_dialog, ["Ctrl+B"], "Build a model from good parts")
        self.add_images_action = a("Add &images…", self.add_images_dialog, ["Ctrl+I"], "Inspect image files")
        self.add_folder_action = a("Add &folder…", self.add_folder_dialog, ["Ctrl+Shift+I"],
                                   "Inspect every image in a folder")
        self.export_csv_action = a("Export results as &CSV…", self.export_csv_dialog, ["Ctrl+E"],
                                   "Write file, score, threshold and verdict of every row")
        self.export_overlays_action = a("Export &overlays…", self.export_overlays_dialog, ["Ctrl+Shift+E"],
                                        "Write a heatmap overlay PNG of every inspected part")
        self.clear_action = a("C&lear results", self.clear_results, [], "Empty the results list")
        self.cancel_action = a("&Cancel", self.cancel_job, ["Esc"], "Cancel the running build or inspection")
        self.quit_action = a("&Quit", self.close, ["Ctrl+Q"], "Close the window")
        self.next_action = a("&Next image", self.select_next, ["PgDown", "Alt+Right"], "Show the next part")
        self.previous_action = a("&Previous image", self.select_previous, ["PgUp", "Alt+Left"],
                                 "Show the previous part")
        self.heatmap_action = a("&Heatmap", self.heatmap_box.toggle, ["H"], "Show or hide the heatmap")
        self.fit_action = a("&Fit to window", self.view.fit_to_view, ["Ctrl+0"], "Show the whole part")
        self.default_threshold_action = a("Reset threshold to &default", self.threshold_panel.reset_to_default, [],
                                          "Back to the threshold learned from the good parts")

        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for action in (self.open_action, self.save_action, self.save_as_action, None, self.export_csv_action,
                       self.export_overlays_action, None, self.quit_action):
            file_menu.addSeparator() if action is None else file_menu.addAction(action)
        model_menu = bar.addMenu("&Model")
        for action in (self.build_action, self.cancel_action, None, self.default_threshold_action):
            model_menu.addSeparator() if action is None else model_menu.addAction(action)
        inspect_menu = bar.addMenu("&Inspect")
        for action in (self.add_images_action, self.add_folder_action, self.clear_action, None, self.next_action,
                       self.previous_action):
            inspect_menu.addSeparator() if action is None else inspect_menu.addAction(action)
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.heatmap_action)
        view_menu.addAction(self.fit_action)

        tools = self.addToolBar("Main")
        tools.setObjectName("main_toolbar")
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.build_action, self.open_action, self.save_action, None, self.add_images_action,
                       self.add_folder_action, None, self.export_csv_action, self.export_overlays_action):
            tools.addSeparator() if action is None else tools.addAction(action)

    def _build_status_bar(self) -> None:
        self.stage_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(260)
        self.progress_bar.setFormat("%v / %m")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_job)
        status = self.statusBar()
        for widget in (self.stage_label, self.progress_bar, self.cancel_button):
            status.addPermanentWidget(widget)
            widget.hide()
        status.showMessage("Ready", 3000)

    # ================================================================================================
    # settings
    # ================================================================================================
    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and self.restoreGeometry(geometry):
            pass
        else:
            screen = QGuiApplication.primaryScreen()
            available = screen.availableGeometry() if screen else None
            width, height = 1400, 900
            if available is not None:
                width, height = min(width, int(available.width() * 0.95)), min(height, int(available.height() * 0.9))
            self.resize(width, height)
        state = self.settings.value("window/splitter")
        if isinstance(state, QByteArray):
            self.splitter.restoreState(state)
        self.opacity_slider.setValue(int(self.settings.value("view/opacity", 45)))

    def _save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.setValue("view/opacity", self.opacity_slider.value())
        self.settings.sync()

    def _folder(self, key: str) -> str:
        return str(self.settings.value(f"folders/{key}", str(Path.home())))

    def _remember_folder(self, key: str, path: Path) -> None:
        self.settings.setValue(f"folders/{key}", str(path if path.is_dir() else path.parent))

    # ================================================================================================
    # messages
    # ================================================================================================
    def show_error(self, text: str, title: str = "Problem") -> None:
        self.last_error = text
        self.messages.append(text)
        self.statusBar().showMessage(text, 20000)
        if self.use_message_boxes:
            box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()  # window-modal but not blocking: workers keep reporting behind it

    def show_info(self, text: str) -> None:
        self.messages.append(text)
        self.statusBar().showMessage(text, 10000)

    def _ask_to_save(self) -> str:
        """'save', 'discard' or 'cancel' for a model with unsaved changes (tests replace this method)."""
        answer = QMessageBox.question(
            self, APP_TITLE, "The model has unsaved changes (a new build or a moved threshold). Save it?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
            answer, "cancel")

    def _may_discard_model(self) -> bool:
        if not self.dirty or self.model is None:
            return True
        answer = self._ask_to_save()
        if answer == "save":
            return self.save_model_interactive()
        return answer == "discard"

    # ================================================================================================
    # the model
    # ================================================================================================
    def set_model(self, model: PatchCoreModel, path: Optional[Path] = None, dirty: bool = False) -> None:
        """Make ``model`` current; results of an earlier model are scored again with it."""
        previous = self.model
        self.model, self.model_path = model, path
        self._set_dirty(dirty)
        self.results.set_threshold(model.threshold)
        self.threshold_panel.set_model(model)
        self.model_changed.emit(model)
        if previous is not None and self.results.rowCount():
            redo = [item.path for item in self.results.items()]
            self.clear_results()
            self.show_info(f"The model changed: inspecting the {len(redo)} images again")
            self.add_inputs(redo)
        else:
            self._refresh_batch_views()
            self._run_pending()
        self._update_actions()

    def open_model(self, path: PathLike) -> bool:
        try:
            model = load_model(path)
        except PatchCoreError as exc:
            self.show_error(str(exc), "Cannot open the model")
            return False
        self._remember_folder("model", Path(path))
        self.set_model(model, Path(path))
        self.show_info(f"Opened {Path(path).name}")
        return True

    def save_model_to(self, path: PathLike) -> bool:
        if self.model is None:
            return False
        target = Path(path)
        if target.suffix != MODEL_SUFFIX:
            target = target.with_name(target.name + MODEL_SUFFIX)
        try:
            save_model(self.model, target)
        except OSError as exc:
            self.show_error(f"cannot save the model to '{target}': {exc.strerror or exc}", "Cannot save")
            return False
        self.model_path = target
        self._remember_folder("model", target)
        self._set_dirty(False)
        self.show_info(f"Saved {target.name} (threshold {self.model.threshold:.3f})")
        return True

    def save_model_interactive(self) -> bool:
        if self.model_path is not None:
            return self.save_model_to(self.model_path)
        return self.save_model_as_dialog()

    def _set_dirty(self, dirty: bool) -> None:
        self.dirty = dirty
        self.setWindowModified(dirty)
        name = self.model_path.name if self.model_path else ("new model" if self.model else "")
        self.setWindowTitle(f"{name}[*] — {APP_TITLE}" if name else f"{APP_TITLE}[*]")
        self.model_panel.show_model(self.model, self.model_path, dirty)

    def _threshold_changed(self, threshold: float) -> None:
        """One threshold for everything: verdicts, counts, the filter and the outlines, no network."""
        if self.model is None:
            return
        self.model = self.model.with_threshold(threshold)
        self.results.set_threshold(threshold)
        self.proxy.refilter()
        self._set_dirty(True)
        self._refresh_counts()
        self._show_current()

    # ================================================================================================
    # jobs
    # ================================================================================================
    @property
    def busy(self) -> bool:
        return self._job is not None

    @property
    def job(self) -> Optional[Job]:
        return self._job

    def _start_job(self, kind: str, worker: Worker) -> None:
        worker.progress.connect(self._job_progress)
        worker.failed.connect(self._job_failed)
        worker.cancelled.connect(self._job_cancelled)
        worker.finished.connect({"build": self._build_finished, "inspect": self._inspect_finished,
                                 "export": self._export_finished}[kind])
        if isinstance(worker, InspectWorker):
            worker.inspected.connect(self._inspected)
        thread = start_worker(worker, self)
        self._threads[thread] = worker
        thread.finished.connect(self._thread_finished)
        self._job = Job(kind, worker, thread)
        self.stage_label.setText(STAGE_NAMES.get(kind, kind.capitalize()) + "…")
        self.progress_bar.setRange(0, 0)
        for widget in (self.stage_label, self.progress_bar, self.cancel_button):
            widget.show()
        self.cancel_button.setEnabled(True)
        self._update_actions()

    def cancel_job(self) -> None:
        if self._job is not None:
            self._job.worker.cancel()
            self._pending.clear()
            self.cancel_button.setEnabled(False)
            self.stage_label.setText("Cancelling…")

    def _job_progress(self, done: int, total: int, stage: str) -> None:
        if self._job is None or self._job.worker.cancel_requested:
            return
        self.stage_label.setText(STAGE_NAMES.get(stage, stage))
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done)

    def _end_job(self, outcome: str) -> None:
        job, self._job = self._job, None
        for widget in (self.stage_label, self.progress_bar, self.cancel_button):
            widget.hide()
        self._update_actions()
        if job is not None:
            self.job_done.emit(job.kind, outcome)
        self._run_pending()

    def _thread_finished(self) -> None:
        thread = self.sender()
        if isinstance(thread, QThread) and thread in self._threads:
            del self._threads[thread]
            thread.deleteLater()

    def _job_failed(self, message: str) -> None:
        kind = self._job.kind if self._job else "job"
        titles = {"build": "The build failed", "inspect": "The inspection failed", "export": "The export failed"}
        self.show_error(message, titles.get(kind, "Problem"))
        self._pending.clear()
        self._end_job("failed")

    def _job_cancelled(self) -> None:
        kind = self._job.kind if self._job else "job"
        notes = {"build": "Build cancelled: the previous model is still in use",
                 "inspect": "Inspection cancelled: the images inspected so far are kept",
                 "export": "Export cancelled"}
        self.show_info(notes.get(kind, "Cancelled"))
        self._end_job("cancelled")

    # ================================================================================================
    # build
    # ================================================================================================
    def build_dialog(self, folder: Optional[PathLike] = None) -> None:
        if self.busy:
            return
        config = self.model.config if self.model is not None else PatchCoreConfig()
        dialog = BuildOptionsDialog(str(folder) if folder else self._folder("good"), config, self)
        if dialog.exec() == BuildOptionsDialog.DialogCode.Accepted:
            self.start_build(dialog.request())

    def start_build(self, request: BuildRequest) -> bool:
        """Build a model from the images in ``request.folder`` in the background."""
        if self.busy:
            self.show_error("wait for the running job to end, or cancel it, before building")
            return False
        folder = request.folder
        if not folder.is_dir():
            self.show_error(f"good-parts folder '{folder}' does not exist or is not a folder", "Cannot build")
            return False
        images, problems = find_images([folder])
        if not images:
            self.show_error(f"'{folder}' holds no images (.png, .jpg, .bmp, .tif)", "Cannot build")
            return False
        if len(images) < 2:
            self.show_error(f"need at least 2 good images to build a model, '{folder}' holds 1", "Cannot build")
            return False
        for problem in problems:
            self.show_info(f"skipped: {problem}")
        self._remember_folder("good", folder)
        self._start_job("build", BuildWorker(images, request.config, str(folder.resolve()), self._backbone))
        return True

    def _build_finished(self, outcome: BuildOutcome) -> None:
        self._inspector = outcome.inspector
        self._backbone = outcome.inspector.backbone
        model = outcome.fit.model
        skipped = outcome.fit.skipped
        self._end_job_quietly()
        self.set_model(model, None, dirty=True)
        note = f"Built a model from {model.n_good_images} good images; threshold {model.threshold:.3f}"
        if skipped:
            self.show_error(f"{len(skipped)} file(s) could not be read and were skipped, e.g. {skipped[0]}",
                            "Some good images were skipped")
        self.show_info(note + " (not saved yet: Ctrl+S)")
        self.job_done.emit("build", "finished")
        self._run_pending()

    def _end_job_quietly(self) -> None:
        """End the job before handing results on, so follow-up work (re-inspection) can start."""
        self._job = None
        for widget in (self.stage_label, self.progress_bar, self.cancel_button):
            widget.hide()
        self._update_actions()

    # ================================================================================================
    # inspect
    # ================================================================================================
    def add_inputs(self, inputs: Sequence[PathLike]) -> None:
        """Queue image files and folders for inspection (a model file among them is opened)."""
        paths = [Path(p) for p in inputs]
        models = [p for p in paths if p.suffix == MODEL_SUFFIX]
        if models and not self.busy:
            self.open_model(models[0])
        images, problems = find_images([p for p in paths if p.suffix != MODEL_SUFFIX])
        for problem in problems:
            self._add_item(InspectedImage.failure(_problem_path(problem), problem))
        fresh = [path for path in images if path.resolve() not in self._known]
        if len(fresh) < len(images):
            self.show_info(f"{len(images) - len(fresh)} image(s) already in the list were left out")
        self._known.update(path.resolve() for path in fresh)
        self._pending.extend(fresh)
        if self.model is None and fresh:
            self.show_info(f"{len(self._pending)} image(s) wait for a model: build one (Ctrl+B) or open one (Ctrl+O)")
        self._run_pending()

    def _run_pending(self) -> None:
        if self.busy or self.model is None or not self._pending:
            return
        paths, self._pending = self._pending, []
        self._start_job("inspect", InspectWorker(self.model, paths, self._inspector, self._backbone))

    def _inspected(self, item: InspectedImage) -> None:
        self._add_item(item)

    def _add_item(self, item: InspectedImage) -> None:
        self.results.append(item)
        if not self.table.selectionModel().hasSelection() and self.proxy.rowCount():
            self.table.selectRow(0)
        self._refresh_timer.start()

    def _inspect_finished(self, inspector: Inspector) -> None:
        self._inspector = inspector
        self._backbone = inspector.backbone
        self._refresh_batch_views()
        counts = self.results.counts()
        self.show_info(f"Inspected: {counts['OK']} OK, {counts['NG']} NG, {counts['ERROR']} unreadable")
        self._end_job("finished")

    def clear_results(self) -> None:
        self.results.clear()
        self._known.clear()
        self._shown = None
        self._shown_image = None
        self._shown_inspection = None
        self.view.show_nothing()
        self._refresh_batch_views()

    # ================================================================================================
    # selection and display
    # ================================================================================================
    def _current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        item = current.data(ITEM_ROLE) if current.isValid() else None
        if item is self._shown:
            return
        self._shown = item
        self._shown_image = None
        self._shown_inspection = item.inspection() if item is not None else None
        if item is not None:
            try:
                self._shown_image = read_image(item.path)
            except PatchCoreError as exc:
                if not item.error:
                    self.show_error(str(exc))
        self._show_current(new_part=True)

    @property
    def shown_item(self) -> Optional[InspectedImage]:
        return self._shown

    def _show_current(self, new_part: bool = False) -> None:
        """Draw the selected part with the current threshold: all of it for a new selection, only
        the colour range and the outlines when the threshold moved."""
        threshold = self.model.threshold if self.model else 0.0
        self.verdict_panel.show_item(self._shown, threshold)
        item, image, inspection = self._shown, self._shown_image, self._shown_inspection
        if item is None or image is None:
            self.view.show_nothing("" if item is None else f"ERROR: {item.error}")
            return
        if inspection is None or self.model is None:
            self.view.show_part(image, None, (0.0, 1.0), None)
        else:
            colour_range = self.model.map_scale.colour_range(threshold)
            mask = inspection.defect_mask(self.model, threshold)
            if new_part:
                self.view.show_part(image, inspection.anomaly_map, colour_range, mask)
            else:
                self.view.set_colour_range(colour_range)
                self.view.set_defect_mask(mask)
        caption = f"{display_name(item.path)}   {item.verdict(threshold)}"
        if item.score is not None:
            caption += f"   score {item.score:.3f}"
        self.view.set_caption(caption)

    def select_row(self, row: int) -> None:
        if 0 <= row < self.proxy.rowCount():
            self.table.selectRow(row)
            self.table.scrollTo(self.proxy.index(row, 0))

    def select_next(self) -> None:
        self.select_row(min(self.table.currentIndex().row() + 1, self.proxy.rowCount() - 1))

    def select_previous(self) -> None:
        self.select_row(max(self.table.currentIndex().row() - 1, 0))

    def _opacity_changed(self, value: int) -> None:
        # a method, not a lambda: a lambda holding the window crashes PySide when the window is deleted
        self.view.set_opacity(value / 100)

    def _ng_only_toggled(self, checked: bool) -> None:
        self.proxy.set_ng_only(checked)
        self._refresh_counts()

    def _refresh_counts(self) -> None:
        counts = self.results.counts()
        self.verdict_panel.show_counts(counts)
        shown, total = self.proxy.rowCount(), self.results.rowCount()
        self.list_counts.setText(f"{shown} of {total}" if shown != total else f"{total} images")

    def _refresh_batch_views(self) -> None:
        self._refresh_counts()
        self.threshold_panel.set_inspected_scores(self.results.scores())
        self._update_actions()

    # ================================================================================================
    # export
    # ================================================================================================
    def export_csv(self, path: PathLike) -> bool:
        try:
            write_results_csv(path, self.results.result_rows())
        except OSError as exc:
            self.show_error(f"cannot write '{path}': {exc.strerror or exc}", "Cannot export")
            return False
        self._remember_folder("export", Path(path))
        self.show_info(f"Wrote {self.results.rowCount()} rows to {Path(path).name}")
        return True

    def export_overlays(self, folder: PathLike) -> bool:
        if self.model is None or self.busy:
            return False
        self._remember_folder("export", Path(folder))
        opacity = self.opacity_slider.value() / 100
        self._start_job("export", ExportWorker(self.model, self.results.items(), Path(folder), opacity))
        return True

    def _export_finished(self, outcome: tuple) -> None:
        written, problems = outcome
        if problems:
            self.show_error(f"{len(problems)} overlay(s) could not be written, e.g. {problems[0]}")
        self.show_info(f"Wrote {len(written)} overlay(s)" + (f" to {written[0].parent}" if written else ""))
        self._end_job("finished")

    # ================================================================================================
    # dialogs (thin: they ask for a path and call the methods above)
    # ================================================================================================
    def open_model_dialog(self) -> None:
        if self.busy or not self._may_discard_model():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open model", self._folder("model"),
                                              f"PatchCore models (*{MODEL_SUFFIX});;All files (*)")
        if path:
            self.open_model(path)

    def save_model_as_dialog(self) -> bool:
        if self.model is None:
            return False
        start = str(self.model_path) if self.model_path else str(Path(self._folder("model")) / f"model{MODEL_SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self, "Save model", start, f"PatchCore models (*{MODEL_SUFFIX})")
        return self.save_model_to(path) if path else False

    def add_images_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add images", self._folder("images"),
                                                "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff);;All files (*)")
        if paths:
            self._remember_folder("images", Path(paths[0]))
            self.add_inputs(paths)

    def add_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of images", self._folder("images"))
        if folder:
            self._remember_folder("images", Path(folder))
            self.add_inputs([folder])

    def export_csv_dialog(self) -> None:
        start = str(Path(self._folder("export")) / "results.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Export results", start, "CSV files (*.csv)")
        if path:
            self.export_csv(path)

    def export_overlays_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Write overlays into", self._folder("export"))
        if folder:
            self.export_overlays(folder)

    def _update_actions(self) -> None:
        has_model, busy, has_rows = self.model is not None, self.busy, self.results.rowCount() > 0
        self.open_action.setEnabled(not busy)
        self.build_action.setEnabled(not busy)
        self.save_action.setEnabled(has_model)
        self.save_as_action.setEnabled(has_model)
        self.export_csv_action.setEnabled(has_rows)
        self.export_overlays_action.setEnabled(has_rows and has_model and not busy)
        self.clear_action.setEnabled(has_rows and not busy)
        self.cancel_action.setEnabled(busy)
        self.default_threshold_action.setEnabled(has_model)

    # ================================================================================================
    # drag and drop, closing
    # ================================================================================================
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.drop_paths(paths)

    def drop_paths(self, paths: Sequence[Path]) -> None:
        """What a drop does: a model file opens; without a model a single folder is built from;
        anything else is inspected."""
        if self.model is None and not self.busy and len(paths) == 1 and paths[0].is_dir():
            self.build_dialog(paths[0])
            return
        if any(path.suffix == MODEL_SUFFIX for path in paths) and not self._may_discard_model():
            paths = [path for path in paths if path.suffix != MODEL_SUFFIX]
        self.add_inputs(paths)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._may_discard_model():
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Cancel the running job and wait for its thread (a QThread must not outlive its window)."""
        self._save_settings()
        self._pending.clear()
        if self._job is not None:
            self._job.worker.cancel()
        for thread in list(self._threads):
            thread.quit()  # leaves the thread's event loop as soon as the worker returns
            thread.wait(10000)
