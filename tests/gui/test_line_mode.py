"""Line mode in the real window: Run line with the saved model, the lock, the recorded unlock, Stop."""

from __future__ import annotations

import hashlib
import shlex
import shutil
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from patchcore_gui.core import save_model
from patchcore_gui.record import RecordFilter, open_store

from ..line.event_writer import EventWriter

TIMEOUT_MS = 120_000


def drop(source: Path, folder: Path, name: str) -> None:
    shutil.copy(source, folder / f".{name}.part")
    (folder / f".{name}.part").rename(folder / name)


def audit(store: Path) -> list:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as connection:
        return [row[0] for row in connection.execute("SELECT kind FROM model_changes ORDER BY id")]


def run_line(window, fitted, tmp_path: Path):
    """The fitted model saved, opened and running a line on an empty camera folder: (model file, folder, panel)."""
    model_path = save_model(fitted.model, tmp_path / "parts.patchcore")
    assert window.open_model(model_path)
    camera = tmp_path / "camera"
    camera.mkdir()
    assert window.line_mode.run_line(camera)
    return model_path, camera, window.line_mode.panel


def test_run_line_locks_the_model_records_the_unlock_and_stops(qtbot, window, fitted, synthetic_set, tmp_path,
                                                               settings):
    store = tmp_path / "inspections.sqlite"  # the window's record (the settings fixture's): the line writes there too
    assert not window.line_mode.run_line(tmp_path)  # no saved model: it says so
    assert window.last_error.startswith("Save the model first")
    model_path, camera, panel = run_line(window, fitted, tmp_path)
    assert window.line_mode.tabs.currentWidget() is panel
    assert not window.side_panel.threshold_panel.isEnabled()
    assert not window.commands.open_model.isEnabled() and not window.commands.build.isEnabled()
    assert not window.commands.default_threshold.isEnabled()
    assert not window.open_model(model_path) and window.last_error.startswith("A line is running")

    drop(synthetic_set.test_defective[0], camera, "d0.png")
    qtbot.waitUntil(lambda: panel.last_snapshot is not None and panel.last_snapshot.ng == 1, timeout=TIMEOUT_MS)
    panel.unlock_button.click()
    assert window.side_panel.threshold_panel.isEnabled() and window.commands.default_threshold.isEnabled()
    window.document.set_threshold(1e6)
    drop(synthetic_set.test_defective[1], camera, "d1.png")
    qtbot.waitUntil(lambda: panel.last_snapshot.inspected == 2, timeout=TIMEOUT_MS)
    assert panel.last_snapshot.ok == 1  # the moved threshold counts for the next part

    with qtbot.waitSignal(panel.running_changed, timeout=TIMEOUT_MS):
        panel.stop_button.click()
    assert window.side_panel.threshold_panel.isEnabled() and window.commands.open_model.isEnabled()
    qtbot.waitUntil(lambda: audit(store)[-1] == "threshold moved", timeout=TIMEOUT_MS)  # the window's, once at rest
    assert audit(store).count("threshold unlocked") == 1 and audit(store).count("threshold moved") == 1
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT image_path, verdict, threshold FROM inspections ORDER BY id").fetchall()
    assert [(Path(p).name, v) for p, v, _ in rows] == [("d0.png", "NG"), ("d1.png", "OK")]
    assert rows[1][2] == 1e6


