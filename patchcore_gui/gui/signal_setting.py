"""The line's signal command in the window: the plant's program told of each part that is not good and of the line's
state (a stack light, a reject gate, a PLC's gateway; line/signal_command.py), typed once by the engineer and
remembered on the line PC, checked when a line starts."""

from __future__ import annotations

from typing import Optional, Tuple

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QWidget

from ..line.signal_command import parse_signal_command

SIGNAL_TIP = ("A program of the plant's, with its first arguments, that the line runs for each NG, REVIEW and ERROR "
              "part as 'COMMAND ng PART', and as 'COMMAND EVENT DETAIL' when it starts, stops or warns "
              "(line-started, line-stopped, ng-parts-in-a-row, parts-unlike-the-good-parts, ...): one at a time, in "
              "order, never holding the line; the particulars are in PATCHCORE_* variables too. Empty: none.")


class SignalCommandSetting(QWidget):
    """"Signal command [...] [ ] OK parts too", remembered under ``line/signal_command`` and ``line/signal_ok``."""

    def __init__(self, settings: QSettings, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.edit = QLineEdit(str(settings.value("line/signal_command", "")))
        self.edit.setPlaceholderText("none, e.g. stacklight.bat COM4")
        self.edit.setToolTip(SIGNAL_TIP)
        self.ok_parts = QCheckBox("OK parts too")
        self.ok_parts.setToolTip("Run the signal command for every OK part as well ('COMMAND ok PART')")
        self.ok_parts.setChecked(str(settings.value("line/signal_ok", "false")).lower() == "true")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Signal command"))
        row.addWidget(self.edit, 1)
        row.addWidget(self.ok_parts)

    def command(self) -> Tuple[str, ...]:
        """The command as typed, remembered; raises :class:`PatchCoreError` for one this PC cannot run."""
        command = parse_signal_command(self.edit.text())
        self.settings.setValue("line/signal_command", self.edit.text().strip())
        self.settings.setValue("line/signal_ok", self.ok_parts.isChecked())
        return command
