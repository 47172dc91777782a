"""The window's line mode at a fixed part rate: does the window stay responsive, and does it stay bounded?

The window (offscreen unless a display is set) opens the bottle model and runs a line on an empty
folder, as an operator does with "Run line"; once its inspection processes are ready, a separate
"camera" process (bench_line.py's) writes bottle test images into the folder at ``--rate`` parts per
second for ``--seconds``. Bottle's test set is three quarters defects, so most parts are NG and go into
the shift's NG list: the hardest case for the window (``--parts good`` writes its good parts only).
``--data`` (another category in the MVTec layout) with ``--model`` (a model of it) runs that category.

Measured in the window's own process:

- how late the UI thread's event loop runs a 10 ms timer (the lag a click or a repaint would wait):
  median, 95th and 99th percentile, largest;
- the process's resident memory (psutil) at the start, halfway and the end, and its growth per NG part
  listed over the second half (the first NG parts fill the bounded store of pictures to look back at);
- over the second half, the growth per 1,000 parts inspected of the window's process and of its line's
  worker processes together: a long run (``--seconds 1500``) is the shift-long soak, past the NG
  list's 2,000 parts, where anything kept per part would show;
- parts the line inspected by the end of writing and after draining.

    python benchmarks/bench_window_line.py --rate 25 --seconds 120
    python benchmarks/bench_window_line.py --data ../shared/data/magnetic_tile/magnetic_tile --model mt.patchcore --rate 20
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Dict

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import psutil  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_line import BOTTLE, line_model, start_camera  # noqa: E402
from patchcore_gui.core.memory import give_back_freed_memory  # noqa: E402
from patchcore_gui.gui.refcount_guard import _RESERVE, SINGLETONS  # noqa: E402

TICK_MS = 10
#: The window's memory is read this often, and with its workers' and the parts inspected this often.
SAMPLE_S, SOAK_S = 0.5, 10.0


class TickGaps:
    """The gaps between the UI thread's ticks as a histogram of 0.1 ms bins up to 5 s: its memory made once,
    whatever the run's length (a longer gap counts in the last bin; the longest is kept apart)."""

    BIN_MS, BINS = 0.1, 50_000

    def __init__(self) -> None:
        self.counts = np.zeros(self.BINS + 1, np.int64)
        self.count = 0
        self.longest = 0.0

    def add(self, gap_ms: float) -> None:
        self.counts[min(int(gap_ms / self.BIN_MS), self.BINS)] += 1
        self.count += 1
        self.longest = max(self.longest, gap_ms)

    def copy(self) -> "TickGaps":
        other = TickGaps()
        other.counts[:], other.count, other.longest = self.counts, self.count, self.longest
        return other

    def lag(self, percentile: float) -> float:
        """The ``percentile`` of the ticks' lateness past TICK_MS (ms, to the bin's middle)."""
        index = int(np.searchsorted(np.cumsum(self.counts), percentile / 100 * self.count))
        return (index + 0.5) * self.BIN_MS - TICK_MS


