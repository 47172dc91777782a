"""``patchcore watch MODEL FOLDER``: run a line from a terminal or a service, one line per part.

Exit status: 0 when stopped by Ctrl+C or SIGTERM after the parts in hand were recorded; 1 when it was
stopped while the store could not take records (those parts stay in the folder and are inspected at
the next start); 2 when it could not start (model, folder, store or backbone weights unusable).

A new shift on demand, as the window's New shift button: ``shift`` typed at its console, or SIGUSR1 sent to
a line run as a service (``kill -USR1 PID``; Windows has no such signal, its console has the word).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Callable, Iterable, Optional, Tuple

from ..core import PatchCoreError, load_model
from ..core.fingerprint import stat_key
from .arrival import POLL_EVERY_S, ArrivalSettings
from ..record.recorder import default_station
from ..record.store import MODEL_TAKEN_UP
from .model_file_follower import ModelFileFollower
from .disk_space import FULL_WITHIN_S
from .ng_in_a_row import NG_IN_A_ROW
from .recording import StoreRecorder
from .counters import ShiftSnapshot
from .runner import InspectionLine, LineSettings, PartResult
from .shifts import ShiftPlan
from .signal_command import parse_signal_command
from .sorting import OverlayWriter, PartSorter
from ..program import add_model_argument

#: Seconds between the summary lines.
SUMMARY_EVERY_S = 60.0

#: What an operator types at the line's console for a new shift.
NEW_SHIFT_WORD = "shift"

#: What the console says it understands: at the start, and to any other word.
CONSOLE_HELP = f"type '{NEW_SHIFT_WORD}' and Enter for a new shift; Ctrl+C stops the line after the parts in hand"

#: What a service manager sends for a new shift; None where the system has no such signal (Windows).
NEW_SHIFT_SIGNAL: Optional[signal.Signals] = getattr(signal, "SIGUSR1", None)


def add_watch_command(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register ``watch`` with the CLI's sub-commands."""
    p = sub.add_parser("watch", help="inspect every image a camera writes into a folder, until stopped",
                       description="Inspect every part image written into FOLDER, once, in order, until Ctrl+C "
                                   "or SIGTERM. A new shift from now: type 'shift' and Enter at its console, or "
                                   "send it SIGUSR1. Exit status: 0 stopped normally, 1 stopped while the store "
                                   "could not take records, 2 could not start.")
    add_model_argument(p)
    p.add_argument("folder", help="the folder the camera writes one image per part into")
    p.add_argument("--log", metavar="DB", help="record every part in this store (SQLite file or postgresql:// URL); "
                                               "a restart then resumes where the line stopped")
    p.add_argument("--sort-into", metavar="DIR", help="put each image into DIR/<date>/OK, NG or ERROR (and REVIEW "
                                                      "with a review band)")
    p.add_argument("--move", action="store_true", help="with --sort-into: move the images instead of copying them")
    p.add_argument("--keep-ok-days", type=_whole_number, default=0, metavar="N",
                   help="with --sort-into: remove the sorted images of OK parts once N days old (today's and the N-1 "
                        "days before are kept), at the start and daily, each day's removal in the audit trail; NG, "
                        "REVIEW and ERROR images and overlays are kept (default 0: every image kept)")
    p.add_argument("--overlays", metavar="DIR", help="write the heatmap overlay of each NG part into DIR/<date>/")
    p.add_argument("--station", default=default_station(), help="station name in the record (default: host name)")
    p.add_argument("--settle", type=_seconds, default=ArrivalSettings().settle, metavar="S",
                   help="seconds a file must stay unchanged when its writer gives no close event "
                        f"(default {ArrivalSettings().settle})")
    p.add_argument("--subfolders", action="store_true",
                   help="also inspect the parts written into FOLDER's subfolders (a camera that makes a new folder per "
                        "day or batch), sorted and drawn into the same subfolders; --sort-into and --overlays "
                        "must then lie outside FOLDER")
    p.add_argument("--poll-every", type=_seconds, metavar="S",
                   help="look at the folder's listing every S seconds instead of taking file events (0: file events "
                        f"only; default: every {POLL_EVERY_S:g} s where the folder is on a network file system, "
                        "whose files written by other machines raise no file events, file events elsewhere)")
    p.add_argument("--inspectors", type=_at_least_one, metavar="N",
                   help="parts inspected side by side, each on one core in its own worker process (default: one "
                        "per core, at most 4; 1: one part at a time on every core, in this process)")
    p.add_argument("--shifts", type=ShiftPlan.argument, default=ShiftPlan(), metavar="TIMES",
                   help="local times the shifts start, e.g. '06:00 14:00 22:00': at each the counters start again "
                        "and the ended shift's line is printed; they count the parts recorded in the shift before "
                        "this start too (with --log)")
    p.add_argument("--ng-in-a-row", type=_whole_number, default=NG_IN_A_ROW, metavar="N",
                   help=f"warn when N parts in a row are NG: the process, not a part, went wrong (0: never; "
                        f"default {NG_IN_A_ROW}); said again at the first OK part, both in the audit trail")
    p.add_argument("--disk-warning", type=_whole_number, default=round(FULL_WITHIN_S / 60), metavar="MINUTES",
                   help="warn when a disk the line uses (the camera folder's, the record's, --sort-into's, "
                        "--overlays') will be full within MINUTES at the rate it fills, or has under 1 GB free "
                        f"(0: never; default {round(FULL_WITHIN_S / 60)}); said again when it has room, both in the "
                        "audit trail")
    p.add_argument("--signal-command", type=_signal_command, default=(), metavar="COMMAND",
                   help="a program of the plant's (a stack light, a reject gate, a PLC's gateway), with its first "
                        "arguments, run as 'COMMAND ng PART' for each NG part (review, error likewise), 'COMMAND "
                        "decided-ok PART' (decided-ng) when a person decides one of the line's parts (with --log), "
                        "and 'COMMAND EVENT DETAIL' when the line starts, stops or warns (line-started, "
                        "ng-parts-in-a-row, ...), "
                        "one at a time and in order, the particulars in PATCHCORE_* variables too (README: 'Signals "
                        "to the line')")
    p.add_argument("--signal-ok", action="store_true", help="with --signal-command: run it for OK parts too")
    p.add_argument("--signal-lines", action="store_true",
                   help="with --signal-command: start it once, with the line, and write each event to its standard "
                        "input as one line of JSON ({\"event\": \"ng\", \"part\": ..., \"score\": ...}) instead "
                        "of running it for each (a program that holds a PLC connection open; far cheaper per part)")
    p.add_argument("--weights", type=Path, help="backbone weights file, if not where the model found it")
    p.set_defaults(run=cmd_watch)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds, 0 or more, not {text!r}")
    return seconds


