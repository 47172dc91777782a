"""One line per camera folder: a second line on it is refused in one line, through any path to the folder."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path
from typing import List

import pytest

from patchcore_gui.core import PatchCoreError
from patchcore_gui.line import InspectionLine
from patchcore_gui.line import folder_lock
from patchcore_gui.line.folder_lock import SHARE_NOTE, ShareNote, locks_folder, only_line_on
from patchcore_gui.line.recording import StoreRecorder
from patchcore_gui.record import open_store

from .conftest import FAST

ROOT = Path(__file__).resolve().parents[2]


def test_a_second_line_on_the_folder_is_refused_until_the_first_stops(tmp_path):
    camera = tmp_path / "camera"
    camera.mkdir()
    (tmp_path / "link").symlink_to(camera)  # the same folder by another name
    locks = tmp_path / "locks"
    with only_line_on(camera, locks):
        with pytest.raises(PatchCoreError) as refused:
            with only_line_on(tmp_path / "link", locks):
                pass
        message = str(refused.value)
        assert message.startswith(f"another line already inspects {tmp_path / 'link'} (process {os.getpid()} on ")
        assert message.endswith("): stop it first (two lines would inspect, record and sort every part twice)")
        with only_line_on(tmp_path, locks):  # another folder: its own lock
            pass
    with only_line_on(tmp_path / "link", locks):  # free again
        pass
    assert stat.S_IMODE(locks.stat().st_mode) == 0o1777  # a service and the operator's window share it


def test_a_line_on_a_whole_tree_and_a_line_on_a_folder_in_it_are_not_run_together(tmp_path):
    camera = tmp_path / "camera"
    (camera / "2026-11-30" / "station").mkdir(parents=True)
    (camera / "other").mkdir()
    locks = tmp_path / "locks"
    with only_line_on(camera, locks, subfolders=True):
        for below in (camera / "2026-11-30", camera / "2026-11-30" / "station"):
            with pytest.raises(PatchCoreError) as refused:
                with only_line_on(below, locks):
                    pass
            assert str(refused.value).startswith(
                f"a line already inspects {camera} and its subfolders (process {os.getpid()} on ")
            assert f", {below} among them: stop it first" in str(refused.value)
        with only_line_on(tmp_path / "elsewhere", locks):  # beside the tree, not in it
            pass
    with only_line_on(camera / "2026-11-30", locks):  # the tree's line stopped
        with pytest.raises(PatchCoreError, match=f"another line already inspects {camera / '2026-11-30'}, a "
                                                 f"subfolder of {camera} \\(process {os.getpid()} on "):
            with only_line_on(camera, locks, subfolders=True):
                pass
        with only_line_on(camera, locks):  # the folder alone: the part below is not its
            pass
        with only_line_on(camera / "other", locks, subfolders=True):  # another tree
            pass
    with only_line_on(camera, locks, subfolders=True):  # the line below stopped: its stale note does not count
        pass


def test_the_lock_goes_with_a_killed_process(tmp_path):
    camera = tmp_path / "camera"
    camera.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from patchcore_gui.line.folder_lock import only_line_on
        with only_line_on(Path({str(camera)!r}), Path({str(tmp_path / 'locks')!r})):
            print("held", flush=True)
            time.sleep(600)
        """)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(PatchCoreError, match=f"\\(process {holder.pid} on "):
            with only_line_on(camera, tmp_path / "locks"):
                pass
    finally:
        holder.kill()
        holder.wait(30)
    with only_line_on(camera, tmp_path / "locks"):  # kill -9 leaves no stale lock
        pass


def test_an_inspection_line_takes_the_lock_of_its_folder(tmp_path, inspector):
    camera = tmp_path / "camera"
    camera.mkdir()
    with only_line_on(camera):  # in the shared folder, as another line's would be
        with pytest.raises(PatchCoreError, match=f"^another line already inspects {camera}"):
            InspectionLine(inspector, camera, settings=FAST).run()
    assert locks_folder().is_dir()
    (camera / "today").mkdir()
    tree = replace(FAST, arrival=replace(FAST.arrival, subfolders=True))
    with only_line_on(camera / "today"):  # a line on a folder that the tree's line would inspect too
        with pytest.raises(PatchCoreError, match=f"^another line already inspects {camera / 'today'}, a subfolder"):
            InspectionLine(inspector, camera, settings=tree).claim_folder()


# --- lines on other PCs that reach the same camera folder (a network share) ---

def other_pcs_note(camera: Path, beat_every: float = 0.1, subfolders: bool = False) -> ShareNote:
    """The note another PC's line keeps (its own name and network card)."""
    note = ShareNote(camera, beat_every=beat_every, subfolders=subfolders)
    note.identity.update(pc="line-pc-2", machine="line-pc-2/0242ac110002", process=4321)
    return note


def never_sleeps(seconds: float) -> None:
    raise AssertionError("waited for a note that needs no watching")


