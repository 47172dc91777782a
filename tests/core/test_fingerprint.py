"""A file's fingerprint tells its content apart from any other written under the same name."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from patchcore_gui.core.errors import ImageReadError
from patchcore_gui.core.fingerprint import file_fingerprint, read_fingerprinted, stat_key


def _write(path: Path, value: int, mtime_ns: int) -> None:
    Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(path, "BMP")  # every one the same size
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_the_fingerprint_is_of_the_content_read(tmp_path: Path):
    part = tmp_path / "latest.bmp"
    _write(part, 10, 1_700_000_000 * 10**9)
    image, first = read_fingerprinted(part)
    assert image[0, 0, 0] == 10 and first == file_fingerprint(part) and first.stat_key == stat_key(part)
    _write(part, 200, first.mtime_ns)  # another part, same size and time: only the hash tells
    second = file_fingerprint(part)
    assert second.stat_key == first.stat_key and second != first
    _write(part, 200, first.mtime_ns + 1)
    assert file_fingerprint(part).stat_key != first.stat_key


def test_a_missing_file(tmp_path: Path):
    assert file_fingerprint(tmp_path / "gone.png") is None and stat_key(tmp_path / "gone.png") is None
    with pytest.raises(ImageReadError, match="gone.png"):
        read_fingerprinted(tmp_path / "gone.png")
