"""The completeness rule with real files on disk: chunks, renames, second names, deletions, bursts."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import List

import cv2
import numpy as np
import pytest

from patchcore_gui.line import arrival
from patchcore_gui.line.arrival import ArrivalSettings, ArrivalTracker, FolderWatch, Part, PartQueue, looks_whole

SETTINGS = ArrivalSettings(settle=0.2, give_up=1.5)
PAUSE = 0.35  # longer than the settle interval: a quiet-only rule would hand on a half file


def encoded(seed: int, ext: str = ".png", size: int = 96) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)
    ok, data = cv2.imencode(ext, pixels)
    assert ok
    return data.tobytes()


#: How often a folder is listed in the tests that see it as a network folder is seen.
LISTED_EVERY = 0.1


class Watched:
    def __init__(self, folder: Path, settings: ArrivalSettings = SETTINGS) -> None:
        self.folder = folder
        self.queue = PartQueue()
        self.notices: List[str] = []
        self.watch = FolderWatch(folder, self.queue, settings, self.notices.append)
        self.parts: List[Part] = []
        #: how long a file must exist before the watcher surely has seen it
        self.seen_within = 3 * settings.poll if settings.poll else 0.1

    def collect(self, count: int, timeout: float = 10.0) -> List[Part]:
        deadline = time.monotonic() + timeout
        while len(self.parts) < count and time.monotonic() < deadline:
            self.parts += self.queue.take(1000, timeout=0.1)
        return self.parts

    def settle_out(self, seconds: float = 1.0) -> List[Part]:
        """Everything handed on until nothing more comes for ``seconds``."""
        time.sleep(seconds)
        self.parts += self.queue.take(100000, timeout=0)
        return self.parts


def start_watching(tmp_path: Path, request, settings: ArrivalSettings = SETTINGS):
    folder = tmp_path / "camera"
    folder.mkdir()
    w = Watched(folder, replace(settings, poll=0 if request.param == "file events" else LISTED_EVERY))
    w.watch.start()
    return w


@pytest.fixture(params=["file events", "listed"])
def watched(tmp_path, request):
    """Every completeness rule holds both where file events come and where the folder is listed (a network
    folder, whose files written by other machines raise no events)."""
    w = start_watching(tmp_path, request)
    yield w
    w.watch.stop()


@pytest.fixture(params=["file events", "listed"])
def watched_settling_long(tmp_path, request):
    """As ``watched``, with a quiet interval long enough that a part handed on before it ends was surely not
    waiting for it, however late a busy machine runs the watcher (0.2 s was once not enough)."""
    w = start_watching(tmp_path, request, replace(SETTINGS, settle=1.0))
    yield w
    w.watch.stop()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_in_chunks(path: Path, data: bytes, chunks: int, pause: float, reopen: bool = True) -> None:
    """A slow camera: each chunk appended (and the file closed, if ``reopen``) with a pause between."""
    pieces = np.array_split(np.frombuffer(data, np.uint8), chunks)
    if reopen:
        for piece in pieces:
            with open(path, "ab") as stream:
                stream.write(piece.tobytes())
            time.sleep(pause)
        return
    with open(path, "wb") as stream:
        for piece in pieces:
            stream.write(piece.tobytes())
            stream.flush()
            time.sleep(pause)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp"])
def test_a_file_written_slowly_in_chunks_is_handed_on_once_when_whole(watched, ext):
    data = encoded(1, ext)
    path = watched.folder / f"part{ext}"
    write_in_chunks(path, data, chunks=4, pause=PAUSE)
    parts = watched.settle_out()
    assert [(p.path.name, p.sha256, p.size) for p in parts] == [(path.name, sha(data), len(data))]


def test_a_file_held_open_and_written_slowly_is_whole_only_at_the_end(watched):
    data = encoded(2)
    write_in_chunks(watched.folder / "held.png", data, chunks=4, pause=PAUSE, reopen=False)
    assert [p.sha256 for p in watched.settle_out()] == [sha(data)]


def test_a_tiff_whose_end_cannot_be_told_waits_for_the_quiet_interval(watched):
    data = encoded(3, ".tif")
    started = time.monotonic()
    write_in_chunks(watched.folder / "scan.tif", data, chunks=4, pause=0.05)
    parts = watched.collect(1)
    assert [p.sha256 for p in parts] == [sha(data)]
    assert parts[0].waited_from - started >= 0.15 + SETTINGS.settle * 0.9


def test_a_temporary_name_renamed_into_place_is_one_part_at_once(watched_settling_long):
    watched = watched_settling_long
    settle = watched.watch.tracker.settings.settle
    data = encoded(4)
    temporary = watched.folder / "part7.png.tmp"
    write_in_chunks(temporary, data, chunks=3, pause=PAUSE)
    os.rename(temporary, watched.folder / "part7.png")
    renamed = time.monotonic()
    parts = watched.collect(1)
    assert [(p.path.name, p.sha256) for p in parts] == [("part7.png", sha(data))]
    # no quiet interval after a rename it sees; a listing sees a new name (whose file may still grow) instead
    quiet = 0 if watched.watch.poll_every == 0 else settle + 2 * LISTED_EVERY
    assert parts[0].waited_from - renamed < settle + quiet
    assert watched.settle_out() == parts


def test_a_hard_link_written_through_its_other_name(watched, tmp_path):
    data = encoded(5)
    other = watched.folder / "x.tmp"
    other.write_bytes(b"")
    os.link(other, watched.folder / "linked.png")  # events come for x.tmp only from now on
    write_in_chunks(other, data, chunks=4, pause=PAUSE)
    parts = watched.settle_out()
    assert [(p.path.name, p.sha256) for p in parts] == [("linked.png", sha(data))]


def test_a_symlink_whose_target_is_written_elsewhere(watched, tmp_path):
    data = encoded(6)
    staging = tmp_path / "staging"
    staging.mkdir()
    target = staging / "frame.bin"
    target.write_bytes(b"")
    (watched.folder / "via_link.png").symlink_to(target)
    write_in_chunks(target, data, chunks=4, pause=PAUSE)
    assert [(p.path.name, p.sha256) for p in watched.settle_out()] == [("via_link.png", sha(data))]


def test_a_file_deleted_before_it_is_whole_is_handed_on_as_gone(watched):
    path = watched.folder / "aborted.png"
    path.write_bytes(encoded(7)[:200])
    time.sleep(watched.seen_within)
    path.unlink()
    parts = watched.settle_out()
    assert [(p.path.name, p.gone) for p in parts] == [("aborted.png", True)]


def test_a_damaged_file_is_handed_on_after_it_stays_unchanged(watched):
    (watched.folder / "cut.png").write_bytes(encoded(8)[:300])
    parts = watched.collect(1, timeout=SETTINGS.give_up + 3)
    assert [(p.path.name, p.gone, p.size) for p in parts] == [("cut.png", False, 300)]


def test_a_burst_of_hundreds_arrives_in_order_each_once(watched):
    data = [encoded(seed, size=48) for seed in range(300)]
    for index, content in enumerate(data):
        (watched.folder / f"p{index:04d}.png").write_bytes(content)
    parts = watched.collect(300)
    assert [p.path.name for p in parts] == [f"p{index:04d}.png" for index in range(300)]
    assert [p.sha256 for p in parts] == [sha(content) for content in data]
    assert len(watched.settle_out(0.5)) == 300


def test_files_there_before_the_start_are_found_oldest_first(tmp_path):
    folder = tmp_path / "camera"
    folder.mkdir()
    for index, name in enumerate(["b.png", "a.png", "c.png"]):
        (folder / name).write_bytes(encoded(index))
        os.utime(folder / name, ns=(10**18 + index, 10**18 + index))
    (folder / ".hidden.png").write_bytes(encoded(9))
    (folder / "notes.txt").write_text("no part")
    w = Watched(folder)
    w.watch.start()
    try:
        assert [p.path.name for p in w.collect(3)] == ["b.png", "a.png", "c.png"]
        assert len(w.settle_out(0.5)) == 3
    finally:
        w.watch.stop()


def test_a_part_there_before_the_start_goes_before_one_that_lands_just_after(tmp_path):
    folder = tmp_path / "camera"
    folder.mkdir()
    (folder / "before.png").write_bytes(encoded(1))
    old = time.time_ns() - 5 * 10**9  # written while the line was down
    os.utime(folder / "before.png", ns=(old, old))
    w = Watched(folder)
    w.watch.start()
    try:
        (folder / "after.png").write_bytes(encoded(2))  # closed at once, within the settle interval
        assert [p.path.name for p in w.collect(2)] == ["before.png", "after.png"]
    finally:
        w.watch.stop()


def test_the_scan_at_start_goes_before_a_part_written_while_the_watcher_started(tmp_path):
    # the watcher starts before the scan: an event for a part written in between is noted first
    (tmp_path / "before.png").write_bytes(encoded(1))
    old = time.time_ns() - 5 * 10**9
    os.utime(tmp_path / "before.png", ns=(old, old))
    (tmp_path / "after.png").write_bytes(encoded(2))
    queue = PartQueue()
    tracker = ArrivalTracker(queue, SETTINGS)
    tracker.note("closed", tmp_path / "after.png")
    tracker.note_existing([tmp_path / "before.png", tmp_path / "after.png"])
    tracker.step()
    assert [p.path.name for p in queue.take(10)] == ["before.png", "after.png"]


def test_an_overwritten_file_is_a_new_part(watched):
    first, second = encoded(10), encoded(11)
    path = watched.folder / "latest.png"
    path.write_bytes(first)
    watched.collect(1)
    path.write_bytes(second)
    parts = watched.collect(2)
    assert [p.sha256 for p in parts] == [sha(first), sha(second)]


@pytest.mark.parametrize("ext,cut", [(".png", 10), (".jpg", 2), (".bmp", 1), (".webp", 1), (".gif", 1)])
def test_whole_only_with_the_last_bytes(tmp_path, ext, cut):
    data = encoded(12, ext) if ext != ".gif" else _gif()
    path = tmp_path / f"x{ext}"
    path.write_bytes(data)
    assert looks_whole(path, len(data)) is True
    path.write_bytes(data[:-cut])
    assert looks_whole(path, len(data) - cut) is False


def _gif() -> bytes:
    from io import BytesIO
    from PIL import Image
    buffer = BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buffer, "GIF")
    return buffer.getvalue()


def test_a_part_written_just_before_the_start_is_not_overtaken_by_one_renamed_in_just_after(tmp_path):
    # found by the scan, its close unseen: it waits out the quiet interval; one renamed into place just
    # after the start is complete at once, and waits for it (a loaded line PC showed this order reversed)
    (tmp_path / "before.png").write_bytes(encoded(1))
    (tmp_path / "after.png").write_bytes(encoded(2))
    clock = [100.0]
    queue = PartQueue()
    tracker = ArrivalTracker(queue, SETTINGS, clock=lambda: clock[0])
    tracker.note_existing([tmp_path / "before.png"])
    tracker.note("moved", tmp_path / ".after.png.part", tmp_path / "after.png")
    tracker.step()
    assert queue.take(10) == []
    clock[0] += SETTINGS.settle + 0.01
    tracker.step()
    assert [p.path.name for p in queue.take(10)] == ["before.png", "after.png"]


def test_a_part_found_at_start_and_rewritten_while_it_is_read_is_not_overtaken(tmp_path, monkeypatch):
    # its bytes change while the tracker hashes them: it is not complete after all, and the part found
    # after it, complete in the same step, must wait for it rather than go first
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    first.write_bytes(encoded(1))
    second.write_bytes(encoded(2))
    old = time.time() - 10
    for path in (first, second):
        os.utime(path, (old, old))
    hashing = arrival.file_identity
    rewritten = []

    def rewritten_while_read(path):
        identity = hashing(path)
        if path == first and not rewritten:
            rewritten.append(path)
            first.write_bytes(encoded(3))
        return identity

    monkeypatch.setattr(arrival, "file_identity", rewritten_while_read)
    clock = [100.0]
    queue = PartQueue()
    tracker = ArrivalTracker(queue, SETTINGS, clock=lambda: clock[0])
    tracker.note_existing([first, second])
    tracker.step()
    assert rewritten and queue.take(10) == []
    parts: List[Part] = []
    for _ in range(4):  # the rewritten part is quiet again after the settle interval, counted from its change
        clock[0] += SETTINGS.settle + 0.01
        tracker.step()
        parts += queue.take(10)
    assert [p.path.name for p in parts] == ["first.png", "second.png"]
    assert parts[0].sha256 == sha(encoded(3))


def test_files_first_seen_together_are_handed_on_in_the_order_they_were_written(tmp_path):
    """A listing reports a second's new files at once, in no order: their writes order them (then names)."""
    queue = PartQueue()
    tracker = ArrivalTracker(queue, SETTINGS)
    written = {"c.png": 300, "a.png": 100, "b2.png": 200, "b1.png": 200}
    for name, second in written.items():
        path = tmp_path / name
        path.write_bytes(encoded(len(name) + second))
        os.utime(path, (1_700_000_000 + second,) * 2)
        tracker.note("written", path)
    tracker.step()
    time.sleep(SETTINGS.settle + 0.05)
    tracker.step()
    assert [p.path.name for p in queue.take(10)] == ["a.png", "b1.png", "b2.png", "c.png"]