def test_the_model_tuned_while_the_line_runs_reaches_the_line_when_saved(qtbot, window, fitted, synthetic_set,
                                                                         tmp_path):
    store = tmp_path / "inspections.sqlite"
    model_path, camera, panel = run_line(window, fitted, tmp_path)
    assert window.side_panel.defect_size_control.isEnabled() and window.teaching._refusal() == ""
    defective = synthetic_set.test_defective

    def inspected(count: int) -> None:
        qtbot.waitUntil(lambda: panel.last_snapshot is not None and panel.last_snapshot.inspected == count,
                        timeout=TIMEOUT_MS)

    drop(defective[0], camera, "d0.png")
    inspected(1)
    # taught here: the window's model changes, the line's not until it is saved
    with qtbot.waitSignal(window.job_done, timeout=TIMEOUT_MS) as taught:
        assert window.teaching.teach([defective[0]])
    assert taught.args == ["teach", "finished"] and len(window.document.model.teachings) == 1
    assert panel.notice_label.text().startswith("Not on the line yet: taught parts 0 -> 1")
    drop(defective[0], camera, "d0-again-unsaved.png")
    inspected(2)
    assert panel.last_snapshot.ng == 2

    assert window.save_model_interactive()
    assert "the line takes it up after the parts in hand (taught parts 0 -> 1" in panel.notice_label.text()
    qtbot.waitUntil(lambda: "inspecting with it from now on" in panel.notice_label.text(), timeout=TIMEOUT_MS)
    drop(defective[0], camera, "d0-again-saved.png")
    inspected(3)
    assert panel.last_snapshot.ng == 2 and panel.last_snapshot.ok == 1  # the taught part passes now

    # a minimum defect area only judges anew: no restart, in force from the next part
    window.document.set_defect_size(1e9, None)
    assert panel.notice_label.text().startswith("Not on the line yet: minimum defect area 0 px -> 1e+09 px")
    assert window.save_model_interactive()
    qtbot.waitUntil(lambda: "inspecting with it from now on (minimum defect area" in panel.notice_label.text(),
                    timeout=TIMEOUT_MS)
    drop(defective[1], camera, "d1.png")
    inspected(4)
    assert panel.last_snapshot.ng == 2 and panel.last_snapshot.ok == 2

    with qtbot.waitSignal(panel.running_changed, timeout=TIMEOUT_MS):
        panel.stop_button.click()
    # the audit trail names a model once per station: the window's "model saved" named the taught one
    assert audit(store)[-1] == "model taken up"
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT image_path, verdict, model_sha256 FROM inspections ORDER BY id").fetchall()
    assert [(Path(p).name, v) for p, v, _ in rows] == [
        ("d0.png", "NG"), ("d0-again-unsaved.png", "NG"), ("d0-again-saved.png", "OK"), ("d1.png", "OK")]
    first, unsaved, taught, tuned = (sha for _, _, sha in rows)  # each part's model: the file as it judged it
    assert len({first, taught, tuned}) == 3 and first == unsaved
    assert tuned == hashlib.sha256(model_path.read_bytes()).hexdigest()


def test_a_model_another_program_writes_over_the_lines_file_is_taken_up_and_opened_here(qtbot, window, fitted,
                                                                                         synthetic_set, tmp_path):
    model_path, camera, panel = run_line(window, fitted, tmp_path)
    drop(synthetic_set.test_defective[0], camera, "d0.png")
    qtbot.waitUntil(lambda: panel.last_snapshot is not None and panel.last_snapshot.ng == 1, timeout=TIMEOUT_MS)

    save_model(fitted.model.with_threshold(1e6), model_path)  # as `patchcore threshold` on the file would
    qtbot.waitUntil(lambda: window.document.threshold == 1e6, timeout=TIMEOUT_MS)  # opened again: no unsaved change
    assert not window.document.dirty and not window.document.changed_on_disk
    assert "parts.patchcore changed: inspecting with it from now on (threshold" in panel.notice_label.text()
    drop(synthetic_set.test_defective[1], camera, "d1.png")
    qtbot.waitUntil(lambda: panel.last_snapshot.inspected == 2, timeout=TIMEOUT_MS)
    assert panel.last_snapshot.ok == 1

    # with unsaved changes here the window keeps them, and says the line has the other program's model
    window.document.set_defect_size(7.0, None)
    save_model(fitted.model.with_threshold(2e6), model_path)
    qtbot.waitUntil(lambda: "changed by another program" in panel.notice_label.text(), timeout=TIMEOUT_MS)
    assert window.document.dirty and window.document.threshold == 1e6 and window.document.changed_on_disk
    with qtbot.waitSignal(panel.running_changed, timeout=TIMEOUT_MS):
        panel.stop_button.click()


def test_a_model_with_unsaved_changes_is_saved_before_a_line_runs_it(window, fitted, tmp_path):
    assert window.open_model(save_model(fitted.model, tmp_path / "parts.patchcore"))
    window.document.set_defect_size(5.0, None)  # inspected with, it would be recorded under a file without it
    (tmp_path / "camera").mkdir()
    assert not window.line_mode.run_line(tmp_path / "camera") and not window.line_mode.panel.running
    assert window.last_error.startswith("Save the model first (Ctrl+S)")