def test_a_line_on_another_pc_whose_note_changes_is_refused_and_one_that_stopped_is_not(tmp_path):
    camera = tmp_path / "camera"
    camera.mkdir()
    with other_pcs_note(camera):
        waits: List[str] = []
        with pytest.raises(PatchCoreError) as refused:
            ShareNote(camera, still_for=2.0).claim(waits.append)
        assert str(refused.value) == (
            f"a line on another PC already inspects {camera} (process 4321 on line-pc-2, since "
            f"{json.loads((camera / SHARE_NOTE).read_text())['since']}): stop it first (two lines would inspect, "
            "record and sort every part twice)")
        assert waits[0].startswith(f"{camera} holds the note of a line (process 4321 on line-pc-2, ")
    assert not (camera / SHARE_NOTE).exists()  # a line that stops takes its note away
    with ShareNote(camera, beat_every=0.1) as mine:
        assert mine.took_over_from is None
        first = json.loads((camera / SHARE_NOTE).read_text())
        time.sleep(0.5)
        assert json.loads((camera / SHARE_NOTE).read_text())["beat"] > first["beat"]  # it beats while held
        assert first["line"] == mine.identity["line"]


def claim_and_release(note: ShareNote) -> None:
    note.claim(sleep=never_sleeps)
    assert note.took_over_from is None
    note.release()


def test_a_line_on_another_pc_on_the_tree_above_or_a_folder_below_is_refused_while_its_note_beats(tmp_path):
    camera = tmp_path / "camera"
    day = camera / "2026-11-30"
    day.mkdir(parents=True)
    refusal = "stop it first (two lines would inspect, record and sort every part twice)"
    with other_pcs_note(camera, subfolders=True):
        waits: List[str] = []
        with pytest.raises(PatchCoreError) as refused:
            ShareNote(day, still_for=2.0).claim(waits.append)
        assert str(refused.value).startswith(f"a line on another PC already inspects {camera} and its subfolders "
                                             "(process 4321 on line-pc-2, since ")
        assert str(refused.value).endswith(f"), {day} among them: {refusal}")
        assert waits == [f"{camera} holds the note of a line ({refused.value.args[0].split('(')[1].split(')')[0]}"
                         " and its subfolders): watching for up to 2 s whether that line still runs"]
        beside = tmp_path / "beside"
        beside.mkdir()
        claim_and_release(ShareNote(beside))  # a folder beside the tree is none of its parts: no wait
    with other_pcs_note(day):
        with pytest.raises(PatchCoreError) as refused:
            ShareNote(camera, still_for=2.0, subfolders=True).claim()
        assert str(refused.value).startswith(f"a line on another PC already inspects {day}, a subfolder of {camera} "
                                             "(process 4321 on line-pc-2, since ")
        assert str(refused.value).endswith(f"): {refusal}")
        claim_and_release(ShareNote(camera))  # a line on the folder alone: the day's parts are not its own
    other_pcs_note(camera, subfolders=True)._write()  # a tree's line that ended without taking its note away
    slept: List[float] = []
    below = ShareNote(day, beat_every=0.1, still_for=3.0)
    below.claim(sleep=slept.append)
    try:
        assert sum(slept) >= 3.0 and below.took_over_from is None  # watched, then not counted; the tree's note stays
        assert json.loads((camera / SHARE_NOTE).read_text())["pc"] == "line-pc-2"
    finally:
        below.release()


def test_of_two_lines_started_together_the_one_written_over_learns_it_within_a_second(tmp_path):
    camera = tmp_path / "camera"
    camera.mkdir()
    with ShareNote(camera) as mine:  # the usual 5 s beat
        other_pcs_note(camera)._write()  # the other PC's line wrote its note just after this one
        started = time.monotonic()
        while mine.taken_over_by is None and time.monotonic() - started < 5:
            time.sleep(0.05)
        assert mine.taken_over_by is not None and time.monotonic() - started < 2.0
        assert mine.taken_over_by.startswith("process 4321 on line-pc-2, since ")
    assert json.loads((camera / SHARE_NOTE).read_text())["pc"] == "line-pc-2"  # that line's note is left


def test_of_a_tree_s_line_and_a_line_inside_it_started_together_on_two_pcs_the_line_inside_stops(tmp_path):
    camera = tmp_path / "camera"
    day = camera / "2026-11-30"
    day.mkdir(parents=True)
    with ShareNote(day) as inside:  # the usual 5 s beat; it found no tree's note, the tree's line none below it
        other_pcs_note(camera, subfolders=True)._write()
        started = time.monotonic()
        while inside.taken_over_by is None and time.monotonic() - started < 5:
            time.sleep(0.05)
        assert inside.taken_over_by is not None and time.monotonic() - started < 2.0
        assert inside.taken_over_by.startswith("process 4321 on line-pc-2, since ")
        assert inside.taken_over_by.endswith(f", inspecting {camera} and its subfolders")
    # a tree's note that stays as it was (its line ended), or a line on the folder above alone, is no such line
    for subfolders in (True, False):
        other_pcs_note(camera, subfolders=subfolders)._write()
        with ShareNote(day, beat_every=0.1, still_for=0.3) as below:
            if not subfolders:
                other_pcs_note(camera)._write()  # beating
            time.sleep(0.6)
            assert below.taken_over_by is None