def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return int(text)


def _signal_command(text: str) -> Tuple[str, ...]:
    try:
        return parse_signal_command(text)
    except PatchCoreError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _whole_number(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number, 0 or more, not {text!r}")
    return int(text)


def line_settings(args: argparse.Namespace) -> LineSettings:
    """The line's settings as ``watch``'s options give them."""
    return LineSettings(arrival=ArrivalSettings(settle=args.settle, poll=args.poll_every, subfolders=args.subfolders),
                        inspectors=args.inspectors, shifts=args.shifts, ng_in_a_row=args.ng_in_a_row,
                        signal_command=args.signal_command, signal_ok_parts=args.signal_ok,
                        signal_held_open=args.signal_lines, disk_full_within_s=60.0 * args.disk_warning,
                        ok_images_kept_days=args.keep_ok_days)


def read_console(typed: Iterable[str], new_shift: Callable[[], None], say: Callable[[str], None]) -> None:
    """The operator's words at the line's console, one per line, until it closes: ``shift`` starts a new shift
    (the ended shift's line follows, as at a planned start); anything else is answered with what it may type."""
    for text in typed:
        word = text.strip().lower()
        if word == NEW_SHIFT_WORD:
            say("a new shift from now, asked at the console")
            new_shift()
        elif word:
            say(CONSOLE_HELP)


def cmd_watch(args: argparse.Namespace) -> int:
    if (args.signal_ok or args.signal_lines) and not args.signal_command:
        raise PatchCoreError("--signal-ok and --signal-lines need --signal-command COMMAND (the program they are for)")
    model_path = Path(args.model)
    model_stamp = stat_key(model_path)  # before reading it: a change while it is read is taken up after
    model = load_model(model_path)
    folder = Path(args.folder)
    if not folder.is_dir():
        raise PatchCoreError(f"folder '{folder}' does not exist or is not a folder")
    if args.move and not args.sort_into:
        raise PatchCoreError("--move needs --sort-into DIR (where the images go)")
    if args.keep_ok_days and not args.sort_into:
        raise PatchCoreError("--keep-ok-days needs --sort-into DIR (the sorted images it removes)")
    if args.keep_ok_days and not args.log:
        raise PatchCoreError("--keep-ok-days needs --log DB: the record is what stays of a part whose image is removed")
    recorder = None
    if args.log:
        recorder = StoreRecorder.open(args.log, args.station, model_path, model.threshold, model.review_from,
                                      model.min_defect_area)
    else:
        print("warning: no --log: results are not recorded, and a restart inspects every image still in the "
              "folder again", file=sys.stderr)
    # the model alone: side by side, the worker processes load the network, not this one
    line = InspectionLine(model, folder, recorder=recorder,
                          sorter=PartSorter(Path(args.sort_into), move=args.move) if args.sort_into else None,
                          overlays=OverlayWriter(Path(args.overlays)) if args.overlays else None,
                          settings=line_settings(args), weights=args.weights)
    try:
        line.claim_folder(lambda text: print(text, file=sys.stderr, flush=True))  # refused before it says it watches
    except PatchCoreError:
        close = getattr(recorder, "close", None)
        if close is not None:
            close()
        raise
    # reentrant: the signal handler says its line on the main thread, perhaps while that thread is printing
    printing = threading.RLock()

    def say(text: str, stream=sys.stdout) -> None:
        with printing:
            print(text, file=stream, flush=True)

    def on_result(result: PartResult) -> None:
        if result.already_recorded:
            say(f"{result.path.name}: recorded before the last stop; now sorted into {result.sorted_to}")
        else:
            say(result.line())

    def on_shift(ended: ShiftSnapshot) -> None:
        say(f"shift since {ended.shift_started:%Y-%m-%d %H:%M} ended: {ended.line()}")

    def stop(signum: int, frame: Optional[FrameType]) -> None:
        say(f"{signal.Signals(signum).name}: stopping after the parts in hand", sys.stderr)
        line.stop()

    def new_shift(signum: int, frame: Optional[FrameType]) -> None:
        say(f"{signal.Signals(signum).name}: a new shift from now", sys.stderr)
        line.new_shift()

    done = threading.Event()

    def summaries() -> None:
        while not done.wait(SUMMARY_EVERY_S):
            say(f"summary: {line.snapshot().line()}")

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    if NEW_SHIFT_SIGNAL is not None:
        previous[NEW_SHIFT_SIGNAL] = signal.signal(NEW_SHIFT_SIGNAL, new_shift)
    threading.Thread(target=summaries, name="summary", daemon=True).start()
    # a service's stdin is no console (closed, or a pipe another program holds): nothing is read from it
    console = sys.stdin is not None and sys.stdin.isatty()
    if console:
        threading.Thread(target=read_console, args=(sys.stdin, line.new_shift, lambda text: say(text, sys.stderr)),
                         name="console", daemon=True).start()
    # a model tuned while the line runs and written over its file is taken up between parts
    follower = ModelFileFollower(
        line, model_path, model_stamp,
        lambda tuned: None if not args.log else partial(
            StoreRecorder.open, args.log, args.station, model_path, tuned.threshold, tuned.review_from,
            tuned.min_defect_area, kind=MODEL_TAKEN_UP),
        lambda text: say(text, sys.stderr)).start()
    shifts = f", shifts start at {args.shifts.text()}" if args.shifts.starts else ""
    band = "" if model.review_from is None else f", review from {model.review_from:.4f}"
    below = " and its subfolders" if args.subfolders else ""
    told = "" if not args.signal_command else (
        f", telling {Path(args.signal_command[0]).name} of {'every' if args.signal_ok else 'each not-OK'} part and of "
        "the line's state")
    kept = f", sorted OK images removed once {args.keep_ok_days} days old" if args.keep_ok_days else ""
    say(f"watching {folder.resolve()}{below} with {model_path.name} (threshold {model.threshold:.4f}{band}), "
        f"{line.inspectors} part(s) inspected side by side" + (f", recording into {args.log}" if args.log else "")
        + kept + told + shifts, sys.stderr)
    if console:
        say(CONSOLE_HELP, sys.stderr)
    try:
        final = line.run(on_result, lambda text: say(text, sys.stderr), on_shift=on_shift,
                         on_decided=lambda part: say(f"{part.record.image_path} "
                                                     f"{part.decision.said_against(part.record.verdict)}", sys.stderr))
    finally:
        done.set()
        follower.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        close = getattr(line.recorder, "close", None)  # the line's: a model taken up opened its own
        if close is not None:
            close()
    waiting = final.backlog + (line.watch.settling if line.watch else 0)
    shift = f"shift since {final.shift_started:%Y-%m-%d %H:%M}: " if args.shifts.starts else ""
    say(f"stopped: {shift}{final.line()}; {final.already_recorded} recorded before this start"
        + (f"; {waiting} not yet inspected, inspected at the next start" if waiting else ""))
    if line.unrecorded:
        say(f"error: {line.unrecorded} part(s) could not be recorded and stay in the folder", sys.stderr)
        return 1
    return 0
