"""The record as CSV (for a spreadsheet), and as the lines and tables ``patchcore log`` prints.

Times are written twice in CSV: UTC (unambiguous) and the reader's local time (what people
read); the console shows local time with its offset.
"""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from typing import Iterable, List, Optional, Sequence, TextIO

from ..core.atomic import PathLike, atomic_text_writer
from ..core.csv_style import PLAIN, CsvStyle
from .queries import ModelChange, PeriodSummary, StoredInspection, Summary

RECORD_COLUMNS = ("id", "time_utc", "time_local", "station", "image_path", "file_size", "sha256", "model_name",
                  "model_sha256", "threshold", "score", "verdict", "error", "inspection_ms", "regions", "review_from",
                  "sorted_path", "decided", "decided_by", "decided_time_utc", "decided_note")
#: the audit trail: what changed the verdicts or stopped the parts, oldest first
CHANGES_COLUMNS = ("id", "time_utc", "time_local", "station", "what", "model_name", "model_sha256", "threshold",
                   "detail")
#: new columns go at the end, so a spreadsheet made for an older file still reads its columns
SUMMARY_COLUMNS = ("period", "parts", "ok", "ng", "errors", "yield", "median_ms", "review", "review_undecided",
                   "ok_after_decisions", "yield_after_decisions")


def local(moment: datetime, zone: Optional[tzinfo] = None) -> datetime:
    return moment.astimezone(zone)


def record_row(stored: StoredInspection, zone: Optional[tzinfo] = None, style: CsvStyle = PLAIN) -> List[str]:
    record = stored.record
    return [str(stored.id), style.time(record.time), style.time(local(record.time, zone)), stored.station,
            record.image_path, "" if record.file_size is None else str(record.file_size), record.sha256 or "",
            record.model_name, record.model_sha256, style.number(record.threshold), style.number(record.score),
            record.verdict, record.error or "", style.number(record.inspection_ms, 3),
            "" if record.regions is None else json.dumps(record.regions, separators=(",", ":")),
            style.number(record.review_from), record.sorted_path or "", *_decision_cells(stored, style)]


def _decision_cells(stored: StoredInspection, style: CsvStyle) -> List[str]:
    decision = stored.decision
    if decision is None:
        return ["", "", "", ""]
    return [decision.verdict, decision.person, style.time(decision.time), decision.note]


def _write_csv(path: PathLike, header: Sequence[str], rows: Iterable[Sequence[object]], style: CsvStyle) -> int:
    """One header row, then ``rows`` (streamed: any number), atomically; returns how many rows."""
    written = 0
    with atomic_text_writer(path) as stream:
        writer = style.begin(stream)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            written += 1
    return written


def write_records_csv(path: PathLike, records: Iterable[StoredInspection], zone: Optional[tzinfo] = None,
                      style: CsvStyle = PLAIN) -> int:
    """Write ``records`` (streamed: any number) as CSV, atomically; returns how many."""
    return _write_csv(path, RECORD_COLUMNS, (record_row(stored, zone, style) for stored in records), style)


def write_changes_csv(path: PathLike, changes: Iterable[ModelChange], zone: Optional[tzinfo] = None,
                      style: CsvStyle = PLAIN) -> int:
    """Write the audit trail as CSV, atomically; returns how many entries."""
    return _write_csv(path, CHANGES_COLUMNS, (
        [str(change.id), style.time(change.time), style.time(local(change.time, zone)), change.station, change.kind,
         change.model_name, change.model_sha256, style.number(change.threshold), change.detail]
        for change in changes), style)


def written_what(count: int, noun: str) -> str:
    """How many parts (or changes) went into a file, as a person says it.

    >>> written_what(1, "change"), written_what(12345, "part")
    ('1 change', '12,345 parts')
    """
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def write_summary_csv(path: PathLike, summary: Summary, by: Optional[str], style: CsvStyle = PLAIN) -> None:
    _write_csv(path, SUMMARY_COLUMNS, (
        [style.time(period.start) if period.start else "total", period.count, period.ok, period.ng, period.errors,
         _percent(period.yield_, style), style.number(period.median_ms, 3), period.review, period.review_open,
         period.ok_after_decisions, _percent(period.yield_after_decisions, style)]
        for period in [*summary.periods, summary.total]), style)


def period_label(summary: PeriodSummary, by: Optional[str]) -> str:
    if summary.start is None:
        return "total"
    return summary.start.strftime("%Y-%m-%d" if by == "day" else "%Y-%m-%d %H:%M")


def _percent(share: Optional[float], style: CsvStyle = PLAIN) -> str:
    """A yield as a percentage; empty for a period without parts."""
    return "" if share is None else f"{style.number(100 * share, 2)}%"


def print_summary(summary: Summary, by: Optional[str], out: TextIO) -> None:
    """A fixed-width table: one line per period with parts, then the total; where people decided parts, two
    columns more: the REVIEW parts still undecided, and the yield once their decisions count."""
    width = 10 if by == "day" else 16
    decided = summary.total.decided
    out.write(f"{'period':<{width}}  {'parts':>9}  {'OK':>9}  {'REVIEW':>7}  {'NG':>7}  {'errors':>6}  {'yield':>7}  "
              f"{'median ms':>9}" + (f"  {'undecided':>9}  {'yield after decisions':>21}" if decided else "") + "\n")
    for period in [*summary.periods, summary.total]:
        median = "-" if period.median_ms is None else f"{period.median_ms:.1f}"
        after = (f"  {period.review_open:>9}  {_percent(period.yield_after_decisions) or '-':>21}"
                 if decided else "")
        out.write(f"{period_label(period, by):<{width}}  {period.count:>9}  {period.ok:>9}  {period.review:>7}  "
                  f"{period.ng:>7}  {period.errors:>6}  {_percent(period.yield_) or '-':>7}  {median:>9}{after}\n")


#: The columns :func:`record_line` writes, for the header ``patchcore log`` prints above them.
RECORD_LINE_COLUMNS = ("time", "station", "verdict", "score", "threshold", "ms", "regions", "decided", "model", "file",
                       "error")


def regions_cell(regions: Optional[list]) -> str:
    """The record's regions in a few characters: "-" not measured, else how many and the largest's area.

    >>> regions_cell(None), regions_cell([]), regions_cell([{"area": 30}, {"area": 120}])
    ('-', '0', '2 (largest 120 px)')
    """
    if regions is None:
        return "-"
    if not regions:
        return "0"
    return f"{len(regions)} (largest {max(int(region.get('area', 0)) for region in regions)} px)"


def record_line(stored: StoredInspection, zone: Optional[tzinfo] = None) -> str:
    """The console line of one record: local time, station, verdict, score, threshold, ms, regions, a person's
    decision, model, file (``camera path -> sorted path`` once a line sorted it), error."""
    record = stored.record
    score = "-" if record.score is None else f"{record.score:.4f}"
    ms = "-" if record.inspection_ms is None else f"{record.inspection_ms:.1f}"
    fields = [local(record.time, zone).isoformat(timespec="seconds"), stored.station, record.verdict, score,
              f"{record.threshold:.4f}", ms, regions_cell(record.regions),
              "-" if stored.decision is None else stored.decision.said(), record.model_name, record.where]
    if record.error:
        fields.append(record.error)
    return "\t".join(fields)
