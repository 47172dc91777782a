""""This part is good" in the window: teaching in a worker, the list inspected again, undo, the record."""

from __future__ import annotations

import hashlib
import shutil
from datetime import datetime, timezone

import numpy as np
from PySide6.QtWidgets import QMenu, QMessageBox

from patchcore_gui.core.model_file import load_model, save_model
from patchcore_gui.record import InspectionRecord, RecordFilter, open_store

from .conftest import JOB_TIMEOUT_MS, inspect_and_wait


def _changes(window):
    with open_store(window.record.target, "reader", create=False) as store:
        return store.model_changes()


def _wait_jobs(qtbot, window, *kinds):
    """Wait for the jobs ``kinds`` to end, in order, each finished."""
    for kind in kinds:
        with qtbot.waitSignal(window.job_done, timeout=JOB_TIMEOUT_MS) as blocker:
            pass
        assert blocker.args == [kind, "finished"]
    qtbot.wait(200)


def _row_of(window, name):
    proxy, items = window.results_panel.proxy, window.results.items()
    return next(row for row in range(proxy.rowCount())
                if items[proxy.mapToSource(proxy.index(row, 0)).row()].path.name == name)


def _ng_item(window):
    return next(item for item in window.results.items() if window.document.verdict(item.score) == "NG")


def test_a_rejected_part_taught_as_good_passes_and_undo_rejects_it_again(qtbot, window, fitted, synthetic_set,
                                                                         tmp_path):
    path = save_model(fitted.model, tmp_path / "line3.patchcore")
    assert window.open_model(path)
    inspect_and_wait(qtbot, window, synthetic_set.test_defective[:3])
    part = _ng_item(window)
    window.results_panel.select_row(_row_of(window, part.path.name))
    assert window.shown.item is part and window.teaching.action.isEnabled()

    window.teaching.action.trigger()  # Ctrl+G: the part on screen
    assert window.jobs.job is not None and window.jobs.job.kind == "teach"
    _wait_jobs(qtbot, window, "teach", "inspect")
    model = window.document.model
    assert [t.file for t in model.teachings] == [part.path.name] and window.document.dirty
    again = {item.path: item for item in window.results.items()}
    assert len(again) == 3 and window.document.verdict(again[part.path].score) == "OK"
    panel = window.teaching.panel
    assert panel.list.count() == 1 and panel.list.item(0).text().startswith(f"1. {part.path.name}: ")
    assert "taught" in window.side_panel.model_panel.facts["Memory bank"].text()
    assert window.side_panel.model_panel.facts["Taught parts"].text() == "1"

    # the record: the taught model is not the file's content until it is saved
    qtbot.waitUntil(lambda: len(_changes(window)) >= 2, timeout=10_000)
    opened, taught = _changes(window)[:2]
    assert (opened.kind, taught.kind) == ("model opened", "model taught")
    assert taught.model_sha256 == hashlib.sha256(model.bank_vectors().tobytes()).hexdigest() != opened.model_sha256
    assert taught.model_name == "line3 (changed, unsaved)"
    assert window.save_model_to(path)
    qtbot.waitUntil(lambda: len(_changes(window)) >= 3, timeout=10_000)
    saved = _changes(window)[2]
    assert saved.kind == "model saved" and saved.model_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(load_model(path).teachings) == 1

    panel.undo_newest.click()
    _wait_jobs(qtbot, window, "inspect")
    assert window.document.model.teachings == ()
    assert window.document.model.bank_vectors().tobytes() == fitted.model.memory_bank.tobytes()
    assert window.document.verdict({i.path: i for i in window.results.items()}[part.path].score) == "NG"
    qtbot.waitUntil(lambda: len(_changes(window)) >= 4, timeout=10_000)
    assert _changes(window)[3].kind == "teaching undone" and panel.list.count() == 0


def test_the_context_menu_offers_teaching_on_rejected_rows_only(qtbot, model_window, synthetic_set):
    inspect_and_wait(qtbot, model_window, synthetic_set.test_good[:1] + synthetic_set.test_defective[:2])
    table = model_window.results_panel.table
    verdicts = {}
    for row in range(model_window.results_panel.proxy.rowCount()):
        index = model_window.results_panel.proxy.index(row, 1)
        before = set(table.findChildren(QMenu))
        model_window.teaching._context_menu(table.visualRect(index).center())
        menus = set(table.findChildren(QMenu)) - before
        item = model_window.results.items()[model_window.results_panel.proxy.mapToSource(index).row()]
        verdicts[item.path] = (model_window.document.verdict(item.score), menus)
    assert any(verdict == "OK" for verdict, _ in verdicts.values())
    for path, (verdict, menus) in verdicts.items():
        assert bool(menus) == (verdict in ("NG", "REVIEW"))
        for menu in menus:
            menu.close()
    path, (_, menus) = next((p, v) for p, v in verdicts.items() if v[1])
    action = next(iter(menus)).actions()[0]
    assert action.text() == f"This part is good: teach {path.name}"
    action.trigger()
    _wait_jobs(qtbot, model_window, "teach", "inspect")
    assert [t.file for t in model_window.document.model.teachings] == [path.name]


