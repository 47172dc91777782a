"""A person's verdict on a recorded part, given from the History dock.

A REVIEW part waits for a person; a part the machine judged wrongly (a false reject passed, a defect it missed) is
decided against it. The decision goes into the record beside the machine's verdict, which stays as it was made
(:meth:`~patchcore_gui.record.InspectionStore.decide`): who, when, where, and a note. The bar names the person
(remembered on this PC) and writes on a worker, since a plant's record may be a PostgreSQL server away.
"""

from __future__ import annotations

from typing import Optional, Tuple

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from ..record import Decision, StoredInspection, open_store
from ..record.records import DECIDED_VERDICTS
from .workers import Worker

#: the person who decides, remembered between sessions on this PC
PERSON_SETTING = "history/decided_by"


class PartDecider(Worker):
    """Records one person's verdict on a recorded part; finishes with ``(the part, the decision)``."""

    def __init__(self, target: str, station: str, part: StoredInspection, verdict: str, person: str,
                 note: str = "") -> None:
        super().__init__()
        self.target, self.station, self.part = target, station, part
        self.verdict, self.person, self.note = verdict, person, note

    def work(self) -> Tuple[StoredInspection, Decision]:
        with open_store(self.target, self.station, create=False) as store:
            return self.part, store.decide(self.part.id, self.verdict, self.person, self.note)


class DecisionBar(QWidget):
    """"Decide the selected part: [OK] [NG] by [name] note [...]"; asks with :attr:`asked` (verdict, person,
    note), and refuses without a name."""

    asked = Signal(str, str, str)
    #: why it could not ask (no name given): a line for the panel's status
    refused = Signal(str)

    def __init__(self, settings: QSettings, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self.person = QLineEdit(str(settings.value(PERSON_SETTING, "") or ""))
        self.person.setPlaceholderText("your name")
        self.person.setToolTip("Who decides: recorded with every decision, and remembered on this PC")
        self.note = QLineEdit()
        self.note.setPlaceholderText("note, e.g. scratch within tolerance")
        self.note.setClearButtonEnabled(True)
        self.buttons = {verdict: QPushButton(f"Decide {verdict}") for verdict in DECIDED_VERDICTS}
        self.buttons["OK"].setToolTip("The selected part is good after all (a REVIEW part passed, a false reject)")
        self.buttons["NG"].setToolTip("The selected part is defective (a REVIEW part rejected, a defect missed)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("The selected part, as a person sees it:"))
        for verdict, button in self.buttons.items():
            button.clicked.connect(lambda _=False, verdict=verdict: self.ask(verdict))
            layout.addWidget(button)
        layout.addWidget(QLabel("by"))
        layout.addWidget(self.person)
        layout.addWidget(self.note, 1)

    def ask(self, verdict: str) -> None:
        person = " ".join(self.person.text().split())
        if not person:
            self.refused.emit("Write your name beside the buttons first: every decision names who made it")
            self.person.setFocus()
            return
        self._settings.setValue(PERSON_SETTING, person)
        self.asked.emit(verdict, person, " ".join(self.note.text().split()))

    def decided(self) -> None:
        """The decision is recorded: the note was for that part only."""
        self.note.clear()
