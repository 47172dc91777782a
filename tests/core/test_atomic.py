"""Faults while saving, for real: a child process killed mid-write, a write over a file-size limit.

The limit (RLIMIT_FSIZE, with SIGXFSZ ignored) makes ``write`` fail with EFBIG the way a full disk
fails with ENOSPC; both are OSErrors at the same place in :func:`atomic_write_bytes`.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from patchcore_gui.core.atomic import atomic_write_bytes
from patchcore_gui.core.errors import FileWriteError, PatchCoreError
from patchcore_gui.core.model_file import load_model, model_to_bytes, save_model
from patchcore_gui.core.results import ResultRow, results_csv_text, write_results_csv

posix_only = pytest.mark.skipif(os.name != "posix", reason="signals and resource limits are POSIX")
ROOT = Path(__file__).resolve().parents[2]


def child(script: str, *args: str) -> subprocess.Popen:
    """Run ``script`` in a fresh interpreter with ``sys.argv[1:] == args``."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def leftovers(folder: Path, name: str) -> list:
    return sorted(p.name for p in folder.iterdir() if p.name != name)


LIMITED_WRITE = """
    import resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death, as a full disk gives ENOSPC
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[3]), resource.RLIM_INFINITY))
    from patchcore_gui.core.errors import PatchCoreError
    try:
        {write}
    except PatchCoreError as error:
        print(error)
        sys.exit(1)
"""


