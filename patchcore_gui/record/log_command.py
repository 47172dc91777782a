"""``patchcore log``: read the inspection record from the command line; and the ``--log`` option of
the commands that inspect.

    patchcore log STORE [--since WHEN] [--until WHEN] [--verdict NG] [--model NAME|SHA256] [--station NAME]
                        [--part TEXT] [--id N] [--undecided | --decided OK|NG] [--csv FILE [--excel]]
                        [--summary [--by hour|day|shift [--shifts TIMES]]] [--changes]
                        [--decide OK|NG --person NAME [--note TEXT]]

WHEN is a date or time in this PC's zone (``2026-03-10``, ``2026-03-10 14:00``), one with an offset
(``2026-03-10T14:00+01:00``), a time of day (``06:00``: the last time the clocks read it, as a shift
starts), ``today``, ``yesterday``, or a span back from now (``30m``, ``8h``,
``7d``). Exit status: 0 when the store was read (even if nothing matched) or a decision recorded, 2 when it
could not be, or the decision was refused.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import datetime, timedelta
from typing import Callable, List, Optional

from ..core.csv_style import add_excel_option, csv_style_of
from ..core.errors import PatchCoreError
from ..line.shifts import ShiftPlan, time_of_day
from .export import (RECORD_LINE_COLUMNS, print_summary, record_line, write_changes_csv, write_records_csv,
                     write_summary_csv, written_what)
from .queries import PERIODS, RecordFilter
from .recorder import InspectionRecorder, default_station
from .records import DECIDED_VERDICTS, VERDICTS
from .store import InspectionStore, open_store

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$")
_SPAN_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, now: Optional[datetime] = None) -> datetime:
    """A moment from the command line, timezone-aware (a time without a zone is this PC's).

    >>> now = datetime.fromisoformat("2026-03-10T14:30:00+01:00")
    >>> parse_when("8h", now).isoformat(), parse_when("2026-03-09T06:00+01:00").isoformat()
    ('2026-03-10T06:30:00+01:00', '2026-03-09T06:00:00+01:00')
    >>> parse_when("06:00", now).date() == now.date() and parse_when("22:00", now) < now
    True
    """
    now = now or datetime.now().astimezone()
    word = text.strip().lower()
    if word in ("today", "yesterday"):
        midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        return (midnight - timedelta(days=1 if word == "yesterday" else 0)).astimezone()
    clock = time_of_day(word)
    if clock is not None:
        # the last time the clocks read it, as a shift started: "--since 06:00" is this morning's, at 01:00 too
        start = ShiftPlan((clock,)).start_of(now)
        assert start is not None  # a start every day: one was at or before now
        return start
    span = _SPAN.match(word)
    if span:
        return now - timedelta(**{_SPAN_UNITS[span.group(2)]: float(span.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a time: use e.g. 2026-03-10, '2026-03-10 14:00', 06:00, today, yesterday, 8h, 7d"
        ) from None
    return moment if moment.tzinfo is not None else moment.astimezone()


# The questions quality asks of the record, as the help shows them.
_EXAMPLES = """examples:
  patchcore log line3.sqlite --part SN-20931                 # what part SN-20931 scored, with which model
  patchcore log line3.sqlite --summary --by hour --since 7d  # how many NG per hour, this last week
  patchcore log postgresql://qa@plant/record --station line3 --summary --by shift --shifts '06:00 14:00 22:00'
  patchcore log line3.sqlite --verdict ng --since 06:00 --csv ng.csv
  patchcore log line3.sqlite --summary --by hour --since 7d --csv week.csv --excel  # to open in Excel
  patchcore log line3.sqlite --changes                      # when which model and threshold went on the line
  patchcore log line3.sqlite --verdict review --undecided    # the REVIEW parts waiting for a person
  patchcore log line3.sqlite --verdict ng --decided ok --since 7d  # the rejects people passed this week
  patchcore log line3.sqlite --part SN-20931 --decide ok --person "A. Meyer" --note "scratch within tolerance"
exit status: 0 the store was read (even if nothing matched) or a decision recorded, 2 it could not be or refused"""


def add_log_command(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("log", help="read the inspection record: parts, yield per hour or day, model changes",
                       description="Read the inspection record: every part inspected, with its score, verdict,\n"
                                   "model and threshold; counts and yield per hour, day or shift; and the model\n"
                                   "changes.",
                       epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("store", help="SQLite file or postgresql:// URL")
    p.add_argument("--since", type=parse_when, metavar="WHEN",
                   help="from this time on (inclusive): 2026-03-10, '2026-03-10 14:00', 06:00 (the last time the "
                        "clocks read it), today, yesterday, or back from now: 30m, 8h, 7d")
    p.add_argument("--until", type=parse_when, metavar="WHEN", help="before this time (written as for --since)")
    p.add_argument("--verdict", choices=VERDICTS, type=str.upper, help="OK, REVIEW, NG or ERROR (any case)")
    p.add_argument("--model", help="model name, or the start of its sha256")
    p.add_argument("--station", help="only this station (line PC)")
    p.add_argument("--part", metavar="TEXT", help="only parts whose image path holds TEXT, any case (e.g. the serial "
                                                  "number the camera names the file after), or whose sha256 starts "
                                                  "with it (8 digits or more)")
    p.add_argument("--csv", metavar="FILE",
                   help="write the parts (or the summary, or the changes) as CSV instead of printing them")
    add_excel_option(p)
    p.add_argument("--summary", action="store_true", help="count, OK, REVIEW, NG, errors, yield, median ms")
    p.add_argument("--by", choices=PERIODS, help="with --summary: one line per local hour, day or shift")
    p.add_argument("--shifts", type=ShiftPlan.argument, default=ShiftPlan(), metavar="TIMES",
                   help="with --by shift: the local times the shifts start, on quarter hours, e.g. '06:00 14:00 22:00'")
    p.add_argument("--changes", action="store_true", help="the audit trail: model opened, threshold moved, ...")
    p.add_argument("--id", type=int, metavar="N", help="only the part recorded with this id (the CSV's id column)")
    decisions = p.add_mutually_exclusive_group()
    decisions.add_argument("--undecided", action="store_true",
                           help="only parts nobody has decided yet (with --verdict review: the parts waiting for a "
                                "person)")
    decisions.add_argument("--decided", choices=DECIDED_VERDICTS, type=str.upper, metavar="OK|NG",
                           help="only parts whose newest decision is OK (or NG): with --verdict ng, the rejects "
                                "people passed")
    p.add_argument("--decide", choices=DECIDED_VERDICTS, type=str.upper, metavar="OK|NG",
                   help="record a person's verdict on the one part the filter matches (a REVIEW part looked at, a "
                        "false reject passed, a defect the machine missed); needs --person")
    p.add_argument("--person", metavar="NAME", help="with --decide: who decided")
    p.add_argument("--note", default="", metavar="TEXT", help="with --decide: why, in a few words")
    p.set_defaults(run=cmd_log)


def cmd_log(args: argparse.Namespace) -> int:
    if args.by and not args.summary:
        args.summary = True
    where = RecordFilter(since=args.since, until=args.until, verdict=args.verdict, model=args.model,
                         station=args.station, part=args.part, id=args.id, undecided=args.undecided,
                         decided=args.decided)
    if args.decide:
        return _decide(args, where)
    if args.person or args.note:
        raise PatchCoreError("--person and --note go with --decide OK|NG")
    with open_store(args.store, station=args.station or default_station(), create=False) as store:
        found = _read_out(args, store, where)
        if not found:
            for hint in unknown_names(store, station=args.station, model=args.model):
                print(hint, file=sys.stderr)
    return 0


#: the parts named when a decision's filter matches more than one
_MATCHES_NAMED = 5


def _decide(args: argparse.Namespace, where: RecordFilter) -> int:
    """Record a person's verdict on the one part ``where`` matches; refused (exit 2) for none or several."""
    if not args.person or not args.person.strip():
        raise PatchCoreError("--decide needs --person NAME: every decision names who made it")
    if where == RecordFilter():
        raise PatchCoreError("--decide needs a filter that names one part: --id N, or --part TEXT (and --since, "
                             "--station, ... where it matches several)")
    # the decision is made here, at this PC, whichever station inspected the part
    with open_store(args.store, station=default_station(), create=False) as store:
        matches = store.inspections(where, limit=_MATCHES_NAMED + 1)
        if len(matches) != 1:
            if not matches:
                raise PatchCoreError(f"no recorded part matches the filter in {args.store}: nothing decided")
            count = store.count(where)
            named = "; ".join(f"id {stored.id}: {stored.record.time.astimezone():%Y-%m-%d %H:%M:%S} "
                              f"{stored.station} {stored.record.verdict} {stored.record.image_path}"
                              for stored in matches[:_MATCHES_NAMED])
            raise PatchCoreError(f"{count:,} recorded parts match the filter, and a decision is for one part: "
                                 f"{named}{'; ...' if count > _MATCHES_NAMED else ''}; name it with --id N")
        (stored,) = matches
        decision = store.decide(stored.id, args.decide, args.person, args.note)
    print(f"recorded: {stored.record.image_path} (id {stored.id}, {stored.station}, the machine's verdict "
          f"{stored.record.verdict}) decided {decision.said()}", file=sys.stderr)
    return 0


def _read_out(args: argparse.Namespace, store: InspectionStore, where: RecordFilter) -> int:
    """Print or write what the command asks for; how many parts (or changes) it held."""
    out = sys.stdout
    if args.changes:
        changes = store.model_changes(where)
        if args.csv:
            count = write_changes_csv(args.csv, changes, style=csv_style_of(args))
            print(f"wrote {written_what(count, 'change')} to {args.csv}", file=sys.stderr)
            return count
        for change in changes:
            detail = f"\t{change.detail}" if change.detail else ""
            out.write(f"{change.time.astimezone().isoformat(timespec='seconds')}\t{change.station}\t{change.kind}\t"
                      f"{change.model_name}\t{change.model_sha256[:12]}\tthreshold {change.threshold:.4f}{detail}\n")
        return len(changes)
    if args.summary:
        summary = store.summary(where, by=args.by, shifts=args.shifts)
        if args.csv:
            write_summary_csv(args.csv, summary, args.by, csv_style_of(args))
            print(f"wrote the summary of {written_what(summary.total.count, 'part')} to {args.csv}", file=sys.stderr)
        else:
            print_summary(summary, args.by, out)
        return summary.total.count
    if args.csv:
        count = write_records_csv(args.csv, store.iter_inspections(where), style=csv_style_of(args))
        print(f"wrote {written_what(count, 'part')} to {args.csv}", file=sys.stderr)
        return count
    out.write("\t".join(RECORD_LINE_COLUMNS) + "\n")
    count = 0
    for stored in store.iter_inspections(where):
        out.write(record_line(stored) + "\n")
        count += 1
    return count


def unknown_names(store: InspectionStore, station: Optional[str], model: Optional[str]) -> List[str]:
    """What to say when nothing matched because a station or model named is not in the store at all
    (a typo, another case, a model's file name for its name), with what the store has instead."""
    # matched as the filter matches them (RecordFilter), over the whole store rather than the time asked for
    hints = []
    if station and not store.count(RecordFilter(station=station)):
        hints.append(f"no part was inspected at station '{station}' in this store; its stations: "
                     f"{', '.join(store.stations()) or 'none'}")
    if model and not store.count(RecordFilter(model=model)):
        named = sorted({name for name, _ in store.models()})
        hints.append(f"no part was inspected with a model named '{model}' (or whose sha256 starts so) in this "
                     f"store; its models: {', '.join(named) or 'none'}")
    return hints


def add_store_options(parser: argparse.ArgumentParser) -> None:
    """``--log STORE [--station NAME]`` for a command that inspects."""
    parser.add_argument("--log", metavar="STORE",
                        help="record every result in this inspection store (SQLite file or postgresql:// URL)")
    parser.add_argument("--station", help="station name in the record (default: this PC's name)")


def recorder_for(args: argparse.Namespace, model_path: str, threshold: float,
                 review_from: Optional[float] = None, min_defect_area: float = 0.0) -> Optional[InspectionRecorder]:
    """The recorder ``--log`` asks for, or None; the caller closes ``recorder.store``."""
    if not getattr(args, "log", None):
        return None
    store = open_store(args.log, station=args.station or default_station())
    try:
        return InspectionRecorder.for_model_file(store, model_path, threshold, review_from=review_from,
                                                 min_defect_area=min_defect_area)
    except BaseException:
        store.close()
        raise


class PartTimer:
    """Milliseconds per part in a stream of results: the time since the previous one came."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._last = clock()

    def __call__(self) -> float:
        now = self._clock()
        elapsed, self._last = 1000 * (now - self._last), now
        return elapsed


def close_recorder(recorder: Optional[InspectionRecorder]) -> None:
    if recorder is not None:
        recorder.store.close()

