"""A real ``patchcore watch`` killed with SIGKILL mid-stream and started again: every part recorded once."""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Dict, List

from .conftest import drop
from .test_watch_command import model_file, start_watch, wait_until_watching  # noqa: F401  (fixture)

PARTS = 36


def recorded(store: Path) -> List[tuple]:
    if not store.exists():
        return []
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=10) as connection:
        return connection.execute("SELECT image_path, sha256, verdict FROM inspections").fetchall()


def wait_for_records(store: Path, count: int, timeout: float = 180) -> List[tuple]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = recorded(store)
        if len(rows) >= count:
            return rows
        time.sleep(0.2)
    raise AssertionError(f"{len(recorded(store))} of {count} recorded")


def test_sigkill_mid_stream_then_restart_records_every_part_exactly_once(model_file, synthetic_set, tmp_path):
    folder, store, sorted_root = tmp_path / "camera", tmp_path / "record.sqlite", tmp_path / "sorted"
    folder.mkdir()
    sources = synthetic_set.test_good + synthetic_set.test_defective
    content: Dict[str, str] = {}

    def camera(first: int, last: int, pause: float) -> None:
        for index in range(first, last):
            name = f"part{index:03d}.png"
            content[str(folder.absolute() / name)] = hashlib.sha256(sources[index % len(sources)].read_bytes()).hexdigest()
            drop(sources[index % len(sources)], folder, name)
            time.sleep(pause)

    args = ("--log", str(store), "--sort-into", str(sorted_root), "--move")
    first = start_watch(model_file, folder, *args)
    try:
        wait_until_watching(first)
        writer = threading.Thread(target=camera, args=(0, PARTS, 0.15))
        writer.start()
        wait_for_records(store, 8)
        first.send_signal(signal.SIGKILL)  # mid-stream: parts in hand, in the queue and still arriving
        first.wait(timeout=30)
        killed_at = len(recorded(store))
        writer.join()  # the rest arrive while the line is down
    finally:
        first.kill()
    assert killed_at < PARTS
    second = start_watch(model_file, folder, *args)
    try:
        wait_until_watching(second)
        rows = wait_for_records(store, PARTS)
        time.sleep(1.0)  # a duplicate would come now, if any
        second.send_signal(signal.SIGTERM)
        out, err = second.communicate(timeout=180)
    finally:
        second.kill()
    assert second.returncode == 0, err
    rows = recorded(store)
    paths = [path for path, _, _ in rows]
    assert sorted(paths) == sorted(content) and len(paths) == len(set(paths)) == PARTS
    assert all(sha == content[path] and verdict in ("OK", "NG") for path, sha, verdict in rows)
    assert not list(folder.glob("*.png"))  # every image sorted, none lost
    assert len(list(sorted_root.glob("*/*/*.png"))) == PARTS
    # each record says where its image went; a kill between a move and its note leaves one without
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as connection:
        noted = connection.execute("SELECT sha256, verdict, sorted_path FROM inspections").fetchall()
    where = [(sha, verdict, Path(path)) for sha, verdict, path in noted if path is not None]
    assert len(where) >= PARTS - 1
    assert all(path.parent.name == verdict and hashlib.sha256(path.read_bytes()).hexdigest() == sha
               for sha, verdict, path in where)