def test_a_part_reopened_from_the_record_and_taught_is_a_persons_verdict_on_that_record(qtbot, model_window,
                                                                                         synthetic_set, tmp_path):
    """Line 3's machine rejected a part; the engineer opens it again from History and teaches it as good (Ctrl+G):
    who and why is asked, and the OK goes onto line 3's record of it, beside the machine's NG. A part first
    inspected here is taught without asking."""
    window, history = model_window, model_window.history
    part = tmp_path / "camera" / "p1.png"
    part.parent.mkdir()
    shutil.copy(synthetic_set.test_defective[0], part)
    content = part.read_bytes()
    with open_store(window.record.target, "line3") as store:
        store.add(InspectionRecord(datetime.now(timezone.utc), str(part), len(content),
                                   hashlib.sha256(content).hexdigest(), "ab" * 32, "bottle", 2.5, 3.1, "NG", None, 40.0))
    with qtbot.waitSignal(history.loaded, timeout=JOB_TIMEOUT_MS):
        window.history_dock.show()
    asked = []
    history.ask_who_and_why = lambda parent, settings, verdict, name, teaching=False: asked.append(
        (verdict, name, teaching)) or ("A. Meyer", "dust")
    with qtbot.waitSignal(window.job_done, timeout=JOB_TIMEOUT_MS):
        history.open_row(0)
    [item] = window.results.items()
    window.results_panel.select_row(0)
    assert item.path == part and window.shown.item is item and window.teaching.action.isEnabled()
    before = set(window.results_panel.table.findChildren(QMenu))
    window.teaching._context_menu(window.results_panel.table.visualRect(window.results_panel.proxy.index(0, 1)).center())
    [menu] = set(window.results_panel.table.findChildren(QMenu)) - before
    assert menu.actions()[0].text() == "This part is good: teach p1.png…"  # it asks who
    menu.close()

    with qtbot.waitSignal(history.decided, timeout=JOB_TIMEOUT_MS):
        window.teaching.action.trigger()
    assert asked == [("OK", "p1.png", True)] and [t.file for t in window.document.model.teachings] == ["p1.png"]
    with open_store(window.record.target, "reader", create=False) as store:
        decided = {stored.station: stored for stored in store.inspections(RecordFilter(part="p1.png"))}
    line3 = decided["line3"]
    assert (line3.record.verdict, line3.decision.verdict, line3.decision.person, line3.decision.note) == (
        "NG", "OK", "A. Meyer", "taught as good: dust")
    assert all(stored.decision is None for station, stored in decided.items() if station != "line3")
    qtbot.waitUntil(lambda: not window.busy, timeout=JOB_TIMEOUT_MS)  # the list inspected again with the taught model

    inspect_and_wait(qtbot, window, synthetic_set.test_defective[1:2])
    window.results_panel.select_row(_row_of(window, synthetic_set.test_defective[1].name))
    window.teaching.action.trigger()
    _wait_jobs(qtbot, window, "teach", "inspect")
    assert asked == [("OK", "p1.png", True)] and len(window.document.model.teachings) == 2


def test_teaching_can_be_cancelled_and_is_refused_while_busy(qtbot, model_window, synthetic_set):
    model = model_window.document.model
    assert model_window.teaching.teach(synthetic_set.test_defective)
    assert not model_window.teaching.teach(synthetic_set.test_defective[:1])
    assert "Wait for the running job" in model_window.last_error
    with qtbot.waitSignal(model_window.job_done, timeout=JOB_TIMEOUT_MS) as blocker:
        model_window.jobs.cancel()
    assert blocker.args == ["teach", "cancelled"]
    assert model_window.document.model is model and model.teachings == ()
    assert "Teaching cancelled" in model_window.messages[-1]


def test_a_bad_image_is_named_and_the_rest_are_taught(qtbot, model_window, synthetic_set, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    inspect_and_wait(qtbot, model_window, synthetic_set.test_defective[:3])
    part = _ng_item(model_window).path
    assert model_window.teaching.teach([bad, part])
    _wait_jobs(qtbot, model_window, "teach", "inspect")
    (problem,) = [message for message in model_window.messages if "bad.png" in message]
    assert "\n" not in problem
    # the synthetic defect lies far above the threshold: taught as asked, with the caution that it may not be good
    assert model_window.last_error.startswith(f"{part.name} scored ") and "undo its teaching" in model_window.last_error
    taught = model_window.document.model.teachings
    assert [t.file for t in taught] == [part.name]
    assert np.all(taught[0].patches.shape[1] == model_window.document.model.memory_bank.shape[1])


def test_a_part_taught_far_from_the_good_ones_is_cautioned_and_undone_from_the_message(qtbot, model_window,
                                                                                       synthetic_set):
    """A defective part taught by mistake (the synthetic defects lie over 1.5x the threshold): the message says so
    and its button takes the teaching out again, whenever it is pressed (here while the list is inspected again)."""
    window = model_window
    inspect_and_wait(qtbot, window, synthetic_set.test_defective[:2])
    fitted_bank = window.document.model.bank_vectors().tobytes()
    part = _ng_item(window).path
    window.use_message_boxes = True
    assert window.teaching.teach([part])
    qtbot.waitUntil(lambda: any(box.isVisible() for box in window.findChildren(QMessageBox)), timeout=JOB_TIMEOUT_MS)
    (box,) = [box for box in window.findChildren(QMessageBox) if box.isVisible()]
    assert box.text().startswith(f"{part.name} scored ") and "undo its teaching" in box.text()
    assert [t.file for t in window.document.model.teachings] == [part.name]
    (undo,) = [button for button in box.buttons() if button.text() == "Undo it"]
    undo.click()
    qtbot.waitUntil(lambda: not window.document.model.teachings and not window.busy, timeout=JOB_TIMEOUT_MS)
    assert window.document.model.bank_vectors().tobytes() == fitted_bank
    assert f"Undid teaching 1: {part.name} (not saved yet: Ctrl+S)" in window.messages
    assert not any(box.isVisible() for box in window.findChildren(QMessageBox))  # the button closed its message
    window.use_message_boxes = False
