"""Line mode in the window: the newest part large, the shift's counters, its NG parts, Pause and Stop.

The panel starts a :class:`~.line_worker.LineWorker` on a folder and shows what its signals bring;
it reads no file and computes nothing. While a line runs it says so (``running_changed``), and the
window locks the threshold and the model against a stray drag; :meth:`unlock` is the operator's
explicit unlock, which the worker puts into the store's audit trail (``threshold_unlocked``).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QModelIndex, QPoint, QSettings, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QApplication, QCheckBox, QComboBox, QFileDialog, QFormLayout, QGridLayout, QHBoxLayout,
                               QLabel, QLineEdit, QListView, QMenu, QMessageBox, QPushButton, QSizePolicy, QVBoxLayout,
                               QWidget)

from ..core import Inspector, PatchCoreError
from ..line import LineSettings, OverlayWriter, PartSorter, ShiftSnapshot
from ..line.disk_space import FULL_WITHIN_S
from ..line.ng_in_a_row import NG_IN_A_ROW
from ..line.runner import Recorder
from ..line.shifts import ShiftPlan
from ..record import Decision, StoredInspection
from ..record.records import DECIDED_VERDICTS
from .image_view import InspectionView
from .line_worker import SHOW_EVERY_S, THUMBNAIL_SIDE, FollowedModelFile, LineWorker, ShownLinePart
from .ng_parts import IMAGE_ROLE, KEY_ROLE, LISTED_VERDICTS, RECORDED_PATH_ROLE, NgPartsModel, NgRow
from .number_boxes import CountBox
from .side_panel import LeastHeightFirst, scrolled
from .signal_setting import SignalCommandSetting
from .window_settings import ticked, whole_number
from .workers import start_worker

#: NG parts whose full picture is kept to look back at; older ones keep their thumbnail.
KEPT_NG_PICTURES = 50
VERDICT_STYLE = {"OK": "background:#1b7f3b;color:white", "NG": "background:#b3261e;color:white",
                 "REVIEW": "background:#8e44ad;color:white",
                 "ERROR": "background:#c77700;color:white", "": "background:#444;color:white"}
SHIFTS_TIP = ("Local times the shifts start: the counters and the NG parts start again then, without stopping the "
              "line. Empty: the shift is the line's run")
SORTING = (("leave", "Leave images in the folder"), ("copy", "Copy into OK / (REVIEW /) NG / ERROR"),
           ("move", "Move into OK / (REVIEW /) NG / ERROR"))


class LinePanel(QWidget):
    #: True when a line starts, False when it has stopped.
    running_changed = Signal(bool)
    #: The operator unlocked the threshold while the line runs.
    threshold_unlocked = Signal()
    #: A one-line message for the status bar.
    message = Signal(str)
    #: The line inspects with this model, read from its model file after it changed (PatchCoreModel).
    model_taken_up = Signal(object)
    #: An NG part of the shift to inspect again in the Inspect tab: its image's path now, and the path the line
    #: recorded it under (Path).
    inspect_again = Signal(Path, object)
    #: An NG part of the shift that the engineer says is good: to be taught (its image's path now), and the path the
    #: line recorded it under (Path, or None) for the person's verdict on it.
    teach_good = Signal(Path, object)
    #: A person's verdict on a listed part, asked for: where its record says the camera wrote it, OK or NG.
    decide_part = Signal(Path, str)
    #: Stop pressed while a line waits for its camera folder to appear
    wait_cancelled = Signal()

    def __init__(self, settings: QSettings, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.worker: Optional[LineWorker] = None
        self.waiting = False  # for a camera folder to appear, to run a line on it
        self.thread = None
        self.folder: Optional[Path] = None
        self.unlocked = False
        #: the last KEPT_NG_PICTURES NG parts with their pictures, by their row's key in ``ng_model``
        self.ng_parts: "OrderedDict[int, ShownLinePart]" = OrderedDict()
        self.last_snapshot: Optional[ShiftSnapshot] = None
        self.newest: Optional[ShownLinePart] = None
        # The newest part is drawn at most every SHOW_EVERY_S, the latest one at the end of each wait:
        # every NG part comes with its picture, and drawing each of 19 NG parts a second held the UI
        # thread and a core (docs/benchmarks.md, "The window at full rate")
        self._drawn_at = 0.0
        self._draw_timer = QTimer(self)
        self._draw_timer.setSingleShot(True)
        self._draw_timer.timeout.connect(self._draw_newest)
        #: False in tests and scripts: a failure then goes to ``message`` only, never to a modal box.
        self.use_message_boxes = True

        self.run_button = QPushButton("Run line…")
        self.run_button.setToolTip("Pick the folder the camera writes into and inspect every part that lands there")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.unlock_button = QPushButton("Unlock threshold")
        self.unlock_button.setToolTip("While a line runs the threshold is locked; unlocking is recorded")
        self.unlock_button.clicked.connect(self.unlock)
        self.sorting = QComboBox()
        for key, label in SORTING:
            self.sorting.addItem(label, key)
        self.sorting.setCurrentIndex(max(0, self.sorting.findData(settings.value("line/sorting", "leave"))))
        self.subfolders = QCheckBox("Subfolders too")
        self.subfolders.setToolTip("Also inspect the parts written into the folder's subfolders (a camera that "
                                   "makes a new folder per day or batch); the sorted images then go beside it")
        self.subfolders.setChecked(ticked(settings, "line/subfolders"))
        self.folder_label = QLabel("No line running")
        self._running_on = ("", "")  # the folder line's text around how the parts are seen
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # long folder names wrap, and the row takes what width is left: a label as wide as its text pushed the
        # counters off a 1366 px screen (a sorted folder's path beside a network camera folder)
        self.folder_label.setWordWrap(True)
        self.folder_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = QHBoxLayout()
        for widget in (self.run_button, self.pause_button, self.stop_button, self.sorting, self.subfolders,
                       self.unlock_button):
            bar.addWidget(widget)
        bar.addWidget(self.folder_label, 1)

        # a line whose folder is gone inspects nothing: said where the operator looks, not in a corner
        self.folder_warning = _warning_band()
        # every part NG because the parts are not what the model knows (wrong model, camera changed): not a bad batch
        self.unlike_warning = _warning_band()
        # a run of NG parts: the process went wrong, and the NG bin is not where the operator looks
        self.ng_run_warning = _warning_band()
        # a disk that fills: the camera then cannot save its parts, and the line learns it too late to act
        self.disk_warning = _warning_band()

        self.view = InspectionView()
        self.view.show_nothing("Run a line: the newest part shows here")
        self.verdict_label = QLabel("")
        self.verdict_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.verdict_label.font()
        font.setPointSize(font.pointSize() * 2)
        font.setBold(True)
        self.verdict_label.setFont(font)
        self._set_verdict("", "")
        newest = QVBoxLayout()
        newest.addWidget(self.folder_warning)
        newest.addWidget(self.unlike_warning)
        newest.addWidget(self.ng_run_warning)
        newest.addWidget(self.disk_warning)
        newest.addWidget(self.verdict_label)
        newest.addWidget(self.view, 1)

        # the shift: its start, the operator's new shift, and when the plant's shifts start (the counters and the
        # NG parts start again then, the line goes on)
        self.shift_label = QLabel("")
        self.new_shift_button = QPushButton("New shift")
        self.new_shift_button.setToolTip("Start the counters and the NG parts again from now; the line goes on, "
                                         "and every part stays in the record")
        self.new_shift_button.clicked.connect(self.new_shift)
        self.shifts_edit = QLineEdit(str(settings.value("line/shifts", "")))
        self.shifts_edit.setPlaceholderText("e.g. 06:00 14:00 22:00")
        self.shifts_edit.setToolTip(SHIFTS_TIP)
        self.shifts_edit.textChanged.connect(self._check_shifts)
        shift_row = QHBoxLayout()
        shift_row.addWidget(self.shift_label, 1)
        shift_row.addWidget(self.new_shift_button)
        plan_row = QHBoxLayout()
        plan_row.addWidget(QLabel("Shifts start at"))
        plan_row.addWidget(self.shifts_edit, 1)
        self.ng_in_a_row = _remembered_count(
            settings, "line/ng_in_a_row", NG_IN_A_ROW, 999, "never", "",
            "Warn over the newest part when this many parts in a row are NG: the process, not one part, went wrong. "
            "The warning and the first OK part after it are in the record's changes.")
        run_row = _setting_row("Warn at", self.ng_in_a_row, "NG parts in a row")
        self.disk_warning_minutes = _remembered_count(
            settings, "line/disk_warning_min", round(FULL_WITHIN_S / 60), 24 * 60, "never", " min",
            "Warn over the newest part when a disk the line uses (the camera folder's, the record's, the sorted "
            "images') will be full within this many minutes at the rate it fills, or has under 1 GB free: the camera "
            "then cannot save its parts. The warning and the room made after it are in the record's changes.")
        disk_row = _setting_row("Warn", self.disk_warning_minutes, "before a disk is full")
        self.ok_kept_days = _remembered_count(
            settings, "line/ok_kept_days", 0, 3650, "for ever", " days",
            "When the line copies or moves the images: remove the sorted images of OK parts once this many days old "
            "(today's are kept), at the start and daily. NG, REVIEW and ERROR images stay, and every part stays in "
            "the record; each day's removal is in the record's changes.")
        kept_row = _setting_row("Keep sorted OK images", self.ok_kept_days)
        self.signal_setting = SignalCommandSetting(settings)

        self.counter_labels = {}
        counters = QFormLayout()
        for key, label in (("inspected", "Inspected"), ("ok", "OK"), ("review", "REVIEW"), ("ng", "NG"),
                           ("errors", "Errors"),
                           ("yield", "Yield"), ("rate", "Parts / min"), ("median", "Median ms"), ("p95", "95th pct ms"),
                           ("backlog", "Backlog")):
            value = QLabel("-")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.counter_labels[key] = value
            counters.addRow(label, value)
        self.ng_model = NgPartsModel(parent=self)
        self.ng_list = QListView()
        self.ng_list.setModel(self.ng_model)
        self.ng_list.setViewMode(QListView.ViewMode.IconMode)
        self.ng_list.setIconSize(QSize(THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        self.ng_list.setResizeMode(QListView.ResizeMode.Adjust)
        self.ng_list.setMovement(QListView.Movement.Static)
        self.ng_list.setUniformItemSizes(True)  # no measuring of every row as thousands arrive
        self.ng_list.setWordWrap(True)
        self.ng_list.selectionModel().currentChanged.connect(self._ng_selected)
        # a false reject seen on the line is tuned from here: the Inspect tab's tools, or taught at once
        self.ng_list.doubleClicked.connect(self._inspect_ng_again)
        self.ng_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.ng_list.customContextMenuRequested.connect(self._ng_menu)
        self._menu: Optional[QMenu] = None
        self.ng_title = QLabel()
        self._show_ng_title()
        column = QWidget()  # scrolled on a short screen: its settings and counters set the window's least height
        side = LeastHeightFirst(column)
        side.setContentsMargins(0, 0, 0, 0)
        side.addLayout(shift_row)
        side.addLayout(plan_row)
        side.addLayout(run_row)
        side.addLayout(disk_row)
        side.addLayout(kept_row)
        side.addWidget(self.signal_setting)
        side.addLayout(counters)
        side.addWidget(self.ng_title)
        side.addWidget(self.ng_list, 1)
        self.notice_label = QLabel("")
        self.notice_label.setWordWrap(True)
        side.addWidget(self.notice_label)

        body = QGridLayout()
        body.addLayout(newest, 0, 0)
        body.addWidget(scrolled(column, sideways=False), 0, 1)
        body.setColumnStretch(0, 3)
        body.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(body, 1)
        self._update_buttons()

    # -- starting and stopping --------------------------------------------------------------------
    def choose_folder(self) -> Optional[Path]:
        """Ask for the camera's folder, starting where the last line ran (remembered)."""
        start = str(self.settings.value("line/folder", str(Path.home())))
        chosen = QFileDialog.getExistingDirectory(self, "Folder the camera writes into", start)
        return Path(chosen) if chosen else None

    def sort_root(self, folder: Path) -> Path:
        """Where sorted images and NG overlays go: beside the camera folder, never inside it."""
        return Path(str(self.settings.value("line/sort_into", str(folder.parent / f"{folder.name}-sorted"))))

    def start(self, folder: Path, make_inspector: Callable[[], Inspector],
              make_recorder: Callable[[], Optional[Recorder]], settings: LineSettings = LineSettings(),
              model_file: Optional[FollowedModelFile] = None) -> bool:
        """Run a line on ``folder`` (False: it did not start, and said why); ``make_inspector`` and
        ``make_recorder`` are called in the worker's thread (making an inspector may load a network; a store's
        connection belongs to the thread that uses it).
        With ``model_file`` the line takes up a model written over that file (``model_taken_up``)."""
        if self.worker is not None:
            return False
        try:
            plan = ShiftPlan.parse(self.shifts_edit.text())
            signal_command = self.signal_setting.command()
        except PatchCoreError as exc:
            self._refuse(f"Cannot run the line: {exc}")
            return False
        self.folder = folder
        self.waiting = False
        self.settings.setValue("line/folder", str(folder))
        self.settings.setValue("line/shifts", plan.text())
        mode = self.sorting.currentData()
        self.settings.setValue("line/sorting", mode)
        self.settings.setValue("line/subfolders", self.subfolders.isChecked())
        self.settings.setValue("line/ng_in_a_row", self.ng_in_a_row.value())
        self.settings.setValue("line/disk_warning_min", self.disk_warning_minutes.value())
        self.settings.setValue("line/ok_kept_days", self.ok_kept_days.value())
        settings = replace(settings, arrival=replace(settings.arrival, subfolders=self.subfolders.isChecked()),
                           shifts=plan, ng_in_a_row=self.ng_in_a_row.value(), signal_command=signal_command,
                           signal_ok_parts=self.signal_setting.ok_parts.isChecked(),
                           signal_held_open=self.signal_setting.held_open.isChecked(),
                           disk_full_within_s=60.0 * self.disk_warning_minutes.value(),
                           ok_images_kept_days=self.ok_kept_days.value())
        root = self.sort_root(folder)
        sorter = PartSorter(root, move=mode == "move") if mode != "leave" else None
        overlays = OverlayWriter(root / "overlays") if mode != "leave" else None
        self.ng_parts.clear()
        self.ng_model.clear()
        self._show_ng_title()
        self.notice_label.clear()
        # a new run's view starts empty, as its NG list does: the last run's part is not this one's newest
        self.newest = None
        self.view.show_nothing(f"Waiting for the first part in {folder}")
        self._set_verdict("", "")
        self.unlocked = False
        self.worker = LineWorker(make_inspector, folder, make_recorder, sorter, overlays, settings, model_file)
        self.worker.model_taken_up.connect(self.model_taken_up)
        self.worker.shift_ended.connect(self._shift_ended)
        self.worker.decided.connect(self._decided_in_the_record)
        self.worker.part_done.connect(self._part_done)
        self.worker.counters.connect(self._show_counters)
        self.worker.notice.connect(self.show_notice)
        self.worker.finished.connect(self._finished)
        self.worker.failed.connect(self._failed)
        self.thread = start_worker(self.worker, self)
        self._running_on = (f"Running on {folder}{' and its subfolders' if settings.arrival.subfolders else ''}",
                            f"; sorted into {root}" if sorter else "")
        self._show_running_on(None)
        self._update_buttons()
        self.running_changed.emit(True)
        return True

    def say_waiting(self, text: str) -> None:
        """Why no line runs yet though one was asked for, where the operator looks: the folder line and the view.
        Stop then ends the wait (``wait_cancelled``)."""
        self.folder_label.setText(text)
        self.view.show_nothing(text)
        self.waiting = True
        self._update_buttons()

    def stop_waiting(self, text: str) -> None:
        """No line is waited for any more; ``text`` says so."""
        self.waiting = False
        self.folder_label.setText(text)
        self.view.show_nothing(text)
        self._update_buttons()

    @property
    def running(self) -> bool:
        return self.worker is not None

    @Slot()
    def stop(self) -> None:
        """Stop after the parts in hand are recorded (the worker's final signal ends the run)."""
        if self.worker is not None:
            self.worker.cancel()
            self.folder_label.setText("Stopping after the parts in hand…")
        elif self.waiting:
            self.wait_cancelled.emit()

    def shutdown(self) -> None:
        """Stop and wait for the worker's thread: before the window closes."""
        thread = self.thread
        self.stop()
        if thread is not None:
            thread.wait(60_000)

    @Slot(bool)
    def _pause_toggled(self, paused: bool) -> None:
        if self.worker is None:
            return
        if paused:
            self.worker.pause()
        else:
            self.worker.resume()
        self.pause_button.setText("Resume" if paused else "Pause")

    # -- the threshold lock -----------------------------------------------------------------------
    @Slot()
    def unlock(self) -> None:
        """The operator's explicit unlock: the window then lets the threshold move, and it is recorded."""
        if self.worker is None or self.unlocked:
            return
        self.unlocked = True
        self.worker.note_unlock(self.worker.line.model.threshold if self.worker.line else float("nan"),
                                "unlocked by the operator while the line runs")
        self._update_buttons()
        self.threshold_unlocked.emit()

    def threshold_moved(self, threshold: float, review_from: Optional[float] = None) -> None:
        """The window's threshold or review band moved (only possible once unlocked): the line uses them
        from the next part."""
        if self.worker is not None:
            self.worker.change_threshold(threshold, review_from)

    # -- what the worker reports ------------------------------------------------------------------
    @Slot(object)
    def _part_done(self, shown: ShownLinePart) -> None:
        result = shown.result
        if shown.image is not None:
            self.newest = shown
            if not self._draw_timer.isActive():
                wait = SHOW_EVERY_S - (time.monotonic() - self._drawn_at)
                if wait <= 0:
                    self._draw_newest()
                else:
                    self._draw_timer.start(max(1, round(1000 * wait)))
        if result.verdict in LISTED_VERDICTS and not result.already_recorded:
            self._add_ng(shown)

    @Slot()
    def _draw_newest(self) -> None:
        self._drawn_at = time.monotonic()
        if self.newest is not None:
            self._show(self.newest)

    def _show(self, shown: ShownLinePart) -> None:
        result = shown.result
        assert shown.image is not None
        self.view.show_part(shown.image, shown.anomaly_map, shown.colour_range, shown.defect_mask)
        self.view.set_region_of_interest(shown.region)
        score = "" if result.score is None else f"  {result.score:.3f}"
        self._set_verdict(result.verdict, f"{result.verdict}  {result.path.name}{score}")
        self.view.set_caption(result.error or "")

    def _add_ng(self, shown: ShownLinePart) -> None:
        result = shown.result
        key = self.ng_model.total
        tooltip = (f"{result.path}\nscore {result.score:.4f}, threshold {result.threshold:.4f}"
                   + (f"\nsorted into {result.sorted_to}" if result.sorted_to else ""))
        # a REVIEW part says so under its picture, where an NG part says its time (both fit a thumbnail's width; the
        # time is in its tooltip): it waits for a person (right-click: Decide OK / NG)
        when = f"{result.time.astimezone():%H:%M:%S}"
        below = "REVIEW" if result.verdict == "REVIEW" else when
        self.ng_model.add(NgRow(key, f"{result.path.name}\n{below}", f"{result.verdict} at {when}: {tooltip}",
                                shown.thumbnail or b"", result.path, result.sorted_to, result.verdict))
        self.ng_parts[key] = shown
        if len(self.ng_parts) > KEPT_NG_PICTURES:
            self.ng_parts.popitem(last=False)
        self._show_ng_title()

    def _show_ng_title(self) -> None:
        listed, total = self.ng_model.rowCount(), self.ng_model.total
        shown = f"; the newest {listed:,} listed, every one is in the record" if total > listed else ""
        before = self.last_snapshot.ng_before_start if self.last_snapshot is not None and self.running else 0
        if before:  # a restart within the shift: those are counted, not pictured
            shown += f"; {before:,} of them before this start, in the record (View > History)"
        review, decided = self.ng_model.review, self.ng_model.review_decided
        waiting = f" ({review - decided:,} undecided)" if decided else ""
        counted = (f"NG parts of this shift: {total + before:,}" if not review else
                   f"NG and REVIEW parts of this shift: {total - review + before:,} NG, {review:,} REVIEW{waiting}")
        self.ng_title.setText(f"{counted}{shown} (click one to look again, right-click for more)")

    def part_decided(self, part: StoredInspection, decision: Decision) -> None:
        """A person decided a recorded part (here or in History): its row, if listed, says so."""
        if self.ng_model.decided(part.record.image_path, decision):
            self._show_ng_title()

    @Slot(object)
    def _decided_in_the_record(self, part: StoredInspection) -> None:
        """The line found a decision on one of its parts in the record: one made at another PC of a plant's
        record, or with ``patchcore log --decide``, is listed as one made here is (one made here, again)."""
        assert part.decision is not None
        self.part_decided(part, part.decision)

    @Slot(QModelIndex, QModelIndex)
    def _ng_selected(self, current: QModelIndex, previous: QModelIndex = QModelIndex()) -> None:
        if not current.isValid():
            return
        kept = self.ng_parts.get(current.data(KEY_ROLE))
        if kept is not None and kept.image is not None:
            self._show(kept)
        else:
            self.message.emit(f"only the last {KEPT_NG_PICTURES} NG parts are kept to look at here; "
                              f"{str(current.data(Qt.ItemDataRole.ToolTipRole)).splitlines()[0]}")

    def _image_of(self, index: QModelIndex) -> Optional[Path]:
        """The NG row's image where it is now, or None (said in the status bar) when it is nowhere."""
        path = index.data(IMAGE_ROLE) if index.isValid() else None
        if path is not None and not path.is_file():
            self.message.emit(f"the image of {path.name} is no longer at {path}")
            return None
        return path

    @Slot(QModelIndex)
    def _inspect_ng_again(self, index: QModelIndex) -> None:
        path = self._image_of(index)
        if path is not None:
            self.inspect_again.emit(path, index.data(RECORDED_PATH_ROLE))

    @Slot(QPoint)
    def _ng_menu(self, position: QPoint) -> None:
        index = self.ng_list.indexAt(position)
        path = self._image_of(index)
        if path is None:
            return
        if self._menu is not None:
            self._menu.deleteLater()
        self._menu = menu = QMenu(self.ng_list)
        recorded = index.data(RECORDED_PATH_ROLE)
        menu.addAction(f"Inspect {path.name} again (Inspect tab)", lambda: self.inspect_again.emit(path, recorded))
        # a recorded part taught as good is a person's verdict on it too: asked who, then recorded
        menu.addAction(f"This part is good: teach {path.name}{'…' if recorded is not None else ''}",
                       lambda: self.teach_good.emit(path, recorded))
        if recorded is not None:  # into the record, beside the machine's verdict
            menu.addSeparator()
            for verdict in DECIDED_VERDICTS:
                menu.addAction(f"Decide {path.name} {verdict}…",
                               lambda _=False, verdict=verdict: self.decide_part.emit(recorded, verdict))
        menu.popup(self.ng_list.viewport().mapToGlobal(position))

    def _show_running_on(self, snapshot: Optional[ShiftSnapshot]) -> None:
        """The folder line: where the line runs, and how it sees the parts as its watch last decided."""
        running, sorted_into = self._running_on
        listed = ""
        if snapshot is not None and snapshot.network:
            listed = f" (a network folder, {snapshot.network}: looked at every {snapshot.listed_every:g} s)"
        elif snapshot is not None and snapshot.listed_every > 0:
            listed = f" (looked at every {snapshot.listed_every:g} s)"
        self.folder_label.setText(f"{running}{listed}{sorted_into}")

    # -- shifts -------------------------------------------------------------------------------------
    def shift_plan(self) -> ShiftPlan:
        """When shifts start, as last given here (the History view's "This shift")."""
        try:
            return ShiftPlan.parse(self.shifts_edit.text())
        except PatchCoreError:
            return ShiftPlan.parse(str(self.settings.value("line/shifts", "")))

    @Slot()
    def new_shift(self) -> None:
        if self.worker is not None:
            self.worker.new_shift()

    @Slot(object)
    def _shift_ended(self, ended: ShiftSnapshot) -> None:
        """The NG parts of the ended shift give way to the new one's; they all stay in the record."""
        self.ng_parts.clear()
        self.ng_model.clear()
        self._show_ng_title()
        self.message.emit(f"The shift since {_clock(ended.shift_started)} ended: {ended.line()} (every part is in "
                          "the record: View > History)")

    @Slot(str)
    def _check_shifts(self, text: str) -> None:
        try:
            ShiftPlan.parse(text)
        except PatchCoreError as exc:
            self.shifts_edit.setStyleSheet("border: 2px solid #b3261e")
            self.shifts_edit.setToolTip(str(exc))
            return
        self.shifts_edit.setStyleSheet("")
        self.shifts_edit.setToolTip(SHIFTS_TIP)

    def _refuse(self, text: str) -> None:
        self.message.emit(text)
        self._warn("Line not started", text)

    def _warn(self, title: str, text: str) -> None:
        if self.use_message_boxes:
            QMessageBox.warning(self, title, text)

    @Slot(object)
    def _show_counters(self, snapshot: ShiftSnapshot) -> None:
        self.last_snapshot = snapshot
        if snapshot.shift_started is not None:
            self.shift_label.setText(f"Shift since {_clock(snapshot.shift_started)}")
        if snapshot.ng_before_start and self.running:
            self._show_ng_title()
        if self.worker is not None and not self.worker.cancel_requested:
            self._show_running_on(snapshot)
        self.folder_warning.setText(f"The camera folder {self.folder} is gone: no part can arrive. The line "
                                    "watches it again as soon as it is back.")
        self.folder_warning.setVisible(snapshot.folder_missing and self.worker is not None)
        self.unlike_warning.setText(snapshot.unlike_parts)
        self.unlike_warning.setVisible(bool(snapshot.unlike_parts) and self.worker is not None)
        # parts unlike the good parts are NG too: their band says why, this one would only repeat it
        ng_run = bool(snapshot.ng_run) and not snapshot.unlike_parts and self.worker is not None
        if ng_run and self.ng_run_warning.isHidden():
            QApplication.beep()  # an operator looking away hears it
        self.ng_run_warning.setText(snapshot.ng_run)
        self.ng_run_warning.setVisible(ng_run)
        disk_nearly_full = bool(snapshot.disk_nearly_full) and self.worker is not None
        if disk_nearly_full and self.disk_warning.isHidden():
            QApplication.beep()
        self.disk_warning.setText(snapshot.disk_nearly_full)
        self.disk_warning.setVisible(disk_nearly_full)
        values = {
            "inspected": f"{snapshot.inspected:,}", "ok": f"{snapshot.ok:,}", "ng": f"{snapshot.ng:,}",
            "review": f"{snapshot.review:,}",
            "errors": f"{snapshot.errors:,}",
            "yield": "-" if snapshot.yield_ is None else f"{100 * snapshot.yield_:.1f} %",
            "rate": f"{snapshot.parts_per_minute:.0f}",
            "median": "-" if snapshot.median_ms is None else f"{snapshot.median_ms:.0f}",
            "p95": "-" if snapshot.p95_ms is None else f"{snapshot.p95_ms:.0f}",
            "backlog": f"{snapshot.backlog}" + (f" (oldest {snapshot.oldest_waiting_s:.0f} s)" if snapshot.backlog
                                                else ""),
        }
        for key, text in values.items():
            self.counter_labels[key].setText(text)

    @Slot(str)
    def show_notice(self, text: str) -> None:
        self.notice_label.setText(text)
        self.message.emit(text)

    @Slot(object)
    def _finished(self, snapshot: ShiftSnapshot) -> None:
        self._show_counters(snapshot)
        self._ended(f"Line stopped: {snapshot.line()}")

    @Slot(str)
    def _failed(self, text: str) -> None:
        self._ended(f"Line stopped: {text}")
        self._warn("Line stopped", text)

    def _ended(self, text: str) -> None:
        # a notice of the running line ("2 inspection processes ready", "the camera folder is gone") is stale
        # once it stops; the line's last word is the folder line's
        self.notice_label.clear()
        self.folder_warning.hide()
        self.unlike_warning.hide()
        self.ng_run_warning.hide()
        self.disk_warning.hide()
        self.worker = None
        self.thread = None
        self.unlocked = False
        self.pause_button.setChecked(False)
        self.folder_label.setText(text)
        self.message.emit(text)
        self._update_buttons()
        self.running_changed.emit(False)

    def _set_verdict(self, verdict: str, text: str) -> None:
        self.verdict_label.setStyleSheet(VERDICT_STYLE.get(verdict, VERDICT_STYLE[""]) + ";padding:6px")
        self.verdict_label.setText(text or "—")

    def _update_buttons(self) -> None:
        running = self.worker is not None
        self.run_button.setEnabled(not running)
        self.sorting.setEnabled(not running)
        self.subfolders.setEnabled(not running)
        self.shifts_edit.setEnabled(not running)
        self.ng_in_a_row.setEnabled(not running)
        self.disk_warning_minutes.setEnabled(not running)
        self.ok_kept_days.setEnabled(not running)
        self.signal_setting.setEnabled(not running)
        self.new_shift_button.setEnabled(running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running or self.waiting)
        self.unlock_button.setEnabled(running and not self.unlocked)


def _remembered_count(settings: QSettings, key: str, default: int, most: int, zero_said: str, suffix: str,
                      tip: str) -> CountBox:
    """A whole number of the line's, 0 to ``most`` (0 shown as ``zero_said``), as last started with."""
    box = CountBox()
    box.setRange(0, most)
    box.setSpecialValueText(zero_said)
    box.setSuffix(suffix)
    box.setValue(whole_number(settings, key, default))
    box.setToolTip(tip)
    return box


def _setting_row(before: str, box: QWidget, after: str = "") -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(QLabel(before))
    row.addWidget(box)
    row.addWidget(QLabel(after), 1)
    return row


def _warning_band() -> QLabel:
    """An orange band over the newest part, hidden: what the line cannot do, said where the operator looks."""
    band = QLabel("")
    band.setStyleSheet(VERDICT_STYLE["ERROR"] + ";padding:6px;font-weight:bold")
    band.setWordWrap(True)
    band.hide()
    return band


def _clock(moment: datetime) -> str:
    """A shift's start as the operator reads it: the time of day, with the date when it is not today."""
    local = moment.astimezone()
    return local.strftime("%H:%M" if local.date() == datetime.now().date() else "%Y-%m-%d %H:%M")