@dataclass
class Mount:
    mountpoint: str
    fstype: str
    opts: str = "rw"


def test_a_folder_on_a_network_file_system_is_told_apart_from_a_local_one(tmp_path):
    root = Path(os.path.realpath(tmp_path))
    mounts = [Mount("/", "ext4"), Mount(str(root / "share"), "cifs"), Mount(str(root / "share/cache"), "tmpfs"),
              Mount(str(root / "ssh"), "fuse.sshfs"), Mount(str(root / "usb"), "fuseblk"),
              Mount(str(root / "z"), "NTFS", "rw,remote"), Mount(str(root / "nfs"), "nfs4")]
    kinds = {sub: arrival.network_file_system(root / sub, mounts)
             for sub in ("share/camera", "share", "share/cache/x", "shared", "ssh/cam", "usb/cam", "z/cam", "nfs")}
    assert kinds == {"share/camera": "cifs", "share": "cifs", "share/cache/x": None, "shared": None,
                     "ssh/cam": "fuse.sshfs", "usb/cam": None, "z/cam": "Windows network drive", "nfs": "nfs4"}
    assert arrival.polling_interval(tmp_path, SETTINGS) == (0.0, None)  # the tests' own folder is local
    assert arrival.polling_interval(tmp_path, replace(SETTINGS, poll=2.5)) == (2.5, None)