def run(model_path: Path, rate: float, seconds: float, drain_s: float, parts: str = "all",
        data: Path = BOTTLE, trace: int = 0, trim_every: float = 0.0) -> Dict[str, object]:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0]])
    from patchcore_gui.gui.main_window import MainWindow
    from patchcore_gui.gui.window_record import scratch_settings

    pattern = "test/good/*.png" if parts == "good" else "test/*/*.png"
    images = [path.read_bytes() for path in sorted(data.glob(pattern))]
    me = psutil.Process()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        window = MainWindow(settings=scratch_settings(work))
        window.use_message_boxes = False
        window.resize(1400, 900)
        window.show()
        if not window.open_model(model_path):
            raise SystemExit(f"cannot open {model_path}: {window.last_error}")
        folder = work / "camera"
        folder.mkdir()
        panel = window.line_mode.panel
        loop = QEventLoop()

        def pump(ms: int) -> None:
            QTimer.singleShot(ms, loop.quit)
            loop.exec()

        window.line_mode.run_line(folder)
        while panel.worker is None or panel.worker.line is None or not panel.worker.line.ready.is_set():
            pump(100)
        # What this bench measures is kept in arrays made before the window's memory is first read: a list that
        # grew by a float at every tick (100 a second) and every sample was itself most of the "window's growth"
        # reported up to the thirtieth session (docs/benchmarks.md, "A shift-long run of the window's line")
        gaps = TickGaps()
        samples = np.full((int((seconds + drain_s) / SAMPLE_S) + 10, 3), np.nan)  # s, window rss, NG listed
        taken = 0
        soak = np.full((int((seconds + drain_s) / SOAK_S) + 10, 5), np.nan)  # s, parts, window, workers, files
        soaked = 0
        rss_start = me.memory_info().rss
        references_start = _singleton_references()
        if trace:
            tracemalloc.start(trace)
        halfway_snapshot = None

        clock = QElapsedTimer()
        clock.start()
        last = [clock.nsecsElapsed()]

        def tick() -> None:
            now = clock.nsecsElapsed()
            gaps.add((now - last[0]) / 1e6)
            last[0] = now

        timer = QTimer()
        timer.setInterval(TICK_MS)
        timer.timeout.connect(tick)
        trimmer = QTimer()
        trimmer.setInterval(int(trim_every * 1000))
        trimmer.timeout.connect(give_back_freed_memory)

        writer, written, start_at = start_camera(folder, images, rate, seconds)
        last[0] = clock.nsecsElapsed()
        timer.start()
        if trim_every > 0:
            trimmer.start()
        log = None
        ends = start_at + seconds
        while time.time() < ends or log is None:
            pump(int(SAMPLE_S * 1000))
            at = time.time() - start_at
            samples[min(taken, len(samples) - 1)] = (at, me.memory_info().rss, panel.ng_model.total)
            taken += 1
            if trace and halfway_snapshot is None and at >= seconds / 2:
                halfway_snapshot = tracemalloc.take_snapshot()
            if taken % int(SOAK_S / SAMPLE_S) == 0:
                inspected = panel.last_snapshot.inspected if panel.last_snapshot else 0
                soak[min(soaked, len(soak) - 1)] = (at, inspected, samples[taken - 1, 1], _workers_rss(me, writer.pid),
                                                    _file_backed(me))
                soaked += 1
            if log is None and not written.empty():
                log = written.get()
        writer.join()
        gaps_writing = gaps.copy()
        inspected_at_end = panel.last_snapshot.inspected if panel.last_snapshot else 0
        deadline = time.time() + drain_s
        while (panel.last_snapshot is None or panel.last_snapshot.inspected < len(log)) and time.time() < deadline:
            pump(200)
        timer.stop()
        if halfway_snapshot is not None:
            _print_growth(halfway_snapshot, tracemalloc.take_snapshot())
            tracemalloc.stop()
        trimmer.stop()
        rss_end = me.memory_info().rss
        give_back_freed_memory()  # what of the end's memory is freed heap the C library kept
        rss_trimmed = me.memory_info().rss
        references_end = _singleton_references()
        listed = panel.ng_model.total  # the line's start emptied the list
        snapshot = panel.last_snapshot
        panel.stop()
        while panel.running:
            pump(100)
        window.close()
        app.processEvents()

    rss_samples = samples[:min(taken, len(samples))]
    soak = [tuple(row) for row in soak[:min(soaked, len(soak))]]
    # over the second half only: the first NG parts fill the bounded store of pictures to look back at
    late = [(count, rss) for at, rss, count in rss_samples if at >= seconds / 2]
    counts = np.array([c for c, _ in late], float)
    slope = (float(np.polyfit(counts, [r for _, r in late], 1)[0]) if len(set(counts)) > 3
             else float("nan"))  # too few NG parts listed to say
    halfway = min(rss_samples, key=lambda sample: abs(sample[0] - seconds / 2))[1]
    later = [sample for sample in soak if sample[0] >= seconds / 2]
    parts_later = np.array([sample[1] for sample in later], float)

    def per_thousand_parts(column: int) -> float:
        if len(set(parts_later.tolist())) < 4:
            return float("nan")  # too few parts in the second half to say
        return float(np.polyfit(parts_later, [sample[column] for sample in later], 1)[0]) * 1000 / 1024
    return {
        "rate": rate, "seconds": seconds, "parts": parts, "written": len(log),
        "inspected_by_end_of_writing": int(inspected_at_end),
        "inspected": int(snapshot.inspected if snapshot else 0), "ng": int(snapshot.ng if snapshot else 0),
        "ng_listed": int(listed),
        "ui_lag_median_ms": gaps_writing.lag(50), "ui_lag_p95_ms": gaps_writing.lag(95),
        "ui_lag_p99_ms": gaps_writing.lag(99), "ui_lag_max_ms": gaps_writing.longest - TICK_MS,
        "ticks": gaps_writing.count,
        "rss_start_mb": rss_start / 2**20, "rss_halfway_mb": halfway / 2**20, "rss_end_mb": rss_end / 2**20,
        "rss_end_after_trim_mb": rss_trimmed / 2**20, "trim_every_s": trim_every,
        "rss_kb_per_ng_listed_second_half": slope / 1024,
        "workers_rss_start_mb": soak[0][3] / 2**20 if soak else float("nan"),
        "workers_rss_end_mb": soak[-1][3] / 2**20 if soak else float("nan"),
        "window_rss_kb_per_1000_parts_second_half": per_thousand_parts(2),
        "workers_rss_kb_per_1000_parts_second_half": per_thousand_parts(3),
        # mapped files (SQLite's shared index, fonts, libraries) apart from the heap
        "window_file_backed_kb_per_1000_parts_second_half": per_thousand_parts(4),
        "every_10_s": [[round(at), int(parts), round(window / 2**20, 1), round(workers / 2**20, 1),
                        round(files / 2**20, 1)]
                       for at, parts, window, workers, files in soak],  # s, parts, window, workers, files MB
        # what PySide6 loses (gui/refcount_guard.py); "held" is the count the guard's reserve aside
        **{f"{name}_references_held_at_start": held for name, held in references_start.items()},
        **{f"{name}_references_lost_per_part": (references_start[name] - references_end[name]) / max(1, len(log))
           for name in references_start},
    }


