"""A person's verdict on a recorded part, given from the History dock (the selected part) or the Line tab's list.

A REVIEW part waits for a person; a part the machine judged wrongly (a false reject passed, a defect it missed) is
decided against it. The decision goes into the record beside the machine's verdict, which stays as it was made
(:meth:`~patchcore_gui.record.InspectionStore.decide`): who, when, where, and a note. The bar names the person
(remembered on this PC; the Line tab asks it in a dialog) and writes on a worker, since a plant's record may be a
PostgreSQL server away.
"""

from __future__ import annotations

from typing import Optional, Tuple, Union

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QWidget)

from ..record import Decision, StoredInspection, StoreError, open_store
from ..record.records import DECIDED_VERDICTS
from .workers import Worker

#: the person who decides, remembered between sessions on this PC
PERSON_SETTING = "history/decided_by"
#: how the note of a decision made by teaching the part as good begins
TAUGHT_NOTE = "taught as good"


class PartDecider(Worker):
    """Records one person's verdict on a recorded part, given as its record or as the image path a station (this
    one unless ``recorded_by`` names another) recorded it under (the newest such record: a line's part); finishes
    with ``(the part, the decision)``."""

    def __init__(self, target: str, station: str, part: Union[StoredInspection, str], verdict: str, person: str,
                 note: str = "", recorded_by: Optional[str] = None) -> None:
        super().__init__()
        self.target, self.station, self.part = target, station, part
        self.verdict, self.person, self.note = verdict, person, note
        self.recorded_by = recorded_by  # the station that recorded the part given by its path, if not this one

    def work(self) -> Tuple[StoredInspection, Decision]:
        with open_store(self.target, self.station, create=False) as store:
            part = (self.part if isinstance(self.part, StoredInspection)
                    else store.newest_of_image(self.part, self.recorded_by))
            if part is None:
                whose = "this station's" if self.recorded_by in (None, self.station) else f"{self.recorded_by}'s"
                raise StoreError(f"{self.part} is not in the inspection record as {whose} part")
            return part, store.decide(part.id, self.verdict, self.person, self.note)


def ask_who_and_why(parent: QWidget, settings: QSettings, verdict: str, part: str,
                    teaching: bool = False) -> Optional[Tuple[str, str]]:
    """A person's name (remembered on this PC) and a note for deciding ``part`` ``verdict`` (``teaching``: OK, as
    the model is taught it); None if cancelled or no name was given."""
    dialog = QDialog(parent)
    dialog.setWindowTitle(f"Teach {part} as good" if teaching else f"Decide {part} {verdict}")
    person = QLineEdit(str(settings.value(PERSON_SETTING, "") or ""))
    person.setPlaceholderText("your name")
    note = QLineEdit()
    note.setPlaceholderText("e.g. scratch within tolerance")
    form = QFormLayout(dialog)
    taught = " The model is taught it as good, and your verdict goes into the record." if teaching else ""
    said = QLabel(f"{part} is {verdict}, as you see it.{taught} The machine's verdict stays in the record beside "
                  "yours.")
    said.setWordWrap(True)  # a dialog a few lines high, not a line the width of the screen
    dialog.setMinimumWidth(dialog.fontMetrics().horizontalAdvance("0") * 60)  # the note's hint shown whole
    form.addRow(said)
    form.addRow("Decided by", person)
    form.addRow("Note", note)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)
    if dialog.exec() != QDialog.DialogCode.Accepted or not person.text().split():
        return None
    who = " ".join(person.text().split())
    settings.setValue(PERSON_SETTING, who)
    return who, " ".join(note.text().split())


class DecisionBar(QWidget):
    """"The selected part, as a person sees it: [Decide OK] [Decide NG] by [name] [note]"; asks with :attr:`asked`
    (verdict, person, note), and refuses without a name."""

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
        # Alt+O and Alt+N: a person deciding part after part keeps a hand on the keys (the list goes on to the next)
        self.buttons = {verdict: QPushButton(f"Decide &{verdict}") for verdict in DECIDED_VERDICTS}
        self.buttons["OK"].setToolTip("The selected part is good after all (a REVIEW part passed, a false reject); "
                                      "Alt+O")
        self.buttons["NG"].setToolTip("The selected part is defective (a REVIEW part rejected, a defect missed); "
                                      "Alt+N")
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
