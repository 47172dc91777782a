"""Line mode at fixed part rates: test images written into a watched folder by a separate "camera" process.

For each rate the camera writes one test image (bottle's unless ``--data``; cycled, each under a new name) every 1/rate
seconds, as a camera does (open, write, close), for ``--seconds``. The line runs in this process as
``patchcore watch`` runs it: completeness rule, inspection, a record in an SQLite store, images
moved into sorted folders. Measured per part: delay from the camera closing the file to its record
being committed (median, 95th percentile); per rate: parts per second done, and whether the backlog
grew (slope of the backlog over the second half of the run, and the backlog at the end).

    python benchmarks/bench_line.py --rates 10 20 25 30 --seconds 60

The model is fitted on bottle's train/good with the default configuration (cached in ``--model``);
with ``--data`` (another category in the MVTec layout) ``--model`` must name a model of it:

    python benchmarks/bench_line.py --data ../shared/data/magnetic_tile/magnetic_tile --model mt.patchcore --rates 12 16

``--share SERVER_DIR MOUNTED_DIR`` has the camera write into SERVER_DIR while the line watches MOUNTED_DIR, the
same folder through a network mount (an SMB share, sshfs): another machine's writes, as the line PC sees them.
``--poll-every`` says how the line sees new files (``auto``: listed where the folder is on a network file system;
``0``: file events only; a number: listed that often); each rate runs with each:

    python benchmarks/bench_line.py --share /srv/cam /mnt/cam --poll-every 0 auto --rates 10 --seconds 30

``--take-up-at S`` hands the line a tuned model S seconds into the writing, as ``patchcore watch`` does
with a model file tuned while it runs: how long the line inspects nothing and what that does to the
delay of the parts arriving meanwhile. ``--take-up-kind judging`` moves the threshold (judged anew at
once); ``bank`` nudges one number of the memory bank, as teaching a part changes it (the workers load
the model again).
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from patchcore_gui.core import Inspector, PatchCoreConfig, find_images, fit, load_model, save_model  # noqa: E402
from patchcore_gui.line import (ArrivalSettings, InspectionLine, LineSettings, PartResult, PartSorter,  # noqa: E402
                                is_part_name)
from patchcore_gui.line.recording import StoreRecorder  # noqa: E402
from patchcore_gui.line.runner import default_inspectors  # noqa: E402
from patchcore_gui.line.signal_command import parse_signal_command  # noqa: E402
from timing import StageTimes  # noqa: E402

BOTTLE = ROOT.parent / "shared" / "data" / "mvtec_bottle_512" / "bottle"


def camera(folder: str, images: List[bytes], rate: float, seconds: float, ready: "multiprocessing.Event",
           start: "multiprocessing.Value", written: "multiprocessing.Queue[List[Tuple[str, float]]]") -> None:
    """Write ``rate`` parts per second on a fixed schedule from ``start``, given once this process is
    ready (a schedule fixed before a slow start-up would begin with a burst); hand back (name, wall
    time when closed) each."""
    log: List[Tuple[str, float]] = []
    count = int(rate * seconds)
    ready.set()
    while start.value == 0.0:
        time.sleep(0.001)
    start_at = start.value
    while time.time() < start_at:
        time.sleep(0.001)
    for index in range(count):
        due = start_at + index / rate
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        name = f"part_{index:06d}.png"
        with open(os.path.join(folder, name), "wb") as stream:
            stream.write(images[index % len(images)])
        log.append((name, time.time()))
    written.put(log)


CameraLog = "multiprocessing.Queue[List[Tuple[str, float]]]"


def start_camera(folder: Path, images: List[bytes], rate: float, seconds: float
                 ) -> Tuple["multiprocessing.process.BaseProcess", CameraLog, float]:
    """Start the camera process on ``folder``; returns it, the queue its log comes back on, and the wall
    time its schedule starts at (half a second from now, once the process is up)."""
    context = multiprocessing.get_context("spawn")
    written: CameraLog = context.Queue()
    ready, start = context.Event(), context.Value("d", 0.0)
    writer = context.Process(target=camera, args=(str(folder), images, rate, seconds, ready, start, written))
    writer.start()
    ready.wait()
    start.value = time.time() + 0.5
    return writer, written, start.value


def line_model(path: Path, data: Path = BOTTLE) -> Path:
    """The model at ``path``; for bottle, fitted with the defaults first if it is not there yet."""
    if path.exists():
        return path
    if data != BOTTLE:
        raise SystemExit(f"--model {path} not found: with --data, fit a model of that category first")
    good = find_images([BOTTLE / "train" / "good"])[0]
    save_model(fit(good, PatchCoreConfig()).model, path)
    return path


def inspector_capacity(inspector: Inspector, paths: List[Path]) -> Tuple[float, float]:
    """What the inspector alone does on this machine right now: (parts/s in batches, ms for one part alone)."""
    started = time.perf_counter()
    list(inspector.inspect_paths(paths))
    per_second = len(paths) / (time.perf_counter() - started)
    singles = []
    for path in paths[:5]:
        started = time.perf_counter()
        list(inspector.inspect_paths([path]))
        singles.append(1000 * (time.perf_counter() - started))
    return per_second, float(np.median(singles))


def measure_rate(inspector: Inspector, model_path: Path, rate: float, seconds: float, images: List[bytes],
                 work: Path, store: bool, inspectors: Optional[int] = None,
                 processes: bool = True, queued: int = LineSettings.queued_per_process,
                 take_up_at: Optional[float] = None, take_up_kind: str = "judging",
                 start_beside: bool = True, share: Optional[Tuple[Path, Path]] = None,
                 poll: Optional[float] = None, signal_command: Tuple[str, ...] = (),
                 signal_held_open: bool = False) -> Dict[str, object]:
    folder, sorted_root = work / "camera", work / "sorted"
    commits = StageTimes()
    folder.mkdir()
    written_into = folder
    if share is not None:  # the camera writes on the share's server, the line watches it through the mount
        written_into, folder = share
        for leftover in written_into.iterdir():
            if is_part_name(leftover):  # other files stay: a folder of many files lists slower
                leftover.unlink()
    recorder = None
    if store:
        recorder = StoreRecorder.open(str(work / "record.sqlite"), "bench", model_path, inspector.model.threshold)
        adding = recorder.add
        recorder.add = lambda result: commits("record", adding, result)
    line = InspectionLine(inspector, folder, recorder, PartSorter(sorted_root, move=True),
                          settings=LineSettings(arrival=ArrivalSettings(poll=poll), inspectors=inspectors, processes=processes,
                                                queued_per_process=queued, start_beside=start_beside,
                                                signal_command=signal_command, signal_ok_parts=True,
                                                signal_held_open=signal_held_open))
    results: Dict[str, PartResult] = {}
    backlog: List[Tuple[float, int]] = []
    runner = threading.Thread(target=line.run, args=(lambda r: results.__setitem__(r.path.name, r),), daemon=True)
    runner.start()
    line.ready.wait()  # the camera starts once the line's workers are loaded
    writer, written, start_at = start_camera(written_into, images, rate, seconds)
    cpu_before = psutil.cpu_times()
    taken_up: Dict[str, float] = {}
    if take_up_at is not None:
        def hand_over() -> None:
            time.sleep(max(0.0, start_at + take_up_at - time.time()))
            taken_up["handed"] = time.time()
            tuned = line.model.with_threshold(line.model.threshold * 1.01)
            if take_up_kind == "bank":
                bank = tuned.memory_bank.copy()
                bank[0, 0] += 1e-3
                tuned = replace(tuned, memory_bank=bank)
            line.take_up(tuned, then=lambda: taken_up.__setitem__("inspecting", time.time()))
        threading.Thread(target=hand_over, daemon=True).start()
    log = None
    # The camera's log is read while it runs: a child blocks at exit until its queue is drained, so
    # waiting for it to end first hangs once the log outgrows the pipe (a 5-minute run at 10 parts/s).
    while log is None or time.time() < start_at + seconds:
        snap = line.snapshot()
        backlog.append((time.time() - start_at, snap.backlog + line.watch.settling))
        if log is None:
            try:
                log = written.get(timeout=0.5)
            except queue.Empty:
                pass
        else:
            time.sleep(0.5)
    cpu_after = psutil.cpu_times()
    writer.join()
    expected = len(log)
    done_at_end = len(results)
    deadline = time.time() + 60
    while len(results) < expected and time.time() < deadline:  # drain what is left, to count every part
        time.sleep(0.2)
    line.stop()
    runner.join()
    if recorder is not None:
        recorder.close()
    closed = dict(log)
    record_s = commits.seconds.get("record", [])
    delays = np.array([1000 * (r.recorded_at - closed[name]) for name, r in results.items() if name in closed] or [np.nan])
    ms = np.array([r.inspection_ms for r in results.values() if r.inspection_ms is not None] or [np.nan])
    # from the camera's close to the line seeing the part complete (watch, settle, identity)
    arrival = np.array([1000 * (r.complete_at - closed[name]) for name, r in results.items() if name in closed]
                       or [np.nan])
    times = np.array([t for t, _ in backlog])
    counts = np.array([c for _, c in backlog])
    second_half = (times >= seconds / 2) & (times <= seconds)
    slope = float(np.polyfit(times[second_half], counts[second_half], 1)[0]) if second_half.sum() > 2 else float("nan")
    end_backlog = int(counts[times <= seconds][-1]) if (times <= seconds).any() else 0
    outcome = {
        "rate": rate, "seconds": seconds, "store": "SQLite" if store else "none", "written": expected, "recorded": len(results),
        "recorded_by_end_of_writing": done_at_end, "errors": sum(r.verdict == "ERROR" for r in results.values()),
        "error_lines": [f"{r.path.name}: {r.error}" for r in results.values() if r.verdict == "ERROR"][:5],
        "delay_median_ms": float(np.median(delays)), "delay_p95_ms": float(np.percentile(delays, 95)),
        "delay_max_ms": float(np.max(delays)), "watched_by": line.watch.how(), "inspection_ms_median": float(np.median(ms)),
        "inspection_ms_p95": float(np.percentile(ms, 95)), "arrival_ms_median": float(np.median(arrival)),
        "arrival_ms_p95": float(np.percentile(arrival, 95)),
        "recorded_per_s_while_writing": done_at_end / seconds,
        # each part's durable commit, part of the delay
        "record_ms_median": 1000 * float(np.median(record_s)) if record_s else None,
        "record_ms_p95": 1000 * float(np.percentile(record_s, 95)) if record_s else None,
        # the machine's cores left idle while the camera wrote: what the line could not use
        "cpu_idle_share": (cpu_after.idle - cpu_before.idle) / max(1e-9, sum(cpu_after) - sum(cpu_before)),
        "backlog_slope_per_s": slope, "backlog_at_end": end_backlog, "backlog_max": int(counts.max()),
        "held": bool(slope < 0.05 and end_backlog <= max(2, rate)),
    }
    if line.signals is not None:  # every part told: the most the plant's program can cost the line
        outcome.update(signal_command=("lines:" if signal_held_open else "") + " ".join(signal_command),
                       signals_sent=line.signals.sent)
    if take_up_at is not None:
        handed, inspecting = taken_up["handed"], taken_up.get("inspecting", float("nan"))
        meanwhile = np.array([1000 * (r.recorded_at - closed[name]) for name, r in results.items()
                              if name in closed and handed - 1 <= closed[name] <= inspecting])
        outcome.update(take_up_s=inspecting - handed, parts_arriving_during_take_up=len(meanwhile),
                       their_delay_max_ms=float(meanwhile.max()) if len(meanwhile) else None)
    shutil.rmtree(work)
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[10, 20, 25, 30])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--model", type=Path, default=Path(tempfile.gettempdir()) / "bench_line_bottle.patchcore")
    parser.add_argument("--data", type=Path, default=BOTTLE, help="the category whose test images the camera writes")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-store", action="store_true", help="no inspection record (to see what recording costs)")
    parser.add_argument("--inspectors", type=int, nargs="+", default=[None],
                        help="parts inspected side by side (default: the line's own choice); each rate runs with each")
    parser.add_argument("--queued", type=int, nargs="+", default=[LineSettings.queued_per_process],
                        help="parts queued beside each worker process with a backlog (LineSettings.queued_per_process); "
                             "each rate runs with each")
    parser.add_argument("--take-up-at", type=float, metavar="S",
                        help="hand the line its model anew S seconds into the writing (a tuned model file)")
    parser.add_argument("--take-up-kind", choices=("judging", "bank"), default="judging")
    parser.add_argument("--start-beside", choices=("on", "off"), nargs="+", default=["on"],
                        help="a bank taken up starts its workers beside the running ones (LineSettings.start_beside), "
                             "or new parts wait while they load; each rate runs with each")
    parser.add_argument("--share", type=Path, nargs=2, metavar=("SERVER_DIR", "MOUNTED_DIR"),
                        help="the camera writes into SERVER_DIR, the line watches MOUNTED_DIR: one folder, shared")
    parser.add_argument("--poll-every", nargs="+", default=["auto"],
                        help="auto, 0 (file events only) or seconds between listings; each rate runs with each")
    parser.add_argument("--in-threads", action="store_true",
                        help="parts side by side in threads of the line's process, not in worker processes")
    parser.add_argument("--signal-commands", nargs="+", default=[""], metavar="COMMAND",
                        help="the line's signal command, run for every part (\"\" for none; 'lines:COMMAND' to start "
                             "it once and write it each part as a JSON line); each rate runs with each, in turn")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"data not found at {args.data}", file=sys.stderr)
        return 2
    model_path = line_model(args.model, args.data)
    inspector = Inspector(load_model(model_path))
    image_paths = find_images([args.data / "test"])[0]
    images = [p.read_bytes() for p in image_paths]
    print(f"{len(images)} {args.data.name} test images, {sum(map(len, images)) / len(images) / 1024:.0f} KB each on average; "
          f"load average before: {os.getloadavg()}", flush=True)
    outcomes = []
    for rate in args.rates:
        for inspectors, queued, beside, poll, signal in itertools.product(args.inspectors, args.queued,
                                                                          args.start_beside, args.poll_every,
                                                                          args.signal_commands):
            capacity, single_ms = inspector_capacity(inspector, image_paths[:40])
            work = Path(tempfile.mkdtemp(prefix="bench_line_"))
            outcome = measure_rate(inspector, model_path, rate, args.seconds, images, work,
                                   store=not args.no_store, inspectors=inspectors, processes=not args.in_threads,
                                   queued=queued, take_up_at=args.take_up_at, take_up_kind=args.take_up_kind,
                                   start_beside=beside == "on", share=args.share,
                                   poll=None if poll == "auto" else float(poll),
                                   signal_command=parse_signal_command(signal.removeprefix("lines:")),
                                   signal_held_open=signal.startswith("lines:"))
            outcome.update(inspectors=inspectors or default_inspectors(), processes=not args.in_threads,
                           start_beside=beside, poll_every=poll,
                           queued_per_process=queued, inspector_parts_per_s=capacity,
                           inspector_single_ms=single_ms, loadavg_after=os.getloadavg())
            outcomes.append(outcome)
            print(json.dumps(outcome), flush=True)
    print("\n| parts/s written | parts side by side, queued beside each | inspector alone just before: parts/s in batches, ms single | recorded by end "
          "of writing | delay median ms | delay p95 ms | backlog slope /s | backlog at end | held | load after | "
          "signal command: parts told |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for o in outcomes:
        print(f"| {o['rate']:g} | {o['inspectors']}, {o['queued_per_process']} | {o['inspector_parts_per_s']:.1f}, {o['inspector_single_ms']:.0f} | "
              f"{o['recorded_by_end_of_writing']}/{o['written']} | {o['delay_median_ms']:.0f} | "
              f"{o['delay_p95_ms']:.0f} | {o['backlog_slope_per_s']:+.2f} | {o['backlog_at_end']} | "
              f"{'yes' if o['held'] else 'no'} | {o['loadavg_after'][0]:.1f} | "
              + (f"{o['signal_command']}: {o['signals_sent']} |" if "signal_command" in o else "none |"))
    if args.json:
        args.json.write_text(json.dumps(outcomes, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