def test_a_folder_that_goes_away_is_watched_again_when_it_is_back(watched, tmp_path):
    """A share mounted again, a stick plugged in again, a camera program making its folder anew: the watch
    on the old folder sees nothing, so the line says the folder is gone and watches the new one."""
    first, second, third = encoded(20), encoded(21), encoded(22)
    (watched.folder / "a.png").write_bytes(first)
    assert [p.sha256 for p in watched.collect(1)] == [sha(first)]
    shutil.rmtree(watched.folder)
    wait_for(lambda: watched.notices, arrival.FOLDER_LOOK_EVERY_S * 3)
    assert watched.notices == [f"the camera folder {watched.folder} is gone: the line waits for it to come back"]
    watched.folder.mkdir()
    (watched.folder / "b.png").write_bytes(second)  # there when it is found again
    assert [p.sha256 for p in watched.collect(2)] == [sha(first), sha(second)]
    assert watched.notices[1] == f"the camera folder {watched.folder} is back: watching it again (1 part file(s) in it)"
    (watched.folder / "c.png").write_bytes(third)  # seen by the new watch
    assert [p.sha256 for p in watched.collect(3)] == [sha(first), sha(second), sha(third)]

    watched.folder.rename(tmp_path / "old camera")  # replaced between two looks: the new folder is watched
    watched.folder.mkdir()
    fourth = encoded(23)
    (watched.folder / "d.png").write_bytes(fourth)
    assert [p.sha256 for p in watched.collect(4)][3:] == [sha(fourth)]
    wait_for(lambda: len(watched.notices) > 2, arrival.FOLDER_LOOK_EVERY_S * 3)  # a listing may see it first
    assert watched.notices[2] == (f"the camera folder {watched.folder} is another folder now (made anew or mounted again): "
                                  "watching it again "
                                  "(1 part file(s) in it)")
    assert len(watched.settle_out(0.5)) == 4


