"""Memory of the line's own process with its parts inspected in worker processes.

Usage::

    .venv/bin/python benchmarks/bench_line_memory.py [--model /tmp/bench_line_bottle.patchcore]

Starts a line on an empty folder twice, in a fresh process each: given the model alone (as
``patchcore watch`` does) and given a loaded :class:`Inspector` (as the window does, which has one
for its own inspections), and prints the line's process's resident memory once its two worker
processes are ready. The workers' own memory is not counted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import patchcore_gui  # noqa: F401  (first: it sets the thread wait policies before numpy and torch load)

import psutil

from patchcore_gui.core import Inspector, load_model
from patchcore_gui.line import InspectionLine, LineSettings


def one(model_path: str, given: str) -> None:
    model = load_model(model_path)
    source = Inspector(model) if given == "inspector" else model
    line = InspectionLine(source, Path(tempfile.mkdtemp()), settings=LineSettings(inspectors=2, processes=True))
    running = threading.Thread(target=line.run)
    started = time.perf_counter()
    running.start()
    line.ready.wait(300)
    print(f"given {given:9s}: ready {time.perf_counter() - started:5.1f} s after the start, line's process "
          f"{psutil.Process().memory_info().rss / 2**20:,.0f} MB resident", flush=True)
    line.stop()
    running.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="/tmp/bench_line_bottle.patchcore")
    parser.add_argument("--given", choices=("model", "inspector"), help="one way only, in this process")
    args = parser.parse_args()
    if args.given:
        one(args.model, args.given)
        return
    for given in ("model", "inspector"):
        subprocess.run([sys.executable, __file__, "--model", args.model, "--given", given], check=True)


if __name__ == "__main__":
    main()
