"""Inspect thousands of images in one batch, from the CLI and in the GUI, and watch the memory (RSS).

Usage::

    python benchmarks/bench_batch_memory.py [--count 5000] [--side 160] [--size 64] [--only cli|gui]

Synthetic parts (``side x side`` PNG) are written once into ``--work`` (default
``/tmp/patchcore-bench-memory``, never the repository), a model is fitted on 10 of them at network
input ``--size`` (small, so 5,000 images take minutes on a laptop CPU; what is kept per image does
not depend on it), and then:

- ``cli``: ``patchcore predict MODEL FOLDER --csv`` runs in a child process; its RSS is read from
  ``/proc`` each time its answer (a line per image) passes a tenth of the batch;
- ``gui``: a child process opens the real window offscreen, drops the folder on it, reads its own
  RSS at each tenth, and at the end asks the results list for every row's thumbnail (as scrolling
  through the whole list would) and selects the last row.

RSS at 10 % (after warm-up) and at the end are printed per mode, with the growth per image. Linux only
(``/proc``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def rss_mib(pid: int | str = "self") -> float:
    """Resident set size of a process in MiB (VmRSS from /proc)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS in /proc")


def write_parts(folder: Path, count: int, side: int) -> None:
    from patchcore_gui.core import good_part, write_png

    folder.mkdir(parents=True, exist_ok=True)
    have = len(list(folder.glob("part_*.png")))
    rng = np.random.default_rng(0)
    for i in range(have, count):
        write_png(folder / f"part_{i:05d}.png", good_part(rng, side))


def prepare(work: Path, count: int, side: int, size: int) -> Path:
    """The images (kept between runs) and a model fitted at input ``size``; returns the model path."""
    from patchcore_gui.cli import main as cli_main

    started = time.perf_counter()
    write_parts(work / "images", count, side)
    write_parts(work / "good", 10, side)
    model = work / f"model_{size}.patchcore"
    if not model.exists():
        assert cli_main(["fit", str(work / "good"), "-o", str(model), "--geometry", "squeeze", "--size", str(size),
                                "--coreset", "0.25"]) == 0
    print(f"prepared {count} images of {side} x {side} and {model.name} in {time.perf_counter() - started:.0f} s",
          flush=True)
    return model


def run_cli(model: Path, images: Path, work: Path, count: int) -> List[Dict[str, float]]:
    command = [sys.executable, "-m", "patchcore_gui.cli", "predict", str(model), str(images),
               "--csv", str(work / "results.csv")]
    print("$", " ".join(command), flush=True)
    started = time.perf_counter()
    # predict answers one line per image on stdout (its progress bar is drawn on a terminal only)
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)  # its errors: to our stderr
    samples, done, tenths = [], 0, set()
    assert process.stdout is not None
    for line in process.stdout:
        done += bool(line.strip())
        tenth = 10 * done // max(count, 1)
        if tenth not in tenths:
            tenths.add(tenth)
            samples.append({"done": done, "rss_mib": rss_mib(process.pid), "seconds": time.perf_counter() - started})
    process.wait()
    if process.returncode != 0:
        raise SystemExit(f"predict exited with {process.returncode}")
    return samples


def gui_child(model: Path, images: Path) -> None:
    """Runs in its own process: the window inspects the folder; prints one JSON line of samples."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from patchcore_gui.gui.main_window import MainWindow
    from patchcore_gui.gui.window_record import scratch_settings

    app = QApplication.instance() or QApplication([])
    window = MainWindow(settings=scratch_settings(model.parent))
    window.use_message_boxes = False
    window.show()
    assert window.open_model(model), window.last_error
    started = time.perf_counter()
    samples: List[Dict[str, float]] = []
    ended: List[str] = []
    tenths = set()

    def on_progress(done: int, total: int, stage: str) -> None:
        tenth = 10 * done // max(total, 1)
        if stage == "inspect" and tenth not in tenths:
            tenths.add(tenth)
            samples.append({"done": done, "rss_mib": rss_mib(), "seconds": time.perf_counter() - started})

    def on_job_done(kind: str, outcome: str) -> None:
        ended.append(outcome)

    window.job_done.connect(on_job_done)
    window.add_inputs([images])
    window.jobs.job.worker.progress.connect(on_progress)
    while not ended:
        app.processEvents()
        time.sleep(0.005)
    app.processEvents()
    samples.append({"done": window.results.rowCount(), "rss_mib": rss_mib(),
                    "seconds": time.perf_counter() - started, "note": "after the batch"})
    results = window.results
    for row in range(results.rowCount()):  # every thumbnail, as scrolling through the whole list asks for them
        results.data(results.index(row, results.THUMB), Qt.ItemDataRole.DecorationRole)
    window.results_panel.select_row(results.rowCount() - 1)
    app.processEvents()
    samples.append({"done": results.rowCount(), "rss_mib": rss_mib(), "seconds": time.perf_counter() - started,
                    "note": "after asking for every thumbnail and showing the last part"})
    print(json.dumps({"outcome": ended[0], "counts": results.counts(), "samples": samples}), flush=True)
    window.shutdown()


def run_gui(model: Path, images: Path) -> List[Dict[str, float]]:
    command = [sys.executable, str(Path(__file__).resolve()), "--gui-child", str(model), str(images)]
    print("$", " ".join(command), flush=True)
    output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    (model.parent / "gui-stderr.log").write_text(output.stderr)
    lines = [line for line in output.stdout.splitlines() if line.startswith("{")]
    if output.returncode != 0 or not lines:
        head = "\n".join(line for line in output.stderr.splitlines() if not line.startswith("  File"))[:3000]
        raise SystemExit(f"GUI run failed ({output.returncode}), stderr in {model.parent / 'gui-stderr.log'}:\n{head}")
    result = json.loads(lines[-1])
    print(f"  gui: {result['outcome']}, {result['counts']}", flush=True)
    return result["samples"]


def summary(mode: str, samples: List[Dict[str, float]]) -> None:
    for sample in samples:
        note = f"  ({sample['note']})" if "note" in sample else ""
        print(f"  {mode} {int(sample['done']):>6} images  {sample['rss_mib']:8.1f} MiB  "
              f"{sample['seconds']:7.1f} s{note}")
    warm = next((s for s in samples if s["done"] > 0), samples[0])
    end = samples[-1]
    per_image = (end["rss_mib"] - warm["rss_mib"]) * 1024 / max(end["done"] - warm["done"], 1)
    print(f"{mode}: RSS {warm['rss_mib']:.1f} MiB after {int(warm['done'])} images, {end['rss_mib']:.1f} MiB after "
          f"{int(end['done'])} ({end['rss_mib'] - warm['rss_mib']:+.1f} MiB, {per_image:+.2f} KiB per image); "
          f"{end['seconds']:.0f} s", flush=True)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--gui-child":
        gui_child(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="images in the batch (default 5000)")
    parser.add_argument("--side", type=int, default=160, help="image side in pixels (default 160)")
    parser.add_argument("--size", type=int, default=64, help="network input size of the model (default 64)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/patchcore-bench-memory"),
                        help="folder for the images, the model and the CSV (default /tmp/patchcore-bench-memory)")
    parser.add_argument("--only", choices=("cli", "gui"), help="run one mode only")
    args = parser.parse_args()
    work = args.work / f"{args.count}x{args.side}"
    model = prepare(work, args.count, args.side, args.size)
    if args.only in (None, "cli"):
        summary("cli", run_cli(model, work / "images", work, args.count))
    if args.only in (None, "gui"):
        summary("gui", run_gui(model, work / "images"))


if __name__ == "__main__":
    main()
