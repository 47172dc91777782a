"""One line per camera folder: a second line on it is refused in one line, through any path to the folder."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from patchcore_gui.core import PatchCoreError
from patchcore_gui.line import InspectionLine
from patchcore_gui.line.folder_lock import locks_folder, only_line_on

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