def test_a_note_that_stays_unchanged_is_a_line_that_ended_and_is_taken_over(tmp_path):
    camera = tmp_path / "camera"
    camera.mkdir()
    left = other_pcs_note(camera)
    left._write()  # written, then the PC lost power: it never beats again
    slept: List[float] = []
    mine = ShareNote(camera, beat_every=0.1, still_for=3.0)
    mine.claim(sleep=slept.append)
    try:
        assert sum(slept) >= 3.0  # watched for the whole time before it was taken over
        assert mine.took_over_from.startswith("process 4321 on line-pc-2, since ")
        assert mine.took_over_from.endswith("; its note had not changed for 3 s")
        assert json.loads((camera / SHARE_NOTE).read_text())["line"] == mine.identity["line"]
    finally:
        mine.release()


def test_a_note_of_a_line_of_this_pc_whose_process_ended_is_taken_over_at_once(tmp_path):
    camera = tmp_path / "camera"
    camera.mkdir()
    ended = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import os
        from pathlib import Path
        from patchcore_gui.line.folder_lock import ShareNote
        note = ShareNote(Path({str(camera)!r}))
        note.claim()
        os._exit(0)  # as kill -9 would: the note stays behind
        """)], cwd=ROOT, timeout=60)
    assert ended.returncode == 0 and (camera / SHARE_NOTE).exists()
    mine = ShareNote(camera)
    mine.claim(sleep=never_sleeps)
    mine.release()
    assert "; that process no longer runs" in mine.took_over_from


def test_a_note_of_a_line_of_this_pc_that_still_runs_is_refused_at_once(tmp_path):
    camera = tmp_path / "camera"
    camera.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from pathlib import Path
        from patchcore_gui.line.folder_lock import ShareNote
        with ShareNote(Path({str(camera)!r})):
            print("held", flush=True)
            time.sleep(600)
        """)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(PatchCoreError, match=f"^another line already inspects {camera} \\(process {holder.pid} on "):
            ShareNote(camera).claim(sleep=never_sleeps)
    finally:
        holder.kill()
        holder.wait(30)


def test_a_camera_folder_this_line_may_not_write_in_is_inspected_without_a_note(tmp_path, monkeypatch):
    camera = tmp_path / "camera"
    camera.mkdir()

    def refused(path, text, make_folder=True):
        raise PatchCoreError(f"cannot write '{path}': Permission denied")

    monkeypatch.setattr(folder_lock, "atomic_write_text", refused)
    with ShareNote(camera, beat_every=0.05):
        time.sleep(0.2)
    assert list(camera.iterdir()) == []


def test_a_camera_folder_that_goes_away_is_not_made_again_by_the_note(tmp_path):
    """A share lost must stay gone to the line, not come back as an empty folder at its mount point."""
    camera = tmp_path / "camera"
    camera.mkdir()
    with ShareNote(camera, beat_every=0.05):
        shutil.rmtree(camera)
        time.sleep(0.5)
        assert not camera.exists()


def test_a_line_hears_who_it_took_over_from_and_stops_when_another_takes_its_folder(tmp_path, inspector,
                                                                                   monkeypatch, run_line):
    camera = tmp_path / "camera"
    camera.mkdir()
    monkeypatch.setattr(folder_lock, "BEAT_EVERY", 0.1)
    monkeypatch.setattr(folder_lock, "STILL_FOR", 0.6)
    other_pcs_note(camera)._write()  # a line on another PC that has ended
    model_path = tmp_path / "m.patchcore"
    model_path.write_bytes(b"the model's file")
    recorder = StoreRecorder.open(str(tmp_path / "line.sqlite"), "line3", model_path, inspector.model.threshold)
    running = run_line(InspectionLine(inspector, camera, recorder, settings=FAST))
    running.wait_until(lambda: any(n.startswith("took the camera folder over") for n in running.notices))
    assert ("took the camera folder over from a line that has ended (process 4321 on line-pc-2, since "
            in running.notices[-1]) and running.notices[-1].endswith("; its note had not changed for 1 s)")
    # another PC's line that started at the same moment, or took this one for ended while the share stalled:
    # the line whose note the folder holds inspects it, this one stops
    taker = other_pcs_note(camera)
    taker._write()
    running.thread.join(timeout=30)
    assert not running.thread.is_alive()
    assert running.notices[-1].startswith("another line took this camera folder over (process 4321 on line-pc-2, ")
    assert running.notices[-1].endswith("): this line stops after the parts in hand (two lines would inspect, "
                                        "record and sort every part twice)")
    assert isinstance(running.error, PatchCoreError) and str(running.error).startswith(
        f"another line took the camera folder {camera} over (process 4321 on line-pc-2, ")
    assert json.loads((camera / SHARE_NOTE).read_text())["line"] == taker.identity["line"]  # left to that line
    recorder.close()
    with open_store(tmp_path / "line.sqlite", "reader") as store:  # quality sees why, weeks later
        trail = [(change.kind, change.detail.split(" (process")[0].split(": process")[0])
                 for change in store.model_changes() if change.kind != "line started"]
    assert trail == [("camera folder taken over", f"{camera}, from a line that has ended"),
                     ("camera folder taken by another line", f"{camera}")]
