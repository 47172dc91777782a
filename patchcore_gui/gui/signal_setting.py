"""The line's signal command in the window: the plant's program told of each part that is not good and of the line's
state (a stack light, a reject gate, a PLC's gateway; line/signal_command.py), typed once by the engineer and
remembered on the line PC, checked when a line starts."""

from __future__ import annotations

from typing import Optional, Tuple

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from ..line.signal_command import parse_signal_command
from .window_settings import ticked

SIGNAL_TIP = ("A program of the plant's, with its first arguments, that the line runs for each NG, REVIEW and ERROR "
              "part as 'COMMAND ng PART', and as 'COMMAND EVENT DETAIL' when it starts, stops or warns "
              "(line-started, line-stopped, ng-parts-in-a-row, parts-unlike-the-good-parts, ...): one at a time, in "
              "order, never holding the line; the particulars are in PATCHCORE_* variables too. Empty: none.")


class SignalCommandSetting(QWidget):
    """"Signal command [...] [ ] OK parts too [ ] Kept running", remembered under ``line/signal_*``."""

    def __init__(self, settings: QSettings, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.edit = QLineEdit(str(settings.value("line/signal_command", "")))
        self.edit.setPlaceholderText("none, e.g. stacklight.bat COM4")
        self.edit.setToolTip(SIGNAL_TIP)
        self.ok_parts = QCheckBox("OK parts too")
        self.ok_parts.setToolTip("Run the signal command for every OK part as well ('COMMAND ok PART')")
        self.ok_parts.setChecked(ticked(settings, "line/signal_ok"))
        self.held_open = QCheckBox("Kept running")
        self.held_open.setToolTip("Start the program once, with the line, and write each event to its input as one "
                                  "line of JSON ({\"event\": \"ng\", \"part\": ..., \"score\": ...}) instead of "
                                  "running it for each: for a program that holds its PLC connection open, and far "
                                  "cheaper per part")
        self.held_open.setChecked(ticked(settings, "line/signal_held_open"))
        command = QHBoxLayout()
        command.addWidget(QLabel("Signal command"))
        command.addWidget(self.edit, 1)
        how = QHBoxLayout()
        how.addWidget(self.ok_parts)
        how.addWidget(self.held_open)
        how.addStretch(1)
        rows = QVBoxLayout(self)  # the side column is narrow on a 1366 px line PC screen
        rows.setContentsMargins(0, 0, 0, 0)
        rows.addLayout(command)
        rows.addLayout(how)

    def command(self) -> Tuple[str, ...]:
        """The command as typed, remembered; raises :class:`PatchCoreError` for one this PC cannot run."""
        command = parse_signal_command(self.edit.text())
        self.settings.setValue("line/signal_command", self.edit.text().strip())
        self.settings.setValue("line/signal_ok", self.ok_parts.isChecked())
        self.settings.setValue("line/signal_held_open", self.held_open.isChecked())
        return command
