"""The inspection record: recording rate, store size and summary time, SQLite and PostgreSQL.

Usage::

    .venv/bin/python benchmarks/bench_record.py [--folder DIR] [--adds 2000] [--parts 1000000]
                                                 [--postgresql URL | --no-postgresql]

1. Recording: ``store.add`` one part at a time, each its own durable commit, as a line does;
   median and 95th percentile ms per part and records/s sustained.
2. Size: the store's size after 100,000 parts (SQLite: the file after a checkpoint; PostgreSQL:
   the tables with their indexes and TOAST).
3. Summary: ``store.summary`` over ``--parts`` parts (by default a million: about 11.6 days of one
   line at one part per second), in total, per hour, per day and per shift (06:00 14:00 22:00); the
   station's last 8 hours, as a line restarted within a shift counts them; its newest 1,000 parts, as a line
   starting looks back for a run of NG parts; and the whole command
   ``patchcore log STORE --summary --by hour`` with Python's start-up.
4. Finding one part among them by its file name (``--part``, text anywhere in the path), in the store and as
   the whole command; the newest 2,000 parts and the count for one part's name, a text in 10,000 paths, one in
   every path, and the start of a sha256 (schema version 6's indexes); and the step to version 6 on this store.

5. People's decisions: the newest 2,000 parts as the History view lists them, with each part's newest decision
   joined (and without the join, as a store too old to hold decisions is read); then 1% of the parts decided
   (``store.decide``, one commit each, timed for the first 200; the rest in batches), and the listing, the
   summaries and the NG parts nobody decided again, and the NG parts whose newest decision is OK, listed and counted;
   and what a running line looks at every 2 s: the decisions after the newest it knew, with their parts.

Parts for 2 and 3 are written in batches of 10,000 per transaction (the same rows a line writes,
written faster). Without --postgresql, a throwaway server is started in a temp folder where the
Debian ``postgresql`` package is installed (tests/record/pg_server.py); fsync stays on.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from patchcore_gui.line.shifts import ShiftPlan  # noqa: E402
from patchcore_gui.record import InspectionRecord, RecordFilter, open_store  # noqa: E402
from patchcore_gui.record import queries  # noqa: E402
from patchcore_gui.record.schema import PATH_SEARCH, decisions, inspections  # noqa: E402
from patchcore_gui.record.store import InspectionStore, to_time_us  # noqa: E402

START = datetime(2026, 3, 1, 6, 0, tzinfo=timezone.utc)
BATCH = 10_000
SHIFTS = ShiftPlan.parse("06:00 14:00 22:00")


def part(number: int, rng: random.Random, moment: datetime) -> InspectionRecord:
    """A part as a line records it: 3% NG with one or two regions, 0.2% ERROR."""
    draw = rng.random()
    verdict = "ERROR" if draw < 0.002 else ("NG" if draw < 0.032 else "OK")
    score = None if verdict == "ERROR" else (3.0 + rng.random() if verdict == "NG" else 1.0 + rng.random())
    regions = None
    if verdict == "NG":
        regions = [{"x": rng.randrange(500), "y": rng.randrange(500), "w": rng.randrange(5, 60),
                    "h": rng.randrange(5, 60), "area": rng.randrange(20, 2000), "peak": round(3 + rng.random(), 4)}
                   for _ in range(rng.randint(1, 2))]
    return InspectionRecord(
        time=moment, image_path=f"/srv/camera/line3/{moment:%Y-%m-%d}/part_{number:08d}.png",
        file_size=250_000 + rng.randrange(20_000), sha256=f"{rng.getrandbits(256):064x}",
        model_sha256="9c1f" * 16, model_name="bottle-2026-02", threshold=2.85, score=score, verdict=verdict,
        error="cannot read 'part.png': truncated file" if verdict == "ERROR" else None,
        inspection_ms=None if verdict == "ERROR" else 38.0 + 12 * rng.random(), regions=regions)


def rows(count: int, seconds_apart: float, seed: int = 0) -> Iterator[List[Dict]]:
    rng = random.Random(seed)
    batch: List[Dict] = []
    for number in range(count):
        record = part(number, rng, START + timedelta(seconds=number * seconds_apart))
        values = {name: getattr(record, name) for name in record.__dataclass_fields__ if name != "time"}
        batch.append(dict(values, time_us=to_time_us(record.time), station="line3"))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def fill(store: InspectionStore, count: int, seconds_apart: float = 1.0) -> float:
    started = time.perf_counter()
    for batch in rows(count, seconds_apart):
        with store.engine.begin() as connection:
            connection.execute(inspections.insert(), batch)
    return time.perf_counter() - started


def measure_adds(store: InspectionStore, count: int) -> Dict[str, float]:
    rng = random.Random(1)
    records = [part(number, rng, datetime.now(timezone.utc) + timedelta(microseconds=number))
               for number in range(count)]
    times = []
    started = time.perf_counter()
    for record in records:
        before = time.perf_counter()
        store.add(record)
        times.append(1000 * (time.perf_counter() - before))
    total = time.perf_counter() - started
    return {"median_ms": statistics.median(times), "p95_ms": float(np.percentile(times, 95)),
            "records_per_s": count / total}


def store_size(store: InspectionStore, path: Optional[Path]) -> int:
    with store.engine.connect() as connection:
        if path is not None:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            return path.stat().st_size
        return int(connection.exec_driver_sql(
            "SELECT pg_total_relation_size('inspections') + pg_total_relation_size('model_changes')").scalar())


def time_summaries(store: InspectionStore, target: str, repeats: int = 3) -> Dict[str, float]:
    results = {}
    for by in (None, "hour", "day", "shift"):
        seconds = []
        for _ in range(repeats):
            started = time.perf_counter()
            summary = store.summary(by=by, shifts=SHIFTS)
            seconds.append(time.perf_counter() - started)
        results[f"summary {by or 'total'} s"] = statistics.median(seconds)
        results["parts"] = summary.total.count
    # a line restarted within a shift counts what its station recorded in the shift so far
    # (StoreRecorder.verdicts_since): the last 8 hours of the record
    newest = store.inspections(newest_first=True, limit=1)[0].record.time
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        store.summary(RecordFilter(since=newest - timedelta(hours=8), station="line3"))
        seconds.append(time.perf_counter() - started)
    results["shift so far s"] = statistics.median(seconds)
    # a line starting looks back at its station's newest 1,000 parts for a run of NG parts it goes on with
    # (StoreRecorder.newest_parts, which keeps its folder's): the query as it reads them, and with the folder in it
    results["look back s"] = _median_s(lambda: store.inspections(RecordFilter(station="line3"), limit=1000,
                                                                 newest_first=True), repeats)
    results["look back by path s"] = _median_s(lambda: store.inspections(
        RecordFilter(station="line3", part="/srv/camera/line3"), limit=1000, newest_first=True), repeats)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "patchcore_gui.program", "log", target, "--summary", "--by", "hour"],
                   check=True, capture_output=True, env=env)
    results["command s"] = time.perf_counter() - started
    wanted = f"PART_{2 * summary.total.count // 3:08d}"  # upper case: matched in any case
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        found = store.inspections(RecordFilter(part=wanted))
        seconds.append(time.perf_counter() - started)
    assert len(found) == 1, found
    results["part s"] = statistics.median(seconds)
    # one part; 10,000 parts; every part; a sha256's start
    results["part texts"] = (wanted, "part_0050", "PNG", found[0].record.sha256[:10])
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "patchcore_gui.program", "log", target, "--part", wanted],
                   check=True, capture_output=True, env=env)
    results["part command s"] = time.perf_counter() - started
    return results


def time_part_search(store: InspectionStore, texts: Tuple[str, ...], repeats: int = 3) -> Dict[str, float]:
    """As the History view lists them: the newest 2,000 of the parts whose path holds each text, and their count."""
    results = {}
    for text in texts:
        results[f"list {text}"] = _median_s(lambda: store.inspections(RecordFilter(part=text), limit=2000,
                                                                       newest_first=True), repeats)
        results[f"count {text}"] = _median_s(lambda: store.count(RecordFilter(part=text)), repeats)
    return results


def undo_version_6(store: InspectionStore) -> None:
    """The store as schema version 5 left it, to time the step to 6 on its parts (its indexes, made over them)."""
    with store.engine.begin() as connection:
        for statement in ("DROP INDEX inspections_sha256_start", "DROP INDEX IF EXISTS inspections_path_trigrams",
                          f"DROP TABLE IF EXISTS {PATH_SEARCH}", "UPDATE schema_version SET version = 5"):
            connection.exec_driver_sql(statement)
        if store.engine.dialect.name == "sqlite":  # (dropped with their table on SQLite: named here to be sure)
            for trigger in ("add", "remove", "move"):
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {PATH_SEARCH}_{trigger}")


def _median_s(action, repeats: int = 3) -> float:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def time_decisions(store: InspectionStore, share: float = 0.01) -> Dict[str, float]:
    results = {}

    def listing(absent: frozenset = frozenset()) -> None:
        with store.engine.connect() as connection:
            list(queries.iter_inspections(connection, RecordFilter(), 2000, newest_first=True, absent=absent))

    results["list s"] = _median_s(listing)
    results["list without the join s"] = _median_s(lambda: listing(frozenset({"decisions"})))
    with store.engine.connect() as connection:
        ids = [row[0] for row in connection.execute(sa.select(inspections.c.id).order_by(inspections.c.id))]
    rng = random.Random(2)
    chosen = rng.sample(ids, int(share * len(ids)))
    times = []
    for inspection_id in chosen[:200]:
        started = time.perf_counter()
        store.decide(inspection_id, rng.choice(("OK", "NG")), "A. Meyer", "looked at")
        times.append(1000 * (time.perf_counter() - started))
    results["decide median ms"] = statistics.median(times)
    moment = to_time_us(datetime.now(timezone.utc))
    rest = [dict(time_us=moment + number, station="bench", inspection_id=inspection_id,
                 verdict=rng.choice(("OK", "NG")), person="A. Meyer", note="")
            for number, inspection_id in enumerate(chosen[200:])]
    if rest:  # a small store's 1% is decided one by one above
        with store.engine.begin() as connection:
            connection.execute(decisions.insert(), rest)
    results["decided"] = len(chosen)
    results["list after s"] = _median_s(listing)
    for by in (None, "hour"):
        results[f"summary {by or 'total'} after s"] = _median_s(lambda: store.summary(by=by))
    results["undecided NG count s"] = _median_s(lambda: store.count(RecordFilter(verdict="NG", undecided=True)))
    # the rejects people passed: the newest 2,000 listed, and counted
    passed = RecordFilter(verdict="NG", decided="OK")
    results["decided OK list s"] = _median_s(lambda: store.inspections(passed, limit=2000, newest_first=True))
    results["decided OK count s"] = _median_s(lambda: store.count(passed))
    # what a running line does every 2 s: the newest decision's id at its start, then the decisions after one
    newest = store.newest_decision_id()
    results["newest decision id s"] = _median_s(store.newest_decision_id)
    results["decisions after s"] = _median_s(lambda: store.decisions_after(newest - 5))
    return results


def bench(name: str, target: str, path: Optional[Path], args: argparse.Namespace) -> None:
    print(f"\n== {name}")
    with open_store(target, "bench") as store:
        adds = measure_adds(store, args.adds)
        print(f"recording one part per commit ({args.adds} parts): median {adds['median_ms']:.2f} ms, "
              f"p95 {adds['p95_ms']:.2f} ms, {adds['records_per_s']:.0f} records/s sustained")
    if path is not None:  # what synchronous=FULL costs: the same with NORMAL (not durable on power loss)
        normal_target, _ = new_target(name, "adds-normal", args)
        with open_store(normal_target, "bench") as store:
            store.engine.dispose()
            sa.event.listen(store.engine, "connect",
                            lambda connection, _record: connection.execute("PRAGMA synchronous=NORMAL"))
            normal = measure_adds(store, args.adds)
        print(f"  the same with synchronous=NORMAL (not used): median {normal['median_ms']:.2f} ms, "
              f"p95 {normal['p95_ms']:.2f} ms, {normal['records_per_s']:.0f} records/s")
    size_target, size_path = new_target(name, "size", args)
    with open_store(size_target, "bench") as store:
        fill(store, 100_000)
        print(f"size per 100,000 parts: {store_size(store, size_path) / 1e6:.1f} MB")
    summary_target, _ = new_target(name, "summary", args)
    with open_store(summary_target, "bench") as store:
        seconds = fill(store, args.parts)
        print(f"wrote {args.parts:,} parts in batches in {seconds:.0f} s")
        timed = time_summaries(store, summary_target)
        decided = time_decisions(store)
        searched = time_part_search(store, timed["part texts"])
        undo_version_6(store)
        store.absent_columns |= {PATH_SEARCH}
        searched_before = time_part_search(store, timed["part texts"])
    upgraded = _median_s(lambda: open_store(summary_target, "bench").close(), repeats=1)
    print(f"summary over {timed['parts']:,} parts: total {timed['summary total s']:.2f} s, per hour "
          f"{timed['summary hour s']:.2f} s, per day {timed['summary day s']:.2f} s, per shift "
          f"{timed['summary shift s']:.2f} s (median of 3); "
          f"`patchcore log --summary --by hour` command {timed['command s']:.2f} s")
    print(f"the station's last 8 hours (what a line restarted within a shift counts): {timed['shift so far s']:.3f} s")
    print(f"a line's start looking back at its station's newest 1,000 parts for a run of NG parts: "
          f"{1000 * timed['look back s']:.0f} ms (with its folder in the query, not used: "
          f"{1000 * timed['look back by path s']:.0f} ms)")
    print(f"one part found by its file name: {timed['part s']:.3f} s (median of 3); "
          f"`patchcore log --part` command {timed['part command s']:.2f} s")
    for text in timed["part texts"]:
        print(f"  the parts whose path holds {text!r}: newest 2,000 listed {1000 * searched[f'list {text}']:.1f} ms "
              f"({1000 * searched_before[f'list {text}']:.1f} ms without version 6's indexes), counted "
              f"{1000 * searched[f'count {text}']:.1f} ms ({1000 * searched_before[f'count {text}']:.1f} ms)")
    print(f"  the store upgraded from schema version 5 to 6 (the part search's indexes made): {upgraded:.1f} s")
    print(f"the newest 2,000 parts listed with their decisions: {1000 * decided['list s']:.0f} ms (without the "
          f"join {1000 * decided['list without the join s']:.0f} ms); {decided['decided']:,.0f} parts decided "
          f"(one decision recorded: median {decided['decide median ms']:.2f} ms); then listed "
          f"{1000 * decided['list after s']:.0f} ms, summary total {decided['summary total after s']:.2f} s, per "
          f"hour {decided['summary hour after s']:.2f} s, the NG parts nobody decided counted "
          f"{decided['undecided NG count s']:.2f} s; the NG parts decided OK listed "
          f"{1000 * decided['decided OK list s']:.0f} ms, counted {1000 * decided['decided OK count s']:.0f} ms")
    print(f"a running line's look for decisions on its parts (every 2 s): the newest decision's id "
          f"{1000 * decided['newest decision id s']:.2f} ms, the newest 5 decisions with their parts "
          f"{1000 * decided['decisions after s']:.2f} ms")


_TARGETS: Dict[str, object] = {}


def new_target(name: str, purpose: str, args: argparse.Namespace):
    """A fresh empty store of the kind ``name``: an SQLite path, or a new PostgreSQL database."""
    if name == "SQLite":
        path = Path(args.folder) / f"{purpose}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return str(path), path
    server = _TARGETS["postgresql"]
    return server.new_database(), None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", help="where the SQLite stores go (default: a temp folder)")
    parser.add_argument("--adds", type=int, default=2000)
    parser.add_argument("--parts", type=int, default=1_000_000)
    parser.add_argument("--postgresql", help="URL of a server whose user may CREATE DATABASE")
    parser.add_argument("--no-postgresql", action="store_true")
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory(prefix="bench-record-", dir=args.folder) if not args.folder else None
    args.folder = args.folder or folder.name
    print(f"SQLite stores in {args.folder}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    target, path = new_target("SQLite", "adds", args)
    bench("SQLite", target, path, args)
    if args.no_postgresql:
        return
    sys.path.insert(0, str(ROOT / "tests" / "record"))
    from pg_server import PG_SKIP_REASON, PostgresServer, pg_bin  # noqa: E402
    if args.postgresql:
        _TARGETS["postgresql"] = _ExistingServer(args.postgresql)
    else:
        bin_dir = pg_bin()
        if bin_dir is None:
            print(f"\nPostgreSQL skipped: {PG_SKIP_REASON}")
            return
        _TARGETS["postgresql"] = PostgresServer(bin_dir)
    try:
        bench("PostgreSQL", _TARGETS["postgresql"].new_database(), None, args)
    finally:
        close = getattr(_TARGETS["postgresql"], "close", None)
        if close:
            close()
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


class _ExistingServer:
    """A server given by URL: each measurement gets a new database on it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.count = 0

    def new_database(self) -> str:
        self.count += 1
        name = f"patchcore_bench_{os.getpid()}_{self.count}"
        engine = sa.create_engine(self.url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        engine.dispose()
        return str(sa.make_url(self.url).set(database=name).render_as_string(hide_password=False))


if __name__ == "__main__":
    main()
