"""Sorted OK images removed after some days: only the OK folders of dated folders old enough, said day by day."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from patchcore_gui.line import InspectionLine, PartSorter
from patchcore_gui.line.kept_images import OK_IMAGES_REMOVED, OkImagesKept, removal_of
from patchcore_gui.record import ModelChange

from .conftest import FAST, drop
from .test_runner import Audited

TODAY = date(2026, 12, 2)


def write(path: Path, size: int = 1000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


def sorted_days(root: Path) -> None:
    write(root / day(3) / "OK" / "a.png")
    write(root / day(3) / "NG" / "b.png")
    write(root / day(2) / "OK" / "batch-7" / "c.png", 500)
    write(root / day(2) / "OK" / "d.png", 500)
    write(root / day(1) / "OK" / "e.png")
    write(root / day(0) / "OK" / "f.png")
    write(root / "notes" / "OK" / "g.png")  # not a dated folder the line made
    write(root / "2026-13-01" / "OK" / "h.png")
    write(root / "2026-1-05" / "OK" / "i.png")
    write(root / "overlays" / day(5) / "j_overlay.png")


def test_only_the_ok_folders_of_days_old_enough_are_removed_and_each_day_is_said(tmp_path):
    root = tmp_path / "sorted"
    sorted_days(root)
    changes = OkImagesKept(root, 2).sweep(TODAY)
    assert [change.kind for change in changes] == [OK_IMAGES_REMOVED] * 2
    assert changes[0].detail == f"{root / day(3) / 'OK'}: 1 image, 1 kB, older than 2 days"
    assert changes[1].detail == f"{root / day(2) / 'OK'}: 2 images, 1 kB, older than 2 days"
    assert changes[1].said == f"sorted OK images removed: {changes[1].detail}"
    left = sorted(str(path.relative_to(root)) for path in root.rglob("*.png"))
    assert left == sorted([f"{day(3)}/NG/b.png", f"{day(1)}/OK/e.png", f"{day(0)}/OK/f.png", "notes/OK/g.png",
                           "2026-13-01/OK/h.png", "2026-1-05/OK/i.png", f"overlays/{day(5)}/j_overlay.png"])
    assert not (root / day(2)).exists()  # the day held only OK images: its folder goes too
    assert OkImagesKept(root, 2).sweep(TODAY) == []  # nothing more to remove


def test_one_day_kept_means_today_s_images_only(tmp_path):
    root = tmp_path / "sorted"
    sorted_days(root)
    OkImagesKept(root, 1).sweep(TODAY)
    assert sorted(path.parent.parent.name for path in root.glob("*/OK/*.png")) == sorted([
        "2026-1-05", "2026-13-01", day(0), "notes"])


def test_the_sweep_runs_once_a_day(tmp_path):
    root = tmp_path / "sorted"
    kept = OkImagesKept(root, 1)
    assert kept.sweep_if_due(TODAY) == []  # no sorted folder yet: nothing, and no error
    write(root / day(0) / "OK" / "a.png")
    assert kept.sweep_if_due(TODAY) == []
    write(root / day(1) / "OK" / "b.png")
    assert kept.sweep_if_due(TODAY) == []  # swept today already
    assert len(kept.sweep_if_due(TODAY + timedelta(days=1))) == 2  # the next day: yesterday's and the day before


def test_an_image_that_cannot_be_removed_is_counted_and_the_rest_removed(tmp_path, monkeypatch):
    root = tmp_path / "sorted"
    held = write(root / day(4) / "OK" / "held.png")
    write(root / day(4) / "OK" / "free.png")
    unlink = os.unlink

    def refusing(path, *args, **kwargs):
        if str(path) == str(held):
            raise PermissionError(13, "Permission denied")
        return unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", refusing)
    [change] = OkImagesKept(root, 3).sweep(TODAY)
    assert change.detail.endswith(": 1 image, 1 kB, older than 3 days; 1 could not be removed")
    assert held.exists() and not (root / day(4) / "OK" / "free.png").exists()


def test_a_line_removes_old_ok_images_at_its_start_and_keeps_it_in_the_audit_trail(tmp_path, inspector,
                                                                                  synthetic_set, run_line):
    camera, root = tmp_path / "camera", tmp_path / "sorted"
    camera.mkdir()
    old = (date.today() - timedelta(days=30)).isoformat()
    write(root / old / "OK" / "old.png")
    write(root / old / "NG" / "old_ng.png")
    store = Audited()
    line = InspectionLine(inspector, camera, store, sorter=PartSorter(root),
                          settings=replace(FAST, ok_images_kept_days=14))
    running = run_line(line)
    running.wait_until(lambda: any(notice.startswith("sorted OK images removed") for notice in running.notices))
    drop(synthetic_set.test_good[0], camera, "p0.png")
    [result] = running.wait_for(1)
    running.stop()
    assert not (root / old / "OK").exists() and (root / old / "NG" / "old_ng.png").exists()
    assert result.sorted_to is not None and result.sorted_to.exists()  # today's OK image stays
    assert [kind for kind, _ in store.changes if kind == OK_IMAGES_REMOVED] == [OK_IMAGES_REMOVED]


def test_a_sorted_image_is_matched_to_the_removal_of_its_day_s_ok_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(Path("sorted") / day(3) / "OK" / "batch-7" / "a.png")
    write(Path("sorted") / day(2) / "OK" / "b.png")
    [change] = OkImagesKept(Path("sorted"), 3).sweep(TODAY)
    assert change.detail.startswith(f"{tmp_path / 'sorted' / day(3) / 'OK'}: ")  # absolute: read from elsewhere
    trail = [ModelChange(1, datetime.now(timezone.utc), "line3", "threshold moved", "0" * 64, "m", 1.0, ""),
             ModelChange(2, datetime.now(timezone.utc), "line3", change.kind, "0" * 64, "m", 1.0, change.detail)]
    assert removal_of(tmp_path / "sorted" / day(3) / "OK" / "batch-7" / "a.png", trail) is trail[1]
    assert removal_of(tmp_path / "sorted" / day(2) / "OK" / "b.png", trail) is None  # kept: its day is younger
    assert removal_of(tmp_path / "sorted" / day(3) / "NG" / "c.png", trail) is None  # not an OK image
    assert removal_of(tmp_path / "elsewhere" / "OK" / "a.png", trail) is None  # not in a dated folder
