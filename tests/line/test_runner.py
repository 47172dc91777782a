"""The line with the session's tiny model: results in order, ERROR without stopping, store outages, resume."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import List

import pytest
import torch

from patchcore_gui.core import read_image
from patchcore_gui.line import InspectionLine, OverlayWriter, PartResult, PartSorter, RecordingFailed
from patchcore_gui.line.runner import SessionMemory

from ..core.test_images import write_twelve_bit
from .conftest import FAST, drop


class FlakyStore(SessionMemory):
    """A recorder whose store goes away for ``outage`` attempts after ``fine`` records."""

    def __init__(self, fine: int = 10**9, outage: int = 0) -> None:
        super().__init__()
        self.fine, self.outage = fine, outage
        self.added: List[PartResult] = []

    def add(self, result: PartResult) -> object:
        if len(self.added) >= self.fine and self.outage > 0:
            self.outage -= 1
            raise RecordingFailed("database is locked")
        self.added.append(result)
        return super().add(result)


class Audited(SessionMemory):
    """Remembers the audit trail's entries the line makes, as ``(kind, detail)``."""

    def __init__(self) -> None:
        super().__init__()
        self.changes: List[tuple] = []

    def record_change(self, kind: str, threshold: float, detail: str = "") -> None:
        self.changes.append((kind, detail))


def camera(tmp_path: Path) -> Path:
    folder = tmp_path / "camera"
    folder.mkdir()
    return folder


def test_parts_are_inspected_in_order_recorded_sorted_and_ng_drawn(tmp_path, inspector, synthetic_set, run_line):
    folder, store = camera(tmp_path), FlakyStore()
    line = InspectionLine(inspector, folder, store, PartSorter(tmp_path / "sorted", move=True),
                          OverlayWriter(tmp_path / "overlays"), FAST)
    running = run_line(line)
    sources = synthetic_set.test_good[:3] + synthetic_set.test_defective[:3]
    names = [f"part{index:02d}.png" for index in range(len(sources))]
    for source, name in zip(sources, names):
        drop(source, folder, name)
    results = running.wait_for(6)
    running.stop()
    assert [r.path.name for r in results] == names
    assert [r.verdict for r in results] == ["OK"] * 3 + ["NG"] * 3
    assert [r.path.name for r in store.added] == names
    day = datetime.now().astimezone().strftime("%Y-%m-%d")
    assert sorted(p.name for p in (tmp_path / "sorted" / day / "OK").iterdir()) == names[:3]
    assert sorted(p.name for p in (tmp_path / "sorted" / day / "NG").iterdir()) == names[3:]
    assert not list(folder.glob("*.png"))
    assert sorted(p.name for p in (tmp_path / "overlays" / day).iterdir()) == [f"{n[:-4]}_overlay.png" for n in names[3:]]
    # the image the overlay was drawn on goes with the result, so that a window need not read it again
    assert [r.pixels is not None for r in results] == [False] * 3 + [True] * 3
    assert all((r.pixels == read_image(source)).all() for r, source in zip(results[3:], sources[3:]))
    assert all(r.recorded_at >= r.complete_at for r in results)
    snapshot = line.snapshot()
    assert (snapshot.inspected, snapshot.ok, snapshot.ng, snapshot.errors, snapshot.backlog) == (6, 3, 3, 0, 0)


def test_parts_from_subfolders_are_sorted_into_the_same_subfolders(tmp_path, inspector, synthetic_set, run_line):
    """A camera's batch folders hold parts of the same name: each keeps its batch under the verdict."""
    folder, store = camera(tmp_path), FlakyStore()
    settings = replace(FAST, arrival=replace(FAST.arrival, subfolders=True))
    line = InspectionLine(inspector, folder, store, PartSorter(tmp_path / "sorted", move=True),
                          OverlayWriter(tmp_path / "overlays"), settings)
    running = run_line(line)
    for batch, source in (("batch-1", synthetic_set.test_good[0]), ("batch-2", synthetic_set.test_defective[0])):
        (folder / batch).mkdir()
        drop(source, folder / batch, "part.png")
    results = running.wait_for(2)
    running.stop()
    day = datetime.now().astimezone().strftime("%Y-%m-%d")
    assert sorted((r.verdict, r.sorted_to) for r in results) == [
        ("NG", tmp_path / "sorted" / day / "NG" / "batch-2" / "part.png"),
        ("OK", tmp_path / "sorted" / day / "OK" / "batch-1" / "part.png")]
    assert all(r.sorted_to.is_file() for r in results)
    assert [p.relative_to(tmp_path / "overlays" / day) for p in (tmp_path / "overlays" / day).rglob("*.png")] == [
        Path("batch-2") / "part_overlay.png"]


