"""The window records every part it inspects, its model changes and threshold moves; History reads them back."""

from __future__ import annotations

import hashlib
from datetime import datetime

from patchcore_gui.gui import window_record
from patchcore_gui.gui.main_window import MainWindow
from patchcore_gui.core.engine import Engine
from patchcore_gui.line.shifts import ShiftPlan
from patchcore_gui.record import RecordFilter, open_store

from .conftest import JOB_TIMEOUT_MS, inspect_and_wait


def stored(window):
    with open_store(window.record.target, "reader", create=False) as store:
        return store.inspections(), store.model_changes()


def wait_recorded(qtbot, window, parts: int) -> None:
    qtbot.waitUntil(lambda: len(stored(window)[0]) >= parts if _exists(window) else False, timeout=JOB_TIMEOUT_MS)


def _exists(window) -> bool:
    from pathlib import Path
    return Path(window.record.target).exists()


def test_every_inspected_part_is_recorded_with_the_model_in_force(qtbot, model_window, synthetic_set, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    parts = synthetic_set.test_good[:2] + synthetic_set.test_defective[:2] + [bad]
    inspect_and_wait(qtbot, model_window, parts)
    wait_recorded(qtbot, model_window, 5)
    # in the test's own record, as scratch settings promise (set after the window is made it went to the user's)
    assert model_window.record.target == str(tmp_path / "inspections.sqlite")
    records, changes = stored(model_window)
    assert [c.kind for c in changes] == ["model built"] and changes[0].model_name == "new model (unsaved)"
    by_path = {r.record.image_path: r.record for r in records}
    assert by_path[str(bad)].verdict == "ERROR" and "bad.png" in by_path[str(bad)].error
    for item in model_window.results.items():
        if item.score is not None:
            record = by_path[str(item.path.resolve())]
            assert record.score == item.score and record.threshold == model_window.document.threshold
            assert record.sha256 == hashlib.sha256(item.path.read_bytes()).hexdigest()
            assert record.model_sha256 == changes[0].model_sha256
    # the same images dropped again after the list was cleared are the same inspections: not counted twice (the
    # broken file neither)
    model_window.clear_results()
    inspect_and_wait(qtbot, model_window, [parts[0], bad])
    batch = "2 parts were recorded before with this model, threshold and score: not recorded again (the last, bad.png, "
    qtbot.waitUntil(lambda: any(m.startswith(batch) for m in model_window.messages), timeout=JOB_TIMEOUT_MS)
    assert any(m.startswith(f"{parts[0].name} was recorded at ") and m.endswith("not recorded again")
               for m in model_window.messages)
    assert len(stored(model_window)[0]) == 5


def test_saving_and_moving_the_threshold_go_into_the_audit_trail(qtbot, model_window, tmp_path):
    start = model_window.document.threshold
    for step in range(1, 6):  # a drag: five moves, one entry once it rests
        model_window.document.set_threshold(start + 0.1 * step)
    assert model_window.save_model_to(tmp_path / "line3.patchcore")
    qtbot.waitUntil(lambda: _exists(model_window) and len(stored(model_window)[1]) >= 3, timeout=10_000)
    changes = stored(model_window)[1]
    assert [c.kind for c in changes] == ["model built", "threshold moved", "model saved"]
    assert changes[1].detail == f"from {start:.4f} to {start + 0.5:.4f}"
    assert changes[2].model_sha256 == hashlib.sha256((tmp_path / "line3.patchcore").read_bytes()).hexdigest()
    assert (changes[2].model_name, changes[2].threshold) == ("line3", start + 0.5)
    model_window.document.set_threshold(start)  # a move on its own is recorded once it has rested
    qtbot.waitUntil(lambda: len(stored(model_window)[1]) == 4, timeout=10_000)
    assert stored(model_window)[1][3].kind == "threshold moved"


def test_a_store_it_cannot_reach_is_said_once_and_the_waiting_parts_are_recorded_when_it_is_back(
        qtbot, settings, backbone, fitted, synthetic_set, tmp_path, monkeypatch):
    monkeypatch.setattr(window_record, "RETRY_MS", 300)
    blocker = tmp_path / "share"
    blocker.write_text("a file where the store's folder should be")
    settings.setValue("record/store", str(blocker / "inspections.sqlite"))
    window = MainWindow(settings=settings, engine=Engine(backbone))
    window.use_message_boxes = False
    qtbot.addWidget(window)
    try:
        window.set_model(fitted.model)
        inspect_and_wait(qtbot, window, synthetic_set.test_good[:2])
        qtbot.waitUntil(lambda: bool(window.record.last_problem), timeout=10_000)
        problems = [m for m in window.messages if "inspection store" in m]
        assert len(problems) == 1 and "wait to be recorded" in problems[0] and "\n" not in problems[0]
        assert len(window.results.items()) == 2  # the window goes on
        blocker.unlink()  # the share is back
        qtbot.waitUntil(lambda: any("record is back" in m for m in window.messages), timeout=10_000)
        with open_store(blocker / "inspections.sqlite", "reader") as store:
            assert store.count() == 2 and [c.kind for c in store.model_changes()] == ["model built"]
    finally:
        window.shutdown()


def test_history_dock_lists_what_was_inspected_and_opens_a_past_part_again(qtbot, model_window, synthetic_set):
    inspect_and_wait(qtbot, model_window, synthetic_set.test_defective[:2])
    wait_recorded(qtbot, model_window, 2)
    history = model_window.history
    with qtbot.waitSignal(history.loaded, timeout=JOB_TIMEOUT_MS):
        model_window.history_dock.show()
    assert history.table_model.rowCount() == 2
    # "This shift" is the Line tab's shift: the parts of this shift, these two among them
    model_window.line_mode.panel.shifts_edit.setText("00:00 12:00")
    with qtbot.waitSignal(history.loaded, timeout=JOB_TIMEOUT_MS):
        history.period.setCurrentText("This shift")
    assert history.record_filter().since == ShiftPlan.parse("00:00 12:00").start_of(datetime.now().astimezone())
    assert history.table_model.rowCount() == 2
    model_window.clear_results()
    with qtbot.waitSignal(model_window.job_done, timeout=JOB_TIMEOUT_MS):
        history.open_row(0)
    assert [item.path.name for item in model_window.results.items()] == [
        history.table_model.row(0).record.image_path.rsplit("/", 1)[-1]]
    # looked at again with the same model and threshold: the record of it stands, and is not counted twice
    name = history.table_model.row(0).record.image_path.rsplit("/", 1)[-1]
    qtbot.waitUntil(lambda: any(m.startswith(f"{name} was recorded at ") and m.endswith(
        "with this model, threshold and score: not recorded again") for m in model_window.messages),
        timeout=JOB_TIMEOUT_MS)
    assert len(stored(model_window)[0]) == 2
    # with another threshold it is another inspection: recorded
    model_window.document.set_threshold(model_window.document.threshold * 0.5)
    model_window.clear_results()
    with qtbot.waitSignal(model_window.job_done, timeout=JOB_TIMEOUT_MS):
        history.open_row(0)
    wait_recorded(qtbot, model_window, 3)
    with open_store(model_window.record.target, "reader") as store:
        assert store.count(RecordFilter(verdict="NG")) >= 2
