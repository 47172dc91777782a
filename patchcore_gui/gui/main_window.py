"""The inspection window: build or open a model, inspect parts, calibrate the threshold by eye.

The window holds the state (model, results, what is shown) and adapts the engine to widgets;
every long call runs in a worker (:mod:`.workers`) through :class:`.job_status.JobStatus`, one at
a time. Images added while a job runs wait in a queue and are inspected when it ends.

Messages for people go through :meth:`MainWindow.show_error` / :meth:`MainWindow.show_info`, which
record them (``last_error``, ``messages``) and never block, so tests can observe them.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence, Set, Union

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QGroupBox, QMainWindow, QMessageBox, QSplitter, QVBoxLayout, QWidget

from ..core.backbones import FeatureBackbone
from ..core.config import PatchCoreConfig
from ..core.errors import PatchCoreError
from ..core.images import IMAGE_SUFFIXES, find_images, read_image
from ..core.likeness import likeness_warning
from ..core.model import PatchCoreModel
from ..core.model_file import MODEL_SUFFIX, load_model, save_model
from ..core.overlay import OVERLAY_OPACITY
from ..core.patchcore import Inspection, Inspector
from ..core.results import ResultsSource, csv_written_message, rows_to_write, write_results_csv
from .dialogs import BuildOptionsDialog, BuildRequest
from .image_view import InspectionPanel
from .job_status import JobStatus
from .results_model import InspectedImage, display_name
from .results_panel import ResultsPanel
from .side_panel import ModelPanel, VerdictPanel
from .threshold_panel import ThresholdPanel
from .window_actions import install_actions
from .workers import BuildOutcome, BuildWorker, ExportWorker, InspectWorker

PathLike = Union[str, Path]
APP_TITLE = "PatchCore Inspector"


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
        # the network stays loaded between jobs: loading it takes seconds
        self._backbone = backbone
        self._inspector: Optional[Inspector] = None
        self._pending: List[Path] = []
        self._known: Set[Path] = set()
        self._dropped_folder: Optional[Path] = None
        # the selected part, read again from disk, and its map at full size (rebuilt from the row's
        # patch scores), kept while it is shown so that a threshold move only re-draws outlines and colours
        self._shown: Optional[InspectedImage] = None
        self._shown_image: Optional[np.ndarray] = None
        self._shown_inspection: Optional[Inspection] = None

        self.setWindowTitle(f"{APP_TITLE}[*]")
        self.setAcceptDrops(True)
        self._build_layout()
        self.commands = install_actions(self)
        self._refresh_timer = QTimer(self, singleShot=True, interval=150)  # coalesces a batch's updates
        self._refresh_timer.timeout.connect(self._refresh_batch_views)
        self._restore_settings()
        self._update_actions()
        self.statusBar().showMessage("Build a model from good parts (Ctrl+B) or open one (Ctrl+O), "
                                     "then drop images here", 15000)

    def _build_layout(self) -> None:
        self.results_panel = ResultsPanel()
        self.results_panel.current_changed.connect(self._show_item)
        self.results, self.proxy, self.table = (self.results_panel.results, self.results_panel.proxy,
                                                self.results_panel.table)
        self.inspection_panel = InspectionPanel()
        self.view = self.inspection_panel.view
        self.verdict_panel = VerdictPanel()
        self.threshold_panel = ThresholdPanel()
        self.threshold_panel.threshold_changed.connect(self._threshold_changed)
        self.model_panel = ModelPanel()
        threshold_box = QGroupBox("Threshold")
        QVBoxLayout(threshold_box).addWidget(self.threshold_panel)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.verdict_panel)
        side_layout.addWidget(threshold_box, 1)
        side_layout.addWidget(self.model_panel)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        for widget, stretch in ((self.results_panel, 0), (self.inspection_panel, 1), (side, 0)):
            self.splitter.addWidget(widget)
            self.splitter.setStretchFactor(self.splitter.count() - 1, stretch)
        self.splitter.setSizes([370, 600, 430])
        self.setCentralWidget(self.splitter)

        self.jobs = JobStatus()
        self.jobs.ended.connect(self._job_ended)
        self.statusBar().addPermanentWidget(self.jobs)
        self.progress_bar, self.cancel_button = self.jobs.progress_bar, self.jobs.cancel_button

    # --- settings ---------------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            screen = QGuiApplication.primaryScreen()
            width, height = 1400, 900
            if screen is not None:  # a first start on a small screen: most of it, not more
                available = screen.availableGeometry()
                width, height = min(width, int(available.width() * 0.95)), min(height, int(available.height() * 0.9))
            self.resize(width, height)
        state = self.settings.value("window/splitter")
        if isinstance(state, QByteArray):
            self.splitter.restoreState(state)
        self.inspection_panel.opacity_slider.setValue(int(self.settings.value("view/opacity", 45)))

    def _save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.setValue("view/opacity", self.inspection_panel.opacity_slider.value())
        self.settings.sync()

    def _folder(self, key: str) -> str:
        return str(self.settings.value(f"folders/{key}", str(Path.home())))

    def _remember_folder(self, key: str, path: Path) -> None:
        self.settings.setValue(f"folders/{key}", str(path if path.is_dir() else path.parent))

    # --- messages -----------------------------------------------------------------------------------------
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

    # --- the model ------------------------------------------------------------------------------------------
    def set_model(self, model: PatchCoreModel, path: Optional[Path] = None, dirty: bool = False) -> None:
        """Make ``model`` current; results of an earlier model are inspected again with it."""
        previous = self.model
        self.model, self.model_path = model, path
        self._set_dirty(dirty)
        self.results_panel.set_threshold(model.threshold)
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
        """One threshold for everything: verdicts, counts, the filter and the outlines; no network."""
        if self.model is None:
            return
        self.model = self.model.with_threshold(threshold)
        self.results_panel.set_threshold(threshold)
        self._set_dirty(True)
        self.verdict_panel.show_counts(self.results.counts())
        self._show_current()

    # --- jobs ---------------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.jobs.busy

    def _job_ended(self, kind: str, outcome: str, message: str) -> None:
        if outcome == "failed":
            titles = {"build": "The build failed", "inspect": "The inspection failed", "export": "The export failed"}
            self.show_error(message, titles.get(kind, "Problem"))
            self._pending.clear()
        elif outcome == "cancelled":
            self._pending.clear()
            self.show_info({"build": "Build cancelled: the previous model is still in use",
                            "inspect": "Inspection cancelled: the images inspected so far are kept",
                            "export": "Export cancelled"}.get(kind, "Cancelled"))
        self._update_actions()
        self.job_done.emit(kind, outcome)
        self._run_pending()

    # --- build --------------------------------------------------------------------------------------------
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
            self.show_error(f"'{folder}' holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})", "Cannot build")
            return False
        for problem in problems:
            self.show_info(f"skipped: {problem}")
        self._remember_folder("good", folder)
        self.jobs.start("build", BuildWorker(images, request.config, str(folder.resolve()), self._backbone),
                        self._build_finished)
        self._update_actions()
        return True

    def _build_finished(self, outcome: BuildOutcome) -> None:
        self._inspector = outcome.inspector
        self._backbone = outcome.inspector.backbone
        model, skipped = outcome.fit.model, outcome.fit.skipped
        # set while the job still counts as running: images listed under the old model are queued
        # and inspected again once finish() has ended the job
        self.set_model(model, None, dirty=True)
        if skipped:
            self.show_error(f"{len(skipped)} file(s) could not be read and were skipped, e.g. {skipped[0]}",
                            "Some good images were skipped")
        self.show_info(f"Built a model from {model.n_good_images} good images; threshold {model.threshold:.3f} "
                       f"(not saved yet: Ctrl+S)")
        self.jobs.finish()

    # --- inspect ------------------------------------------------------------------------------------------
    def add_inputs(self, inputs: Sequence[PathLike]) -> None:
        """Queue image files and folders for inspection (a model file among them is opened)."""
        paths = [Path(p) for p in inputs]
        models = [p for p in paths if p.suffix == MODEL_SUFFIX]
        if models and not self.busy:
            self.open_model(models[0])
        images, problems = find_images([p for p in paths if p.suffix != MODEL_SUFFIX])
        for problem in problems:
            self._add_item(InspectedImage.failure(problem.path, problem))
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
        self.jobs.start("inspect", InspectWorker(self.model, paths, self._inspector, self._backbone),
                        self._inspect_finished, self._add_item)
        self._update_actions()

    def _add_item(self, item: InspectedImage) -> None:
        self.results_panel.append(item)
        if not self._refresh_timer.isActive():  # at most one refresh per interval, however fast rows come
            self._refresh_timer.start()

    def _inspect_finished(self, inspector: Inspector) -> None:
        self._inspector = inspector
        self._backbone = inspector.backbone
        self._refresh_batch_views()
        counts = self.results.counts()
        unlike = likeness_warning(self.model, [(item.path, item.patch_scores) for item in self.results.items()
                                               if item.patch_scores is not None]) if self.model else None
        self.show_info(f"Inspected: {counts['OK']} OK, {counts['NG']} NG, {counts['ERROR']} unreadable"
                       + (f". Warning: {unlike}" if unlike else ""))
        self.jobs.finish()

    def clear_results(self) -> None:
        self.results_panel.clear()
        self._known.clear()
        self._show_item(None)
        self._refresh_batch_views()

    def _refresh_batch_views(self) -> None:
        self.results_panel.refresh_counts()
        self.verdict_panel.show_counts(self.results.counts())
        self.threshold_panel.set_inspected_scores(self.results.scores())
        self._update_actions()

    # --- what is shown ------------------------------------------------------------------------------------
    @property
    def shown_item(self) -> Optional[InspectedImage]:
        return self._shown

    def select_row(self, row: int) -> None:
        self.results_panel.select_row(row)

    def _show_item(self, item: Optional[InspectedImage]) -> None:
        if item is self._shown and item is not None:
            return
        self._shown, self._shown_image = item, None
        self._shown_inspection = item.inspection(self.model) if item is not None and self.model else None
        if item is not None:
            try:
                self._shown_image = read_image(item.path)
            except PatchCoreError as exc:
                if not item.error:  # an ERROR row already says why
                    self.show_error(str(exc))
        self._show_current(new_part=True)

    def _show_current(self, new_part: bool = False) -> None:
        """Draw the selected part at the current threshold: all of it for a new selection, only the
        colour range and the outlines when the threshold moved."""
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
        self.view.set_caption(caption + ("" if item.score is None else f"   score {item.score:.3f}"))

    # --- export -------------------------------------------------------------------------------------------
    def export_csv(self, path: PathLike) -> bool:
        # what the list shows is what is written; the file and the message say which
        source = ResultsSource.of(self.model, self.model_path, ng_only=self.proxy.ng_only)
        rows = rows_to_write(self.results.result_rows(), self.proxy.ng_only)
        try:
            write_results_csv(path, rows, source)
        except OSError as exc:
            self.show_error(f"cannot write '{path}': {exc.strerror or exc}", "Cannot export")
            return False
        self._remember_folder("export", Path(path))
        self.show_info(csv_written_message(path, len(rows), self.results.rowCount(), source))
        return True

    def export_overlays(self, folder: PathLike) -> bool:
        if self.model is None or self.busy:
            return False
        self._remember_folder("export", Path(folder))
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
        self.jobs.finish()

    # --- dialogs: they ask for a path, then call the methods above -----------------------------------------
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
        patterns = " ".join(f"*{suffix}" for suffix in sorted(IMAGE_SUFFIXES))
        paths, _ = QFileDialog.getOpenFileNames(self, "Add images", self._folder("images"),
                                                f"Images ({patterns});;All files (*)")
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
        if not hasattr(self, "commands"):
            return
        has_model, busy, has_rows = self.model is not None, self.busy, self.results.rowCount() > 0
        c = self.commands
        for action, enabled in ((c.open_model, not busy), (c.build, not busy), (c.save_model, has_model),
                                (c.save_model_as, has_model), (c.export_csv, has_rows),
                                (c.export_overlays, has_rows and has_model and not busy),
                                (c.clear, has_rows and not busy), (c.cancel, busy),
                                (c.default_threshold, has_model)):
            action.setEnabled(enabled)

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
        if any(path.suffix == MODEL_SUFFIX for path in paths) and not self._may_discard_model():
            paths = [path for path in paths if path.suffix != MODEL_SUFFIX]
        self.add_inputs(paths)

    def _build_from_dropped_folder(self) -> None:
        self.build_dialog(self._dropped_folder)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._may_discard_model():
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Save the settings, cancel the running job and wait for its thread."""
        self._save_settings()
        self._pending.clear()
        self.jobs.shutdown()