def test_unreadable_deleted_and_replaced_parts_are_errors_and_the_line_goes_on(tmp_path, inspector, synthetic_set,
                                                                             run_line):
    folder, store = camera(tmp_path), FlakyStore()
    line = InspectionLine(inspector, folder, store, PartSorter(tmp_path / "sorted"), settings=FAST)
    running = run_line(line)
    line.pause()
    drop(synthetic_set.test_good[0], folder, "a_deleted.png")
    drop(synthetic_set.test_good[1], folder, "b_replaced.png")
    (folder / "c_damaged.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40 + b"IEND\xaeB`\x82")
    drop(synthetic_set.test_good[2], folder, "d_fine.png")
    running.wait_until(lambda: line.snapshot().backlog == 4)
    assert line.snapshot().oldest_waiting_s > 0
    (folder / "a_deleted.png").unlink()
    drop(synthetic_set.test_defective[0], folder, "b_replaced.png")  # another part under the same name
    line.resume()
    results = running.wait_for(5)
    running.stop()
    got = [(r.path.name, r.verdict) for r in results]
    assert got == [("a_deleted.png", "ERROR"), ("b_replaced.png", "ERROR"), ("c_damaged.png", "ERROR"),
                   ("d_fine.png", "OK"), ("b_replaced.png", "NG")]
    assert results[0].error == "'a_deleted.png' was deleted before its turn"
    assert results[1].error.startswith("'b_replaced.png' was replaced before its turn")
    assert results[2].error.startswith("cannot read 'c_damaged.png'")
    day = datetime.now().astimezone().strftime("%Y-%m-%d")
    assert [p.name for p in (tmp_path / "sorted" / day / "ERROR").iterdir()] == ["c_damaged.png"]
    assert len(store.added) == 5


def test_the_line_waits_while_the_store_is_away_and_loses_nothing(tmp_path, inspector, synthetic_set, run_line):
    folder, store = camera(tmp_path), FlakyStore(fine=1, outage=4)
    running = run_line(InspectionLine(inspector, folder, store, settings=FAST))
    for index in range(3):
        drop(synthetic_set.test_good[index], folder, f"p{index}.png")
    running.wait_for(3)
    running.stop()
    assert [r.path.name for r in store.added] == ["p0.png", "p1.png", "p2.png"]
    assert sum("cannot record 'p1.png': database is locked" in n for n in running.notices) == 4
    assert "the store is back: recording again" in running.notices


def test_a_part_already_recorded_is_not_inspected_again_and_a_stopped_move_is_finished(tmp_path, inspector,
                                                                                       synthetic_set, run_line):
    folder, store = camera(tmp_path), FlakyStore()
    first = InspectionLine(inspector, folder, store, settings=FAST)  # records, sorts nothing: as if killed before
    running = run_line(first)
    drop(synthetic_set.test_defective[0], folder, "p0.png")
    running.wait_for(1)
    running.stop()
    drop(synthetic_set.test_good[0], folder, "p1.png")  # arrived while the line was down
    second = InspectionLine(inspector, folder, store, PartSorter(tmp_path / "sorted", move=True), settings=FAST)
    running = run_line(second)
    results = running.wait_for(2)
    running.stop()
    assert [(r.path.name, r.already_recorded) for r in results] == [("p0.png", True), ("p1.png", False)]
    assert [r.path.name for r in store.added] == ["p0.png", "p1.png"]
    assert results[0].sorted_to is not None and results[0].sorted_to.parent.name == "NG"
    assert second.snapshot().already_recorded == 1 and second.snapshot().inspected == 1


@pytest.mark.parametrize("inspectors", [1, 2])
def test_stop_finishes_the_parts_in_hand(tmp_path, inspector, synthetic_set, run_line, inspectors):
    folder, store = camera(tmp_path), FlakyStore()
    line = InspectionLine(inspector, folder, store, settings=replace(FAST, inspectors=inspectors))
    seen: List[str] = []
    original = line._conclude

    def conclude_then_stop(result, on_result, on_notice):
        original(result, on_result, on_notice)
        seen.append(result.path.name)
        line.stop()  # a stop that comes while a batch is in hand

    line._conclude = conclude_then_stop  # type: ignore[method-assign]
    line.pause()
    running = run_line(line)
    for index in range(4):
        drop(synthetic_set.test_good[index % 3], folder, f"p{index}.png")
    running.wait_until(lambda: line.snapshot().backlog == 4)
    line.resume()
    running.thread.join(timeout=60)
    names = ["p0.png", "p1.png", "p2.png", "p3.png"]
    if inspectors == 1:
        assert seen == names  # one batch of 4 in hand: all recorded
    else:  # a part in hand per inspection thread, and those taken when one was done before the stop came
        assert len(seen) >= 2 and seen == names[:len(seen)]
    assert [r.path.name for r in store.added] == seen
    assert line.snapshot().backlog == 4 - len(seen)  # the rest still waits, for the next start


def test_a_missing_folder_is_one_line(tmp_path, inspector):
    line = InspectionLine(inspector, tmp_path / "nowhere", settings=FAST)
    with pytest.raises(Exception, match="folder '.*nowhere' does not exist or is not a folder"):
        line.run()


def test_with_a_review_band_doubtful_parts_are_sorted_counted_and_recorded_as_review(tmp_path, inspector,
                                                                                     synthetic_set, run_line):
    from patchcore_gui.core.model_file import save_model
    from patchcore_gui.line.recording import StoreRecorder
    from patchcore_gui.record import RecordFilter, open_store

    sources = synthetic_set.test_good[:3] + synthetic_set.test_defective[:2]
    scores = [r.inspection.score for r in inspector.inspect_paths(sources)]
    good, bad = sorted(scores[:3]), sorted(scores[3:])
    threshold = (good[-1] + bad[0]) / 2
    review_from = (good[-2] + good[-1]) / 2  # the worst good part goes to a person, the others pass
    model_path = save_model(inspector.model, tmp_path / "m.patchcore")
    recorder = StoreRecorder.open(str(tmp_path / "line.sqlite"), "line5", model_path, threshold, review_from)
    folder = camera(tmp_path)
    line = InspectionLine(inspector, folder, recorder, PartSorter(tmp_path / "sorted"), settings=FAST)
    line.set_threshold(threshold, review_from)
    running = run_line(line)
    names = [f"part{index:02d}.png" for index in range(len(sources))]
    for source, name in zip(sources, names):
        drop(source, folder, name)
    results = running.wait_for(5)
    running.stop()
    recorder.close()
    expected = ["REVIEW" if s > review_from and s <= threshold else ("NG" if s > threshold else "OK") for s in scores]
    assert expected.count("REVIEW") == 1 and expected.count("NG") == 2
    assert [r.verdict for r in results] == expected
    day = datetime.now().astimezone().strftime("%Y-%m-%d")
    assert [p.name for p in (tmp_path / "sorted" / day / "REVIEW").iterdir()] == [names[expected.index("REVIEW")]]
    snapshot = line.snapshot()
    assert (snapshot.ok, snapshot.review, snapshot.ng) == (2, 1, 2) and "REVIEW 1" in snapshot.line()
    with open_store(tmp_path / "line.sqlite", "reader") as store:
        (stored,) = store.inspections(RecordFilter(verdict="REVIEW"))
        assert stored.record.review_from == pytest.approx(review_from)
        assert stored.record.image_path.endswith(names[expected.index("REVIEW")])
def test_the_line_judges_by_the_minimum_defect_area_and_records_the_regions(tmp_path, fitted, backbone, synthetic_set,
                                                                            run_line):
    """A line on a model whose minimum area is just above a defective part's largest region passes that
    part; its regions go into the store with it."""
    from patchcore_gui.core import Inspector, read_image
    from patchcore_gui.line.recording import StoreRecorder
    from patchcore_gui.record import open_store
    from patchcore_gui.core.model_file import save_model

    part = synthetic_set.test_defective[0]
    plain = Inspector(fitted.model, backbone=backbone)
    largest = plain.inspect(read_image(part)).defect_regions(fitted.model).largest_area
    assert largest > 0
    model = fitted.model.with_defect_size(largest + 1)
    model_path = save_model(model, tmp_path / "speck.patchcore")
    store = StoreRecorder.open(str(tmp_path / "line.sqlite"), "line3", model_path, model.threshold,
                               min_defect_area=model.min_defect_area)
    folder = camera(tmp_path)
    running = run_line(InspectionLine(Inspector(model, backbone=backbone), folder, store, settings=FAST))
    drop(part, folder, "speck.png")
    drop(synthetic_set.test_defective[1], folder, "other.png")
    results = running.wait_for(2)
    running.stop()
    store.close()
    by_name = {result.path.name: result for result in results}
    speck = by_name["speck.png"]
    assert speck.score > model.threshold and speck.verdict == "OK" and max(r.area for r in speck.regions) == largest
    assert speck.min_defect_area == largest + 1 and "region" in speck.line()
    with open_store(tmp_path / "line.sqlite", "reader") as reader:
        recorded = {Path(stored.record.image_path).name: stored.record for stored in reader.inspections()}
    assert recorded["speck.png"].verdict == "OK"
    assert [region["area"] for region in recorded["speck.png"].regions] == [r.area for r in speck.regions]
    other = by_name["other.png"]
    assert recorded["other.png"].verdict == other.verdict
    assert len(recorded["other.png"].regions) == len(other.regions)


class ThreadNoting:
    """The session's inspector, noting which thread inspected each batch."""

    def __init__(self, inspector) -> None:
        self.inspector, self.model, self.threads = inspector, inspector.model, set()

    def inspect_paths(self, paths):
        self.threads.add(threading.current_thread().name)
        time.sleep(0.05)  # long enough that a backlog is shared out, not taken by whichever thread is first
        return self.inspector.inspect_paths(paths)


def test_parts_inspected_side_by_side_are_recorded_in_arrival_order_and_threads_given_back(
        tmp_path, inspector, synthetic_set, run_line):
    folder, store = camera(tmp_path), FlakyStore()
    noting = ThreadNoting(inspector)
    threads_before = torch.get_num_threads()
    line = InspectionLine(noting, folder, store, settings=replace(FAST, inspectors=3, most_per_batch=2))
    running = run_line(line)
    line.pause()
    sources = (synthetic_set.test_good[:4] + synthetic_set.test_defective[:4]) * 2
    names = [f"part{index:02d}.png" for index in range(len(sources))]
    for source, name in zip(sources, names):
        drop(source, folder, name)
        if name == "part05.png":
            (folder / "part05b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40 + b"IEND\xaeB`\x82")
    running.wait_until(lambda: line.snapshot().backlog == len(names) + 1)
    line.resume()
    results = running.wait_for(len(names) + 1)
    running.stop()
    expected = names[:6] + ["part05b.png"] + names[6:]
    assert [r.path.name for r in results] == expected
    assert [r.path.name for r in store.added] == expected
    verdicts = {r.path.name: r.verdict for r in results}
    assert verdicts.pop("part05b.png") == "ERROR"
    assert [verdicts[n] for n in names] == (["OK"] * 4 + ["NG"] * 4) * 2
    assert len(noting.threads) > 1, noting.threads
    assert torch.get_num_threads() == threads_before


def test_a_twelve_bit_cameras_line_judges_and_draws_its_parts_as_their_eight_bit_copies(tmp_path, fitted, backbone,
                                                                                       synthetic_set, run_line):
    """The line's parts are read with the model's sample depth: a 12-bit camera's NG part scores as its 8-bit
    copy, and the overlay is drawn on the part as it looks (not on a black square)."""
    from patchcore_gui.core import Inspector

    model = replace(fitted.model, preprocessing=replace(fitted.model.preprocessing, sample_bits=12))
    source = synthetic_set.test_defective[0]
    pixels = read_image(source)
    staged = tmp_path / "part12.png"
    write_twelve_bit(pixels, staged)
    folder = camera(tmp_path)
    running = run_line(InspectionLine(Inspector(model, backbone=backbone), folder, FlakyStore(),
                                      overlays=OverlayWriter(tmp_path / "overlays"), settings=FAST))
    drop(staged, folder, "part.png")
    [result] = running.wait_for(1)
    running.stop()
    assert result.verdict == "NG"
    assert result.score == pytest.approx(Inspector(fitted.model, backbone=backbone).inspect(pixels).score, rel=1e-6)
    assert result.pixels is not None and (result.pixels == pixels).all()


def test_parts_in_a_row_unlike_the_good_parts_are_said_once_shown_and_said_over(tmp_path, inspector, synthetic_set,
                                                                                 run_line):
    import numpy as np
    from PIL import Image

    from patchcore_gui.line.unlike_parts import UNLIKE_IN_A_ROW

    folder = camera(tmp_path)
    rng = np.random.default_rng(0)
    other_product = []  # fine texture where the parts have a smooth disc, at the parts' size
    for index in range(UNLIKE_IN_A_ROW + 1):
        path = tmp_path / f"other{index}.png"
        Image.fromarray(rng.integers(0, 256, (192, 192, 3), dtype=np.uint8)).save(path)
        other_product.append(path)
    store = Audited()
    line = InspectionLine(inspector, folder, store, settings=FAST)
    running = run_line(line)
    # a defective part of the right product first: it breaks no run and starts none
    drop(synthetic_set.test_defective[0], folder, "part00.png")
    running.wait_for(1)
    for index, source in enumerate(other_product[:UNLIKE_IN_A_ROW - 1]):
        drop(source, folder, f"part{index + 1:02d}.png")
    running.wait_for(UNLIKE_IN_A_ROW)
    assert not [n for n in running.notices if "look like" in n] and line.snapshot().unlike_parts == ""
    for index, source in enumerate(other_product[UNLIKE_IN_A_ROW - 1:]):
        drop(source, folder, f"part{UNLIKE_IN_A_ROW + index:02d}.png")
    running.wait_for(UNLIKE_IN_A_ROW + 2)
    snapshot = line.snapshot()
    assert snapshot.unlike_in_a_row == UNLIKE_IN_A_ROW + 1
    assert snapshot.unlike_parts.startswith("Parts in a row since ")  # its count in the summary, not its words
    assert "do not look like the good parts this model was built from (" in snapshot.unlike_parts
    assert "unlike any good part almost all over" in snapshot.unlike_parts
    assert snapshot.line().endswith(f"; {UNLIKE_IN_A_ROW + 1} parts in a row unlike the good parts")
    warnings = [n for n in running.notices if "do not look like" in n]
    assert len(warnings) == 1 and warnings[0].startswith(f"warning: {UNLIKE_IN_A_ROW} parts in a row since ")
    drop(synthetic_set.test_good[0], folder, "part99.png")
    results = running.wait_for(UNLIKE_IN_A_ROW + 3)
    running.stop()
    assert [r.verdict for r in results] == ["NG"] * (UNLIKE_IN_A_ROW + 2) + ["OK"]  # judged by their scores
    assert running.notices[-1] == f"the parts look like the good parts again, after {UNLIKE_IN_A_ROW + 1} in a row " \
                                  "that did not"
    assert line.snapshot().unlike_parts == "" and line.snapshot().unlike_in_a_row == 0
    # quality asking weeks later why an hour was all NG finds both moments in the audit trail
    # (the defective part and the first unlike ones made a run of NG parts a part earlier: said, and ended too)
    assert [kind for kind, _ in store.changes] == [
        "NG parts in a row", "parts unlike the good parts", "an OK part after NG parts in a row",
        "parts like the good parts again"]
    assert store.changes[1][1] == warnings[0][len("warning: "):]
    assert store.changes[3][1] == f"after {UNLIKE_IN_A_ROW + 1} in a row that did not"


def test_ng_parts_in_a_row_are_warned_of_once_shown_and_said_over_at_the_first_ok_part(
        tmp_path, inspector, synthetic_set, run_line):
    folder = camera(tmp_path)
    store = Audited()
    line = InspectionLine(inspector, folder, store, settings=replace(FAST, ng_in_a_row=3))
    running = run_line(line)
    defective = synthetic_set.test_defective
    for index, source in enumerate([defective[0], defective[1], synthetic_set.test_good[0]]):  # two: a stray pair
        drop(source, folder, f"part{index:02d}.png")
        running.wait_for(index + 1)
    for index, source in enumerate(defective[2:6]):
        drop(source, folder, f"part{3 + index:02d}.png")
        running.wait_for(4 + index)
    snapshot = line.snapshot()
    assert snapshot.ng_in_a_row == 4 and snapshot.unlike_parts == ""  # parts of this product, with defects
    assert snapshot.ng_run.startswith("NG parts in a row since ")
    assert snapshot.line().endswith("; 4 NG in a row")
    warnings = [n for n in running.notices if "NG parts in a row" in n]
    assert len(warnings) == 1 and warnings[0].startswith("warning: 3 NG parts in a row since ")
    assert warnings[0].endswith("the newest part05.png: look at these parts and at what makes them")
    drop(synthetic_set.test_good[1], folder, "part07.png")
    results = running.wait_for(8)
    running.stop()
    assert [r.verdict for r in results] == ["NG", "NG", "OK"] + ["NG"] * 4 + ["OK"]
    assert running.notices[-1] == "an OK part again, after 4 NG parts in a row"
    assert line.snapshot().ng_run == "" and line.snapshot().ng_in_a_row == 0
    # quality asking why a bin filled finds when the run began and ended
    assert store.changes == [("NG parts in a row", warnings[0][len("warning: "):]),
                             ("an OK part after NG parts in a row", "after 4 NG parts in a row")]


def test_a_line_restarted_in_a_run_of_ng_parts_goes_on_with_it_and_records_its_start_and_end_once(
        tmp_path, inspector, synthetic_set, run_line):
    from patchcore_gui.core.model_file import save_model
    from patchcore_gui.line.ng_in_a_row import NG_RUN_BEGAN, NG_RUN_ENDED
    from patchcore_gui.line.recording import StoreRecorder
    from patchcore_gui.record import open_store

    model_path = save_model(inspector.model, tmp_path / "m.patchcore")
    folder = camera(tmp_path)
    elsewhere = tmp_path / "camera-2"  # the station's other folder, whose name begins with this one's
    elsewhere.mkdir()
    good, defective = synthetic_set.test_good, synthetic_set.test_defective
    dropped = 0

    def run(parts, where=folder):
        nonlocal dropped
        recorder = StoreRecorder.open(str(tmp_path / "line.sqlite"), "line3", model_path, inspector.model.threshold)
        line = InspectionLine(inspector, where, recorder, settings=replace(FAST, ng_in_a_row=3))
        running = run_line(line)
        for index, source in enumerate(parts):
            drop(source, where, f"part{dropped:02d}.png")
            dropped += 1
            running.wait_for(index + 1)
        running.stop()
        recorder.close()
        return running, line

    run([good[0], defective[0], defective[1]])  # restarted after two NG parts in a row
    run([defective[2], defective[3]], where=elsewhere)  # not this folder's parts: neither counts nor ends the run
    first, _ = run([defective[4]])
    assert [n for n in first.notices if "in a row" in n] == [first.notices[-1]]
    assert first.notices[-1].startswith("warning: 3 NG parts in a row since ")
    # the next start shows the run said before, and says so once more: not a second start in the audit trail
    second, line = run([])
    said = [n for n in second.notices if "in a row" in n]
    assert len(said) == 1 and said[0].endswith("(recorded before this start)")
    assert said[0].startswith("warning: 3 NG parts in a row since ") and line.snapshot().ng_in_a_row == 3
    assert line.snapshot().ng_run.startswith("NG parts in a row since ")
    third, line = run([good[1]])
    assert third.notices[-1] == "an OK part again, after 3 NG parts in a row" and line.snapshot().ng_in_a_row == 0
    with open_store(tmp_path / "line.sqlite", "reader") as store:
        kinds = [change.kind for change in store.model_changes() if "in a row" in change.kind]
    assert kinds == [NG_RUN_BEGAN, NG_RUN_ENDED]
    fourth, line = run([])
    assert not [n for n in fourth.notices if "in a row" in n] and line.snapshot().ng_in_a_row == 0