def test_an_ng_part_of_the_line_is_inspected_again_or_taught_from_its_thumbnail(qtbot, window, fitted, synthetic_set,
                                                                                  tmp_path):
    """The engineer tunes where the line errs from the line's own NG list: a double-click inspects the part in the
    Inspect tab (where every tool is), the right-click menu teaches it as good; both find the image where the
    line moved it."""
    panel = window.line_mode.panel
    panel.sorting.setCurrentIndex(panel.sorting.findData("move"))
    plant = EventWriter(tmp_path / "plant")  # a person's verdicts reach the plant's program
    panel.signal_setting.edit.setText(shlex.join(plant.command))
    _model_path, camera, panel = run_line(window, fitted, tmp_path)
    drop(synthetic_set.test_defective[0], camera, "d0.png")
    drop(synthetic_set.test_defective[1], camera, "d1.png")
    qtbot.waitUntil(lambda: panel.last_snapshot is not None and panel.last_snapshot.ng == 2, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: panel.ng_model.rowCount() == 2, timeout=TIMEOUT_MS)
    assert not (camera / "d0.png").exists()  # moved: the list knows where to
    panel.ng_list.doItemsLayout()
    first, second = (panel.ng_model.index(row, 0) for row in range(2))

    with qtbot.waitSignal(window.job_done, timeout=TIMEOUT_MS) as inspected:
        panel.ng_list.doubleClicked.emit(first)
    assert inspected.args == ["inspect", "finished"] and window.line_mode.tabs.currentIndex() == 0
    [item] = window.results.items()
    assert item.path.name == "d0.png" and item.path.parent.name == "NG" and item.score is not None
    # looked at again with the line's own model and threshold: the line's record of it stands, counted once
    qtbot.waitUntil(lambda: any(m.startswith("d0.png was recorded at ") for m in window.messages), timeout=TIMEOUT_MS)
    with open_store(window.record.target, "reader", create=False) as store:
        assert [stored.record.verdict for stored in store.inspections(RecordFilter(part="d0.png"))] == ["NG"]

    panel._ng_menu(panel.ng_list.visualRect(second).center())
    texts = [action.text() for action in panel._menu.actions() if not action.isSeparator()]
    assert texts == ["Inspect d1.png again (Inspect tab)", "This part is good: teach d1.png…", "Decide d1.png OK…",
                     "Decide d1.png NG…"]
    # taught as good: a person's verdict too, asked who and why (answered here), recorded once it is taught
    asked = []
    window.history.ask_who_and_why = lambda parent, settings, verdict, name, teaching=False: asked.append(
        (verdict, name, teaching)) or ("A. Meyer", "a false reject: dust")
    jobs = []
    window.job_done.connect(lambda *job: jobs.append(job))
    with qtbot.waitSignal(window.history.decided, timeout=TIMEOUT_MS):
        panel._menu.actions()[1].trigger()
    assert jobs[0] == ("teach", "finished") and asked == [("OK", "d1.png", True)]
    [teaching] = window.document.model.teachings
    assert "d1.png" in str(teaching)
    assert panel.notice_label.text().startswith("Not on the line yet: taught parts 0 -> 1")
    with open_store(window.record.target, "reader", create=False) as store:
        [stored] = store.inspections(RecordFilter(part="d1.png"))
    assert (stored.record.verdict, stored.decision.verdict, stored.decision.person, stored.decision.note) == (
        "NG", "OK", "A. Meyer", "taught as good: a false reject: dust")
    said = window.statusBar().currentMessage()
    assert said.startswith("Recorded: d1.png (the machine's verdict NG) decided OK") and "This part is good" not in said
    assert panel.ng_model.data(second) == "d1.png\ndecided OK"  # the list says it too

    # a person's verdict alone, from the list's menu
    qtbot.waitUntil(lambda: not window.busy, timeout=TIMEOUT_MS)  # the list inspected again with the taught model
    panel._ng_menu(panel.ng_list.visualRect(first).center())
    with qtbot.waitSignal(window.history.decided, timeout=TIMEOUT_MS):
        next(action for action in panel._menu.actions() if action.text() == "Decide d0.png NG…").trigger()
    assert asked[-1] == ("NG", "d0.png", False)
    with open_store(window.record.target, "reader", create=False) as store:  # the line's record of it, not the
        decided = {Path(stored.record.image_path).parent.name: stored.decision  # window's inspections of it again
                   for stored in store.inspections(RecordFilter(part="d0.png"))}
    assert decided["NG"] is None and (decided[camera.name].verdict, decided[camera.name].note) == (
        "NG", "a false reject: dust")
    assert window.statusBar().currentMessage().startswith("Recorded: d0.png (the machine's verdict NG) decided NG")
    assert panel.ng_model.data(first) == "d0.png\ndecided NG"

    # an image no longer anywhere: said, nothing inspected or taught
    qtbot.waitUntil(lambda: not window.busy and len(window.results.items()) == 1, timeout=TIMEOUT_MS)  # re-inspected
    for kept in tmp_path.rglob("d1.png"):
        kept.unlink()
    messages = []
    panel.message.connect(messages.append)
    panel.ng_list.doubleClicked.emit(second)
    assert messages and "d1.png is no longer at" in messages[-1]
    assert not window.busy and len(window.results.items()) == 1
    with qtbot.waitSignal(panel.running_changed, timeout=TIMEOUT_MS):
        panel.stop_button.click()
    told = [(arguments[0], Path(arguments[1]).name, particulars["PATCHCORE_PERSON"])
            for arguments, particulars in plant.events() if arguments[0].startswith("decided-")]
    assert told == [("decided-ok", "d1.png", "A. Meyer"), ("decided-ng", "d0.png", "A. Meyer")]


