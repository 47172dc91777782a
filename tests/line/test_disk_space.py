"""A disk the line uses, said before it is full: unit checks over a made-up disk and clock, and a real line."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import List

import pytest

from patchcore_gui.line import InspectionLine
from patchcore_gui.line.disk_space import (DISK_NEARLY_FULL, DISK_ROOM_AGAIN, LEAST_FREE_BYTES, DiskSpace, Usage,
                                           _mount_point)
from patchcore_gui.line.recording import StoreRecorder
from patchcore_gui.record import open_store
from patchcore_gui.record.recorder import InspectionRecorder

from .conftest import FAST, drop

GB = 10**9


class FillingDisk:
    """One disk whose free space is given look by look, each look a fixed number of seconds after the last."""

    def __init__(self, free: List[float], seconds_apart: float = 30.0) -> None:
        self.free = list(free)
        self.seconds_apart = seconds_apart
        self.now = 0.0
        self.asked: List[str] = []

    def usage(self, folder: str) -> Usage:
        self.asked.append(folder)
        self.now += self.seconds_apart
        free = int(self.free.pop(0) if len(self.free) > 1 else self.free[0])
        return Usage(100 * GB, 100 * GB - free, free)

    def clock(self) -> float:
        return self.now


def watched(tmp_path: Path, disk: FillingDisk, **kwargs) -> DiskSpace:
    (tmp_path / "camera").mkdir(exist_ok=True)
    return DiskSpace([("camera folder", tmp_path / "camera")], usage=disk.usage, clock=disk.clock, **kwargs)


def test_a_disk_that_fills_is_said_once_before_it_is_full_and_said_again_when_it_has_room(tmp_path):
    # 100 MB a minute (a camera's 5 MB images at 20 parts a minute): 100 min left at 10 GB, 50 at 5 GB
    disk = FillingDisk([10 * GB - 50e6 * look for look in range(101)] + [30 * GB] * 5)
    space = watched(tmp_path, disk)
    space.look()
    space.look()
    assert space.take_changes() == [] and space.shown == ""  # a minute of looks: 99 minutes left, over the hour
    changes = []
    for _ in range(99):
        space.look()
        changes += space.take_changes()
    assert len(changes) == 1, changes  # once, not at every look
    nearly_full = changes[0]
    assert nearly_full.kind == DISK_NEARLY_FULL
    mount = _mount_point(tmp_path)
    # said when an hour was left: 6 GB at 100 MB a minute
    assert nearly_full.detail == f"{mount} (camera folder): 6.0 GB free, full in about 60 min at the rate it fills"
    assert nearly_full.said == ("warning: the disk of the camera folder is nearly full: 6.0 GB free, full in about "
                                "60 min at the rate it fills; when it is full the camera cannot save its images: make "
                                f"room on {mount}")
    assert space.shown.startswith(f"The disk of the camera folder ({mount}) is nearly full: 5.0 GB free, full in "
                                  "about 50 min at the rate it fills. When it is full the camera cannot save")
    space.look()  # room made: 30 GB free, and the free space no longer falls
    [room] = space.take_changes()
    assert room.kind == DISK_ROOM_AGAIN and room.detail == f"{mount} (camera folder): 30.0 GB free"
    assert room.said == f"the disk of the camera folder has room again: 30.0 GB free on {mount}"
    assert space.shown == ""


def test_a_disk_under_the_least_free_space_is_said_at_the_first_look_and_on_the_edge_only_once(tmp_path):
    disk = FillingDisk([0.9 * LEAST_FREE_BYTES, 1.05 * LEAST_FREE_BYTES, 0.95 * LEAST_FREE_BYTES,
                        1.1 * LEAST_FREE_BYTES, 1.3 * LEAST_FREE_BYTES], seconds_apart=1.0)
    space = watched(tmp_path, disk)
    said = []
    for _ in range(5):
        space.look()
        said += [change.kind for change in space.take_changes()]
    # no rate yet (a second apart), so no time said; over and under the edge it stays nearly full until a margin
    assert said == [DISK_NEARLY_FULL, DISK_ROOM_AGAIN]


def test_a_slowly_filling_disk_with_room_is_not_said(tmp_path):
    disk = FillingDisk([50 * GB - 1e6 * look for look in range(40)])  # 2 MB a minute: years
    space = watched(tmp_path, disk)
    for _ in range(40):
        space.look()
    assert space.take_changes() == [] and space.shown == ""


def test_folders_on_one_disk_are_looked_at_once_and_named_together_and_a_missing_one_is_left_out(tmp_path):
    disk = FillingDisk([0.5 * GB])
    for name in ("camera", "record"):
        (tmp_path / name).mkdir()
    space = DiskSpace([("camera folder", tmp_path / "camera"), ("inspection record", tmp_path / "record"),
                       ("sorted images", tmp_path / "not yet made")], usage=disk.usage, clock=disk.clock)
    space.look()
    assert disk.asked == [str(tmp_path / "camera")]
    [change] = space.take_changes()
    assert change.detail.startswith(f"{_mount_point(tmp_path)} (camera folder, inspection record): 500 MB free")
    assert change.said.startswith("warning: the disk of the camera folder and the inspection record is nearly full")
    assert "when it is full the camera cannot save its images and no part is recorded" in change.said


def test_a_disk_that_cannot_be_looked_at_is_passed_over(tmp_path):
    def unreachable(folder: str) -> Usage:
        raise OSError(112, "Host is down")

    (tmp_path / "camera").mkdir()
    space = DiskSpace([("camera folder", tmp_path / "camera")], usage=unreachable)
    space.look()
    assert space.take_changes() == [] and space.shown == ""


def test_never_means_no_thread_looks(tmp_path):
    disk = FillingDisk([0.1 * GB])
    space = watched(tmp_path, disk, full_within_s=0)
    space.start()
    space.close()
    assert disk.asked == []


def test_a_line_says_its_disk_nearly_full_in_the_record_and_shows_it_while_it_lasts(tmp_path, inspector,
                                                                                   synthetic_set, run_line,
                                                                                   event_writer):
    camera = tmp_path / "camera"
    camera.mkdir()
    store = open_store(tmp_path / "record" / "line.sqlite", "line3")
    recorder = StoreRecorder(InspectionRecorder(store, "c" * 64, "bottle", inspector.model.threshold))
    line = InspectionLine(inspector, camera, recorder, settings=replace(FAST, signal_command=event_writer.command))
    disk = FillingDisk([0.4 * GB], seconds_apart=1.0)
    line.disk_space = DiskSpace((), usage=disk.usage, clock=disk.clock, check_every_s=0.05)
    running = run_line(line)
    running.wait_until(lambda: any("nearly full" in notice for notice in running.notices))
    # the record's folder and the camera folder lie on one disk here: looked at once, named together
    assert line.disk_space.folders == [("camera folder", camera.absolute()), ("inspection record", store.file.parent)]
    drop(synthetic_set.test_good[0], camera, "p0.png")
    running.wait_for(1)
    assert line.snapshot().disk_nearly_full.startswith("The disk of the camera folder and the inspection record (")
    assert line.snapshot().line().endswith("; a disk nearly full")
    disk.free = [40 * GB]  # room made
    running.wait_until(lambda: any("has room again" in notice for notice in running.notices))
    assert line.snapshot().disk_nearly_full == ""
    running.stop()
    changes = [(change.kind, change.detail) for change in store.model_changes()]
    assert [kind for kind, _ in changes if "disk" in kind] == [DISK_NEARLY_FULL, DISK_ROOM_AGAIN]
    assert [detail for kind, detail in changes if kind == DISK_NEARLY_FULL][0].endswith(
        "(camera folder, inspection record): 400 MB free")
    store.close()
    # the plant's program was told too: a stack light can show it
    assert [name for name in event_writer.names() if "disk" in name] == ["disk-nearly-full", "disk-has-room-again"]


def test_the_real_free_space_of_a_disk_is_read(tmp_path):
    space = DiskSpace([("camera folder", tmp_path)], least_free=10**18, usage=shutil.disk_usage)
    space.look()
    [change] = space.take_changes()
    free = shutil.disk_usage(tmp_path).free
    assert change.detail.startswith(f"{_mount_point(tmp_path)} (camera folder): ")
    number, unit = change.detail.split(": ")[1].split(" free")[0].split()
    read = float(number) * {"bytes": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[unit]
    assert abs(read - free) <= 0.05e9 + 0.01 * free  # rounded as said, and the disk's own writes meanwhile


@pytest.mark.skipif(os.name == "nt", reason="a POSIX path's mount point")
def test_the_disk_is_named_by_its_mount_point():
    assert _mount_point(Path("/")) == "/"
    assert os.path.ismount(_mount_point(Path(__file__)))


def test_the_line_s_end_waits_for_a_removal_under_way_so_that_it_is_said(tmp_path):
    import threading
    import time

    from patchcore_gui.line.disk_space import DiskChange

    started = threading.Event()

    def slow_sweep():
        started.set()
        time.sleep(1.5)  # past the second the end waits for a look
        return [DiskChange("sorted OK images removed", "a day's", "said")]

    space = DiskSpace([], full_within_s=0)
    space.sweeps = [slow_sweep]
    space.start()
    assert started.wait(5)
    space.close()
    assert [change.detail for change in space.take_changes()] == ["a day's"]