@posix_only
def test_model_save_over_a_file_size_limit_keeps_the_previous_model(fitted, tmp_path):
    target = save_model(fitted.model, tmp_path / "line3.patchcore")
    before = target.read_bytes()
    script = LIMITED_WRITE.format(write="""from patchcore_gui.core.model_file import load_model, save_model
        save_model(load_model(sys.argv[1]).with_threshold(7.0), sys.argv[2])""")
    process = child(script, str(target), str(target), str(len(before) // 2))
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    assert out.strip() == f"cannot write '{target}': File too large (the previous file, if any, is unchanged)"
    assert target.read_bytes() == before and load_model(target).threshold == fitted.model.threshold
    assert leftovers(tmp_path, target.name) == []  # the half temporary is removed


@posix_only
def test_csv_write_over_a_file_size_limit_keeps_the_previous_csv(tmp_path):
    target = write_results_csv(tmp_path / "results.csv", [ResultRow("a.png", 0.5, 1.0)])
    before = target.read_text()
    script = LIMITED_WRITE.format(write="""from patchcore_gui.core.results import ResultRow, write_results_csv
        write_results_csv(sys.argv[2], [ResultRow(f"part_{i}.png", i / 7, 1.0) for i in range(20000)])""")
    process = child(script, "", str(target), "4096")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    assert "cannot write" in out and "results.csv" in out and "File too large" in out
    assert target.read_text() == before and leftovers(tmp_path, target.name) == []


KILLED_BEFORE_RENAME = """
    import os, sys, time
    from patchcore_gui.core import atomic
    real_fsync = os.fsync

    def fsync_then_hang(descriptor):
        real_fsync(descriptor)
        print("written", flush=True)  # every byte is in the temporary file, the rename is next
        time.sleep(60)

    atomic.os.fsync = fsync_then_hang
    atomic.atomic_write_bytes(sys.argv[1], open(sys.argv[2], "rb").read())
"""


@posix_only
def test_killed_after_writing_before_renaming_keeps_the_previous_model(fitted, tmp_path):
    target = save_model(fitted.model, tmp_path / "line3.patchcore")
    before = target.read_bytes()
    new = tmp_path.parent / f"{tmp_path.name}-new.bin"
    new.write_bytes(model_to_bytes(fitted.model.with_threshold(7.0)))
    process = child(KILLED_BEFORE_RENAME, str(target), str(new))
    assert process.stdout.readline().strip() == "written"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    assert target.read_bytes() == before and load_model(target).threshold == fitted.model.threshold
    # the killed writer's hidden temporary holds the whole new model and never replaced the old one
    (temporary,) = leftovers(tmp_path, target.name)
    assert temporary.startswith(".line3.patchcore.") and temporary.endswith(".tmp")
    assert (tmp_path / temporary).read_bytes() == new.read_bytes()


SAVING_IN_A_LOOP = """
    import sys
    from patchcore_gui.core.atomic import atomic_write_bytes
    versions = [open(path, "rb").read() for path in sys.argv[2:]]
    print("started", flush=True)
    for turn in range(1_000_000):
        atomic_write_bytes(sys.argv[1], versions[turn % len(versions)])
"""


@posix_only
def test_killed_at_random_moments_while_saving_leaves_a_whole_model(fitted, tmp_path):
    """SIGKILL lands wherever the writer is (writing, syncing, renaming): the file is always one whole version."""
    versions = {}
    for threshold in (3.0, 5.0):
        source = tmp_path.parent / f"{tmp_path.name}-{threshold}.bin"
        source.write_bytes(model_to_bytes(fitted.model.with_threshold(threshold)))
        versions[threshold] = source
    target = tmp_path / "line3.patchcore"
    target.write_bytes(versions[3.0].read_bytes())
    for delay in (0.05, 0.13, 0.31):
        process = child(SAVING_IN_A_LOOP, str(target), *map(str, versions.values()))
        assert process.stdout.readline().strip() == "started"
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert load_model(target).threshold in versions  # never a mixture, never truncated
        assert len(leftovers(tmp_path, target.name)) <= 1  # at most the killed writer's temporary
        for name in leftovers(tmp_path, target.name):
            (tmp_path / name).unlink()


def test_a_failed_write_is_one_line_naming_the_file_and_still_an_os_error(tmp_path):
    (tmp_path / "taken").write_text("a file where a folder should be")
    with pytest.raises(FileWriteError) as raised:
        atomic_write_bytes(tmp_path / "taken" / "results.csv", b"x")
    message = str(raised.value)
    assert message == (f"cannot write '{tmp_path / 'taken' / 'results.csv'}': '{tmp_path / 'taken'}' is not a folder "
                       "(the previous file, if any, is unchanged)")
    assert isinstance(raised.value, OSError) and isinstance(raised.value, PatchCoreError)
    target = tmp_path / "kept.csv"
    target.write_text("old")
    with pytest.raises(FileWriteError):  # a folder in the target's place cannot be replaced by a file
        atomic_write_bytes(tmp_path, results_csv_text([]).encode())
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["kept.csv", "taken"]


@pytest.fixture(params=[0o022, 0o027], ids=["umask022", "umask027"])
def umask(request):
    """Run the test under a umask a site really uses; the process's own umask comes back after."""
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@posix_only
def test_new_files_get_the_mode_a_plain_write_gives(umask, fitted, tmp_path):
    from patchcore_gui.core.overlay import encode_png

    model = save_model(fitted.model, tmp_path / "line3.patchcore")
    table = write_results_csv(tmp_path / "results.csv", [ResultRow("a.png", 0.5, 1.0)])
    overlay = atomic_write_bytes(tmp_path / "overlays" / "a_overlay.png", encode_png(np.zeros((4, 4, 3), np.uint8)))
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    expected = 0o666 & ~umask
    assert mode_of(plain) == expected  # what the system gives a plain write: 0644 or 0640
    assert {name.name: mode_of(name) for name in (model, table, overlay)} == {
        "line3.patchcore": expected, "results.csv": expected, "a_overlay.png": expected}


@posix_only
def test_a_replaced_file_keeps_its_mode(umask, tmp_path):
    shared, private = tmp_path / "shared.patchcore", tmp_path / "private.csv"
    for path, mode in ((shared, 0o664), (private, 0o600)):
        path.write_bytes(b"old")
        path.chmod(mode)
        atomic_write_bytes(path, b"new")
        assert path.read_bytes() == b"new" and mode_of(path) == mode


@posix_only
def test_the_umask_is_read_without_proc_too(umask, monkeypatch, tmp_path):
    from patchcore_gui.core import atomic

    assert atomic.current_umask() == umask
    monkeypatch.setattr(atomic, "_PROC_STATUS", str(tmp_path / "no-proc"))
    assert atomic.current_umask() == umask
    assert os.umask(umask) == umask  # and it is left as it was