def test_closing_the_window_while_a_line_runs_asks_first(qtbot, window, fitted, tmp_path):
    _model_path, _camera, panel = run_line(window, fitted, tmp_path)
    asked = []
    window.line_mode._ask_to_stop = lambda: asked.append(True) or False
    assert not window.close() and panel.running and asked == [True]  # kept running
    window.line_mode._ask_to_stop = lambda: True
    assert window.close()
    qtbot.waitUntil(lambda: not panel.running, timeout=TIMEOUT_MS)  # stopped as it closed
    window.line_mode._ask_to_stop = lambda: pytest.fail("asked with no line running")
    window.show()
    assert window.close()


@pytest.fixture
def line3_station(settings):
    """A line PC whose settings name its station (IT's `[record] station=line3`, or `patchcore-gui --station`)."""
    settings.setValue("record/station", "line3")


def test_the_window_records_as_the_station_its_settings_name_by_hand_and_on_the_line(
        qtbot, line3_station, window, fitted, synthetic_set, tmp_path):
    store = tmp_path / "inspections.sqlite"
    model_path, camera, panel = run_line(window, fitted, tmp_path)
    drop(synthetic_set.test_defective[0], camera, "d0.png")
    qtbot.waitUntil(lambda: panel.last_snapshot is not None and panel.last_snapshot.inspected == 1, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(panel.running_changed, timeout=TIMEOUT_MS):
        panel.stop_button.click()
    with qtbot.waitSignal(window.job_done, timeout=TIMEOUT_MS):
        window.add_inputs([synthetic_set.test_good[0]])

    def recorded():
        """The stations of the parts recorded (the line's and the one inspected by hand), and of the audit trail."""
        if not store.exists():
            return [], set()
        with open_store(store, "reader", create=False) as record:
            return [stored.station for stored in record.inspections()], {c.station for c in record.model_changes()}

    qtbot.waitUntil(lambda: len(recorded()[0]) == 2, timeout=TIMEOUT_MS)
    assert recorded() == (["line3", "line3"], {"line3"})


def test_a_decision_made_at_another_pc_on_a_part_of_the_line_is_shown_in_its_ng_list(qtbot, window, fitted,
                                                                                     synthetic_set, tmp_path):
    _model_path, camera, panel = run_line(window, fitted, tmp_path)
    drop(synthetic_set.test_defective[0], camera, "d0.png")
    qtbot.waitUntil(lambda: panel.ng_model.rowCount() == 1, timeout=TIMEOUT_MS)
    with open_store(window.record.target, "quality-office") as office:  # the plant's record, read elsewhere
        [part] = office.inspections(RecordFilter(part="d0.png"))
        office.decide(part.id, "OK", "B. Kaya", "within tolerance")
    row = panel.ng_model.index(0, 0)
    qtbot.waitUntil(lambda: panel.ng_model.data(row) == "d0.png\ndecided OK", timeout=TIMEOUT_MS)
    assert "decided OK by B. Kaya" in panel.ng_model.data(row, Qt.ItemDataRole.ToolTipRole)
    with qtbot.waitSignal(panel.running_changed, timeout=TIMEOUT_MS):
        panel.stop_button.click()
