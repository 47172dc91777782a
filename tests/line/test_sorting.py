"""Sorting images: a clash gets a new name, a move removes the original only after the copy is durable."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest

from patchcore_gui.core import FileWriteError
from patchcore_gui.line.sorting import PartSorter, free_name, place_copy

WHEN = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def test_a_name_clash_gets_a_new_name_and_the_same_bytes_are_not_copied_twice(tmp_path):
    folder = tmp_path / "NG"
    source = tmp_path / "p.png"
    source.write_bytes(b"part one")
    assert place_copy(source, folder) == folder / "p.png"
    assert place_copy(source, folder) == folder / "p.png"  # a copy made before a restart is the copy
    source.write_bytes(b"another part, same name")
    assert place_copy(source, folder) == folder / "p_2.png"
    assert (folder / "p.png").read_bytes() == b"part one"
    assert sorted(os.listdir(folder)) == ["p.png", "p_2.png"]  # no temporary left behind
    assert free_name(folder, "p.png") == folder / "p_3.png"


def test_move_into_a_dated_verdict_folder(tmp_path):
    source = tmp_path / "p.png"
    source.write_bytes(b"bytes")
    target = PartSorter(tmp_path / "sorted", move=True).sort(source, "OK", WHEN)
    day = WHEN.astimezone().strftime("%Y-%m-%d")
    assert target == tmp_path / "sorted" / day / "OK" / "p.png"
    assert target.read_bytes() == b"bytes" and not source.exists()
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)


def test_a_move_that_cannot_copy_leaves_the_image(tmp_path):
    source = tmp_path / "p.png"
    source.write_bytes(b"bytes")
    (tmp_path / "sorted").write_text("a file where the folder should be")
    with pytest.raises(FileWriteError):
        PartSorter(tmp_path / "sorted", move=True).sort(source, "NG", WHEN)
    assert source.read_bytes() == b"bytes"