def _workers_rss(process: psutil.Process, camera: int) -> int:
    """The resident memory of ``process``'s inspection worker processes together: its children but the
    camera and multiprocessing's resource tracker (a child that ends while asked counts nothing)."""
    total = 0
    for child in process.children(recursive=True):
        try:
            if child.pid != camera and "resource_tracker" not in " ".join(child.cmdline()):
                total += child.memory_info().rss
        except psutil.Error:
            pass
    return total


def _file_backed(process: psutil.Process) -> int:
    """The part of ``process``'s resident memory that maps files (Linux's RssFile + RssShmem; 0 elsewhere)."""
    return int(getattr(process.memory_info(), "shared", 0))


def _print_growth(before: "tracemalloc.Snapshot", after: "tracemalloc.Snapshot", top: int = 15) -> None:
    """Where the window's Python allocations grew over the second half, largest first."""
    print("Python allocations grown over the second half (tracemalloc):")
    for stat in after.compare_to(before, "traceback")[:top]:
        print(f"  {stat.size_diff / 1024:+10.1f} KB {stat.count_diff:+8d} blocks")
        for line in stat.traceback.format()[-2 * min(len(stat.traceback), 6):]:
            print(f"      {line}")


def _singleton_references() -> Dict[str, int]:
    # past the guard's reserve when it was given (gui/refcount_guard.py); a count lost below it stays negative
    return {repr(singleton): sys.getrefcount(singleton) - (_RESERVE if sys.getrefcount(singleton) > _RESERVE // 2
                                                           else 0) for singleton in SINGLETONS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--drain", type=float, default=120.0, help="seconds allowed to inspect the backlog after writing")
    parser.add_argument("--parts", choices=("all", "good"), default="all",
                        help="the whole test set (bottle's: three quarters NG) or its good parts only")
    parser.add_argument("--data", type=Path, default=BOTTLE, help="the category whose test images the camera writes")
    parser.add_argument("--model", type=Path, default=Path(tempfile.gettempdir()) / "bench_line_bottle.patchcore")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--trace", type=int, default=0, metavar="FRAMES",
                        help="trace the window's Python allocations (tracemalloc, this many frames) and print "
                             "where they grew over the second half")
    parser.add_argument("--trim-every", type=float, default=0.0, metavar="SECONDS",
                        help="give the window's freed heap back to the system this often (glibc's malloc_trim)")
    args = parser.parse_args()
    outcome = run(line_model(args.model, args.data), args.rate, args.seconds, args.drain, args.parts, args.data,
                  args.trace, args.trim_every)
    for key, value in outcome.items():
        if isinstance(value, list):
            continue  # in --json
        print(f"{key:30s} {value:.1f}" if isinstance(value, float) else f"{key:30s} {value}")
    if args.json:
        args.json.write_text(json.dumps(outcome, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
