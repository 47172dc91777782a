"""The line's results into a real store: where a sorted image went is noted with an absolute path."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from patchcore_gui.line.recording import StoreRecorder
from patchcore_gui.record import InspectionRecord, open_store
from patchcore_gui.record.recorder import InspectionRecorder


def test_the_sorted_path_is_noted_absolute_on_this_stations_record_of_that_content(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a line started with '--sort-into sorted'
    camera = tmp_path / "camera" / "SN-1002.png"
    with open_store(tmp_path / "record.sqlite", "line3") as store:
        for sha in ("a" * 64, "b" * 64):  # the same name, another part before
            store.add(InspectionRecord(datetime.now(timezone.utc), str(camera), 10, sha, "c" * 64, "bottle",
                                               2.5, 3.1, "NG", None, 40.0))
        recorder = StoreRecorder(InspectionRecorder(store, "c" * 64, "bottle", 2.5))
        recorder.note_sorted(camera, "b" * 64, Path("sorted/2026-11-30/NG/SN-1002.png"))
        noted = {r.record.sha256: r.record.sorted_path for r in store.inspections()}
    assert noted == {"a" * 64: None, "b" * 64: str(tmp_path / "sorted" / "2026-11-30" / "NG" / "SN-1002.png")}