def wait_for(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_share_mounted_over_the_folder_is_listed_from_then_on(tmp_path, monkeypatch):
    folder = tmp_path / "camera"
    folder.mkdir()
    watched = Watched(folder, SETTINGS)
    watched.watch.start()
    try:
        assert watched.watch.poll_every == 0
        monkeypatch.setattr(arrival, "network_file_system", lambda folder, partitions=None: "cifs")
        folder.rename(tmp_path / "local camera")
        folder.mkdir()  # as a share mounted over the folder's path is, to the line
        wait_for(lambda: len(watched.notices) > 1, arrival.FOLDER_LOOK_EVERY_S * 3)
        assert watched.notices[1].startswith(f"{folder} is looked at every 1 s: it is on a network file system (cifs)")
        (folder / "a.png").write_bytes(encoded(30))
        assert [p.path for p in watched.collect(1)] == [folder / "a.png"]
        assert watched.watch.poll_every == arrival.POLL_EVERY_S
    finally:
        watched.watch.stop()


def test_a_listed_folder_of_many_files_reads_their_sizes_less_often_and_says_so(tmp_path, monkeypatch):
    """Reading every file's size and time costs a round trip each over a network: a folder keeping a shift's
    parts must not take the cores, and new parts are still seen by their names."""
    monkeypatch.setattr(arrival, "LISTING_SHARE", 0.01)  # a listing of 3,000 files is then "slow"
    folder = tmp_path / "camera"
    folder.mkdir()
    for index in range(3000):
        (folder / f"note{index}.txt").write_bytes(b"")
    watched = Watched(folder, replace(SETTINGS, poll=LISTED_EVERY))
    watched.watch.start()
    try:
        wait_for(lambda: watched.notices, 10)
        assert watched.notices[0].startswith(f"reading the size and time of every file in {folder} takes ")
        assert "s (3,000 files in it): new parts are still seen every 0.1 s, a file written" in watched.notices[0]
        (folder / "a.png").write_bytes(encoded(40))
        assert [p.path.name for p in watched.collect(1, timeout=30)] == ["a.png"]
    finally:
        watched.watch.stop()


def test_a_late_word_of_a_part_already_handed_on_and_moved_away_is_no_part(tmp_path):
    """A slow listing may report a part after the line has inspected and sorted it away: no ERROR for it."""
    queue = PartQueue()
    tracker = ArrivalTracker(queue, SETTINGS)
    path = tmp_path / "p1.png"
    path.write_bytes(encoded(50))
    tracker.note("closed", path)
    tracker.step()
    assert [p.path for p in queue.take(10)] == [path]
    path.rename(tmp_path / "sorted.png")
    tracker.note("written", path)
    tracker.step()
    assert queue.take(10) == []


@pytest.fixture(params=["file events", "listed"])
def watched_below(tmp_path, request):
    """A watch of the folder and its subfolders, both ways."""
    folder = tmp_path / "camera"
    (folder / "2026-11-29").mkdir(parents=True)
    old = encoded(60)
    (folder / "2026-11-29" / "there before.png").write_bytes(old)
    w = Watched(folder, replace(SETTINGS, subfolders=True,
                                poll=0 if request.param == "file events" else LISTED_EVERY))
    w.old = old
    w.watch.start()
    yield w
    w.watch.stop()


def test_parts_in_subfolders_are_found_when_asked_new_folders_and_folders_moved_in_too(watched_below, tmp_path):
    """A camera that writes into a new dated folder each day, or whose software moves a finished batch in."""
    first, second, third = encoded(61), encoded(62), encoded(63)
    assert [p.sha256 for p in watched_below.collect(1)] == [sha(watched_below.old)]  # found by the scan at start
    day = watched_below.folder / "2026-11-30" / "station 2"
    day.mkdir(parents=True)
    (day / "a.png").write_bytes(first)
    assert [p.path for p in watched_below.collect(2)][1:] == [day / "a.png"]
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "b.png").write_bytes(second)
    (batch / "c.png").write_bytes(third)
    batch.rename(watched_below.folder / "batch")
    parts = watched_below.collect(4)
    assert sorted((p.path.name, p.sha256) for p in parts[2:]) == [("b.png", sha(second)), ("c.png", sha(third))]
    assert len(watched_below.settle_out(0.5)) == 4


