"""The workers on real QThreads: results come back through signals, cancel stops them, errors are messages."""

from __future__ import annotations

import weakref
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QObject

from patchcore_gui.core.config import PatchCoreConfig
from patchcore_gui.core.images import read_image
from patchcore_gui.core.patchcore import Inspector
from patchcore_gui.gui.results_model import THUMB_SIDE, InspectedImage, decode_thumbnail
from patchcore_gui.core.engine import Engine
from patchcore_gui.core.fingerprint import file_fingerprint
from patchcore_gui.core.patchcore import FitResult
from patchcore_gui.gui.workers import BuildWorker, ExportWorker, InspectWorker, Worker, start_worker

from .conftest import JOB_TIMEOUT_MS, SignalLog

SMALL = PatchCoreConfig(coreset_ratio=0.05)


@pytest.fixture
def owner(qtbot):
    """A QObject to parent the threads; waits for every thread before it goes."""
    parent = QObject()
    threads = []
    yield lambda worker: threads.append(start_worker(worker, parent))
    for thread in threads:
        thread.quit()
        thread.wait(10_000)


def test_build_worker_returns_a_model_and_a_ready_inspector(qtbot, owner, synthetic_set, backbone):
    engine = Engine(backbone)
    worker = BuildWorker(engine, synthetic_set.train_good[:6], SMALL, "good")
    progress = SignalLog()
    worker.progress.connect(progress.record)
    with qtbot.waitSignal(worker.finished, timeout=JOB_TIMEOUT_MS) as blocker:
        owner(worker)
    outcome = blocker.args[0]
    assert isinstance(outcome, FitResult)
    assert outcome.model.n_good_images == 6 and outcome.model.good_folder == "good"
    assert engine.backbone is backbone  # the loaded network is reused, not loaded again
    inspector = engine.inspector_for(outcome.model)
    assert inspector.backbone is backbone and engine.inspector_for(outcome.model.with_threshold(1.0)) is inspector
    assert {"features", "coreset", "calibration"} <= {stage for _, _, stage in progress.calls}


def test_cancel_right_after_start_ends_with_cancelled(qtbot, owner, synthetic_set, backbone):
    worker = BuildWorker(Engine(backbone), synthetic_set.train_good, SMALL)
    finished = []
    worker.finished.connect(finished.append)
    with qtbot.waitSignal(worker.cancelled, timeout=10_000):
        owner(worker)
        worker.cancel()
    assert finished == []


def test_empty_list_of_good_images_is_a_message(qtbot, owner, backbone):
    worker = BuildWorker(Engine(backbone), [], SMALL)
    with qtbot.waitSignal(worker.failed, timeout=10_000) as blocker:
        owner(worker)
    assert "at least 2 good images" in blocker.args[0]


def test_inspect_worker_streams_one_result_per_file(qtbot, owner, fitted, synthetic_set, backbone, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    paths = synthetic_set.test_good[:2] + [broken] + synthetic_set.test_defective[:1]
    worker = InspectWorker(Engine(backbone), fitted.model, paths)
    received = []
    worker.inspected.connect(received.append)
    with qtbot.waitSignal(worker.finished, timeout=JOB_TIMEOUT_MS) as blocker:
        owner(worker)
    assert blocker.args[0] == len(paths)
    assert [item.path for item in received] == paths  # in input order, the broken file included
    assert received[2].score is None and "broken.png" in received[2].error
    good = received[0]
    assert decode_thumbnail(good.thumbnail).shape[:2] == (THUMB_SIDE, THUMB_SIDE)
    assert good.patch_scores.shape == fitted.model.feature_grid and good.patch_scores.dtype == np.float32
    assert received[3].score > good.score  # the defective part scores higher
    assert good.fingerprint == file_fingerprint(paths[0])  # of the content its score came from


def test_export_worker_writes_overlays(qtbot, owner, fitted, synthetic_set, backbone, tmp_path):
    inspector = Inspector(fitted.model, backbone=backbone)
    items = [InspectedImage.from_inspection(r.path, read_image(r.path), r.inspection)
             for r in inspector.inspect_paths(synthetic_set.test_defective[:2])]
    items.append(InspectedImage.failure(Path("missing.png"), "cannot read 'missing.png'"))
    worker = ExportWorker(fitted.model, items, tmp_path / "overlays")
    with qtbot.waitSignal(worker.finished, timeout=JOB_TIMEOUT_MS) as blocker:
        owner(worker)
    written, problems = blocker.args[0]
    assert problems == [] and len(written) == 2  # the unreadable row has no overlay to write
    assert all(path.stat().st_size > 1000 and path.name.endswith("_overlay.png") for path in written)


class _Answer(Worker):
    def work(self) -> int:
        return 42


def test_a_worker_stays_in_its_thread_and_is_let_go_on_the_ui_thread_once_the_thread_has_finished(qtbot):
    # moving itself back to the UI thread deadlocked the window (moveToThread holds the GIL while it
    # waits for a Qt lock the UI thread can hold while it calls into Python): see Worker.run
    parent = QObject()
    worker = _Answer()
    with qtbot.waitSignal(worker.finished, timeout=JOB_TIMEOUT_MS) as blocker:
        thread = start_worker(worker, parent)
    assert blocker.args == [42]
    assert worker.thread() == thread
    alive = weakref.ref(worker)
    del worker, blocker  # the caller's references go at once; the thread's stays until it has finished
    qtbot.waitUntil(thread.isFinished, timeout=JOB_TIMEOUT_MS)
    qtbot.waitUntil(lambda: alive() is None, timeout=JOB_TIMEOUT_MS)
