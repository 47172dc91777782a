"""``patchcore-gui --self-test``: prove an installation (frozen or not) can do its job, offline.

It loads the bundled default backbone, builds a tiny memory bank from synthetic good parts,
inspects a good and a defective part, and checks the defective one scores higher and is found
where the defect is, and that the line's worker processes start and inspect. On Linux it then checks the system libraries of the window's X11 platform
(:mod:`.gui.desktop_libraries`); missing ones fail it when a display is present. IT runs it after installing on a line PC; the packaging script runs it on
the built program. Exit 0 when every check passed, 1 (with what failed) otherwise.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, List, TextIO, Tuple

import numpy as np


def _checks(workdir: Path) -> List[Tuple[str, Callable[[], str]]]:
    """The steps in order; each returns a short fact for the log or raises with what is wrong."""
    from .core.backbones import DEFAULT_BACKBONE, load_backbone
    from .core.config import PatchCoreConfig
    from .core.model_file import load_model, save_model
    from .core.patchcore import Inspector, fit
    from .core.synthetic import add_defect, good_part, write_synthetic_set

    state: dict = {}

    def backbone() -> str:
        state["backbone"] = load_backbone(DEFAULT_BACKBONE)
        return f"{DEFAULT_BACKBONE} from {state['backbone'].weights_path} (sha256 {state['backbone'].weights_sha256[:12]})"

    def build() -> str:
        data = write_synthetic_set(workdir / "parts", n_train=8, n_test_good=0, n_test_defective=0, size=128)
        result = fit(data.train_good, PatchCoreConfig(coreset_ratio=0.25), backbone=state["backbone"])
        if result.skipped:
            raise RuntimeError(f"good images were skipped: {result.skipped[0]}")
        state["model"] = result.model
        return f"bank of {len(result.model.memory_bank)} patches, threshold {result.model.threshold:.3f}"

    def save_and_reload() -> str:
        path = save_model(state["model"], workdir / "selftest.patchcore")
        state["model"] = load_model(path)
        return f"{path.stat().st_size / 1e6:.1f} MB model file"

    def inspect() -> str:
        rng = np.random.default_rng(123)
        inspector = Inspector(state["model"], backbone=state["backbone"])
        good = inspector.inspect(good_part(rng, 128))
        defective_image, mask = add_defect(good_part(rng, 128), "stain", rng)
        defective = inspector.inspect(defective_image)
        if not defective.score > good.score:
            raise RuntimeError(f"defective part scored {defective.score:.3f}, not above the good part's {good.score:.3f}")
        if defective.anomaly_map.shape != mask.shape:
            raise RuntimeError(f"anomaly map is {defective.anomaly_map.shape}, the image {mask.shape}")
        peak = np.unravel_index(int(np.argmax(defective.anomaly_map)), mask.shape)
        ys, xs = np.nonzero(mask)
        if np.hypot(peak[0] - ys.mean(), peak[1] - xs.mean()) > 24:
            raise RuntimeError(f"anomaly map peaks at {peak}, far from the defect at ({ys.mean():.0f}, {xs.mean():.0f})")
        return f"good {good.score:.3f}, defective {defective.score:.3f} (threshold {state['model'].threshold:.3f})"

    def record() -> str:
        # SQLAlchemy finds its database drivers by name at run time: a frozen build must carry both
        import importlib

        from .record import InspectionRecord, open_store
        from .record.recorder import model_file_identity
        importlib.import_module("sqlalchemy.dialects.postgresql.psycopg")
        importlib.import_module("psycopg")
        sha256, name = model_file_identity(workdir / "selftest.patchcore")
        with open_store(workdir / "selftest.sqlite", "self-test") as store:
            store.add(InspectionRecord(datetime.now(timezone.utc), "part.png", 1, "0" * 64, sha256, name,
                                       state["model"].threshold, 0.5, "OK", None, 1.0))
            if store.summary().total.count != 1:
                raise RuntimeError("the inspection store did not give back the part it recorded")
        return "SQLite store written and read; PostgreSQL driver present"

    def side_by_side() -> str:
        # a line inspects in worker processes: a frozen program must be able to start itself as one
        from .core.synthetic import write_png
        from .line.inspection_processes import InspectionProcesses

        part = workdir / "part.png"
        write_png(part, good_part(np.random.default_rng(5), 128))
        started = time.perf_counter()
        with InspectionProcesses(state["model"], 2, state["backbone"].weights_path) as workers:
            results = workers.inspect_paths([part])
        if results[0].inspection is None:
            raise RuntimeError(f"a worker process did not inspect: {results[0].error}")
        return f"2 worker processes started and inspected a part in {time.perf_counter() - started:.1f} s"

    return [("load the default backbone", backbone), ("build a memory bank", build),
            ("save and reload the model", save_and_reload), ("inspect a good and a defective part", inspect),
            ("inspect in the line's worker processes", side_by_side),
            ("record a part in an inspection store", record)]


def run_self_test(stream: TextIO = sys.stdout) -> int:
    """Run every check, print one line each, and return the process exit code."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="patchcore-selftest-") as folder:
        try:
            checks = _checks(Path(folder))
        except Exception as exc:  # an import failing in a frozen build is exactly what this must report
            print(f"FAIL importing the engine: {type(exc).__name__}: {exc}", file=stream)
            return 1
        for name, check in checks:
            try:
                fact = check()
            except Exception as exc:  # report any failure as one line: this is a diagnostic
                print(f"FAIL {name}: {type(exc).__name__}: {exc}", file=stream)
                return 1
            print(f"ok   {name}: {fact}", file=stream)
    from .gui.desktop_libraries import window_libraries_report

    window = window_libraries_report()
    if window is not None:
        passed, line = window
        print(line, file=stream)
        if not passed:
            return 1
    print(f"self-test passed in {time.perf_counter() - started:.1f} s", file=stream)
    return 0