def test_a_part_in_a_subfolder_is_no_part_unless_asked(watched):
    (watched.folder / "sub").mkdir()
    (watched.folder / "sub" / "a.png").write_bytes(encoded(64))
    (watched.folder / "b.png").write_bytes(encoded(65))
    assert [p.path.name for p in watched.settle_out()] == ["b.png"]


def test_a_line_that_runs_for_weeks_remembers_its_newest_parts_only(tmp_path, monkeypatch):
    """What a line remembers per part it handed on is bounded (a week at 10 parts/s is six million); a name
    the camera writes again is remembered as new, and its late close is still no second part."""
    from patchcore_gui.line.runner import PartResult, SessionMemory

    monkeypatch.setattr(arrival, "REMEMBERED_PARTS", 3)
    queue = PartQueue()
    tracker = ArrivalTracker(queue, SETTINGS)
    for index, name in enumerate(["latest.png", "a.png", "b.png", "latest.png", "c.png"]):
        (tmp_path / name).write_bytes(encoded(index))
        tracker.note("closed", tmp_path / name)
        tracker.step()
    assert [p.path.name for p in queue.take(10)] == ["latest.png", "a.png", "b.png", "latest.png", "c.png"]
    assert list(tracker._handed) == [tmp_path / "b.png", tmp_path / "latest.png", tmp_path / "c.png"]
    tracker.note("closed", tmp_path / "latest.png")  # the same bytes closed again: no new part
    tracker.step()
    assert queue.take(10) == []

    memory = SessionMemory(remembered=2)
    for name in ("a.png", "b.png", "c.png"):
        memory.add(PartResult(tmp_path / name, None, "OK", 1.0, 2.0, None, 5.0, 1, name * 2, 0.0))
    assert [memory.is_recorded(tmp_path / name, name * 2) for name in ("a.png", "b.png", "c.png")] == [
        False, True, True]
