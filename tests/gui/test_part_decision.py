"""Who decides a line's part, and why: the dialog remembers the person and gives nothing without a name."""

from __future__ import annotations

from typing import List, Optional

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLabel, QLineEdit, QWidget

from patchcore_gui.gui.part_decision import PERSON_SETTING, ask_who_and_why


def answer(person: str, note: str, accept: bool = True, seen: Optional[List[str]] = None) -> None:
    """Fill in the dialog once it is open, then press OK (or Cancel); its title and text into ``seen``."""
    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:  # not shown yet
            QTimer.singleShot(10, fill)
            return
        if seen is not None:
            seen.extend([dialog.windowTitle(), dialog.findChild(QLabel).text()])
        person_edit, note_edit = dialog.findChildren(QLineEdit)
        person_edit.setText(person)
        note_edit.setText(note)
        buttons = dialog.findChild(QDialogButtonBox)
        which = QDialogButtonBox.StandardButton.Ok if accept else QDialogButtonBox.StandardButton.Cancel
        buttons.button(which).click()
    QTimer.singleShot(0, fill)


def test_the_person_and_note_are_asked_and_the_person_remembered(qtbot, settings):
    parent = QWidget()
    qtbot.addWidget(parent)
    answer("  A.  Meyer ", " dust  on the lens ")
    assert ask_who_and_why(parent, settings, "OK", "d1.png") == ("A. Meyer", "dust on the lens")
    assert settings.value(PERSON_SETTING) == "A. Meyer"
    answer("A. Meyer", "", accept=False)
    assert ask_who_and_why(parent, settings, "NG", "d1.png") is None
    answer("   ", "a note without a name")
    assert ask_who_and_why(parent, settings, "NG", "d1.png") is None
    assert settings.value(PERSON_SETTING) == "A. Meyer"


def test_a_part_taught_as_good_is_asked_for_as_the_teaching_it_is(qtbot, settings):
    parent = QWidget()
    qtbot.addWidget(parent)
    seen: List[str] = []
    answer("A. Meyer", "dust", seen=seen)
    assert ask_who_and_why(parent, settings, "OK", "d1.png", teaching=True) == ("A. Meyer", "dust")
    assert seen[0] == "Teach d1.png as good"
    assert seen[1].startswith("d1.png is OK, as you see it. The model is taught it as good, and your verdict goes")
    seen.clear()
    answer("A. Meyer", "", seen=seen)
    ask_who_and_why(parent, settings, "NG", "d1.png")
    assert seen == ["Decide d1.png NG", "d1.png is NG, as you see it. The machine's verdict stays in the record "
                                        "beside yours."]
