"""The window's defect regions: the shown part's list, a region selected in the view, the rows measured
again as the threshold moves, and the minimum defect area judged, exported, recorded and saved."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from patchcore_gui.core.images import read_image
from patchcore_gui.core.model_file import load_model
from patchcore_gui.core.regions import DefectRegion
from patchcore_gui.gui.main_window import MainWindow
from patchcore_gui.gui.regions_panel import VISIBLE_ROWS
from patchcore_gui.gui.results_model import ITEM_ROLE
from patchcore_gui.record import open_store

from .conftest import JOB_TIMEOUT_MS, inspect_and_wait


def shown_row(window: MainWindow, path: Path) -> int:
    proxy = window.results_panel.proxy
    for row in range(proxy.rowCount()):
        if proxy.index(row, 0).data(ITEM_ROLE).path == path:
            return row
    raise AssertionError(f"{path} is not listed")


def settled(qtbot, window: MainWindow) -> None:
    """Wait until every row's regions are measured at the current threshold."""
    qtbot.waitUntil(lambda: not window.region_refresher.busy and not window.results.stale_rows(),
                    timeout=JOB_TIMEOUT_MS)


def test_the_shown_parts_regions_are_listed_and_a_selected_one_is_zoomed_to(qtbot, model_window, synthetic_set):
    defective = synthetic_set.test_defective[0]
    inspect_and_wait(qtbot, model_window, [synthetic_set.test_good[0], defective])
    model_window.results_panel.select_row(shown_row(model_window, defective))
    panel = model_window.side_panel.regions_panel
    model = model_window.model
    expected = model_window.shown._inspection.defect_regions(model).regions
    assert expected and panel.regions == expected  # the list is the core's regions, largest first
    assert panel.table.rowCount() == len(expected)
    assert panel.table.item(0, 1).text() == f"{expected[0].area} px"
    assert "above the threshold" in panel.summary.text()

    view = model_window.inspection_panel.view
    view.fit_to_view()
    (fx0, fx1), (fy0, fy1) = view.view_box.viewRange()
    panel.select(0)
    region = expected[0]
    assert view.region_box.isVisible()
    box = view.region_box.rect()
    assert (box.x(), box.y(), box.width(), box.height()) == (region.x, region.y, region.width, region.height)
    (x0, x1), (y0, y1) = view.view_box.viewRange()
    assert x0 <= region.x and region.x + region.width <= x1 and y0 <= region.y and region.y + region.height <= y1
    assert (x1 - x0) * (y1 - y0) < 0.8 * (fx1 - fx0) * (fy1 - fy0)  # zoomed in, on it
    panel.select(None)
    assert not view.region_box.isVisible()

    # the regions follow the threshold: above every map value there is none, and the list says so
    model_window.document.set_threshold(model_window.shown.item.score * 10)
    assert panel.regions == () and panel.summary.text() == "No region above the threshold"
    model_window.results_panel.select_row(shown_row(model_window, synthetic_set.test_good[0]))
    assert panel.table.rowCount() == len(model_window.shown.regions.regions)


def test_the_rows_follow_the_threshold_off_the_ui_thread_and_the_minimum_area_decides(qtbot, model_window,
                                                                                        synthetic_set, tmp_path):
    parts = synthetic_set.test_good + synthetic_set.test_defective
    inspect_and_wait(qtbot, model_window, parts)
    settled(qtbot, model_window)
    document, results = model_window.document, model_window.results
    items = results.items()
    assert all(item.regions_for(document.threshold) is not None for item in items)

    # a lower threshold: regions grow; the list measures them again, on another thread
    lower = document.threshold * 0.9
    document.set_threshold(lower)
    assert results.stale_rows()  # not measured on the UI thread
    settled(qtbot, model_window)
    model = document.model
    for item in results.items():
        expected = item.inspection(model).defect_regions(model).regions
        assert item.regions_for(lower) == expected

    # a minimum area between the NG parts' largest regions: exactly the parts with a larger region stay NG
    ng_by_score = [item for item in results.items() if item.score > lower]
    sizes = sorted(item.largest_region(lower) for item in ng_by_score)
    assert len(ng_by_score) >= 5 and sizes[0] < sizes[-1]
    minimum = sizes[len(sizes) // 2]
    control = model_window.side_panel.defect_size_control
    control.area.setValue(minimum)
    assert document.model.min_defect_area == minimum and document.dirty
    expected_ng = sum(item.largest_region(lower) >= minimum for item in ng_by_score)
    assert results.counts()["NG"] == expected_ng < len(ng_by_score)
    counts = model_window.side_panel.verdict_panel.counts.text().replace("</b> ", " ").replace("<b>", "")
    assert f"NG {expected_ng}" in counts

    # the CSV says the same, with the regions
    table = tmp_path / "results.csv"
    assert model_window.export_csv(table)
    rows = {r["file"]: r for r in csv.DictReader(table.open())}
    assert sum(r["verdict"] == "NG" for r in rows.values()) == expected_ng
    assert {r["min_defect_area_px"] for r in rows.values()} == {f"{minimum:g}"}
    assert all(r["region_count"] != "" for r in rows.values())

    # in mm² once a pixel size is given: the minimum in pixels stays, its reading changes
    control.pixel_size.setValue(0.05)
    control.unit.setCurrentIndex(1)
    assert control.area.value() == pytest.approx(minimum * 0.05 ** 2, abs=1e-3)
    control.area.setValue(round((minimum + 1) * 0.0025, 3))
    assert document.model.min_defect_area == pytest.approx((minimum + 1), rel=0.01)

    # saved with the model, and its change is in the audit trail
    assert model_window.save_model_to(tmp_path / "speck.patchcore")
    saved = load_model(tmp_path / "speck.patchcore")
    assert saved.min_defect_area == document.model.min_defect_area and saved.pixel_size_mm == 0.05
    qtbot.waitUntil(lambda: any(c.kind == "minimum defect area set" for c in _changes(model_window)), timeout=10_000)


def test_the_record_judges_with_the_minimum_area_and_keeps_the_regions(qtbot, model_window, synthetic_set):
    from patchcore_gui.core import Inspector

    part = synthetic_set.test_defective[0]
    model = model_window.model
    largest = Inspector(model, backbone=model_window.engine.backbone).inspect(read_image(part)) \
        .defect_regions(model).largest_area
    model_window.document.set_defect_size(largest + 1, None)
    inspect_and_wait(qtbot, model_window, [part, synthetic_set.test_good[0]])
    qtbot.waitUntil(lambda: len(_records(model_window)) >= 2, timeout=JOB_TIMEOUT_MS)
    by_path = {r.record.image_path: r.record for r in _records(model_window)}
    record = by_path[str(part.resolve())]
    assert record.verdict == "OK" and record.score > model.threshold
    assert max(region["area"] for region in record.regions) == largest
    listed = {item.path: item for item in model_window.results.items()}
    assert model_window.document.verdict(listed[part].score, listed[part].largest_region(model.threshold)) == "OK"
    model_window.results_panel.select_row(shown_row(model_window, part))
    assert model_window.side_panel.verdict_panel.text == "OK"
    assert "largest region" in model_window.side_panel.verdict_panel.detail.text()


def _records(window):
    if not Path(window.record.target).exists():
        return []
    with open_store(window.record.target, "reader", create=False) as store:
        return store.inspections()


def _changes(window):
    if not Path(window.record.target).exists():
        return []
    with open_store(window.record.target, "reader", create=False) as store:
        return store.model_changes()


def test_the_list_is_as_tall_as_its_rows_and_the_tuning_fits_the_side_panel(qtbot, model_window):
    """On a 1366 x 768 screen, empty rows under one region took the histogram's height, and the minimum
    area's row (474 px) set the side panel's least width, so the threshold page scrolled sideways."""
    panel = model_window.side_panel.regions_panel
    heights = []
    for count in (0, 1, 3, VISIBLE_ROWS, VISIBLE_ROWS + 4):
        panel.show_regions([DefectRegion(100 - i, i, i, 5, 5, 2.0, (float(i), float(i))) for i in range(count)])
        heights.append(panel.table.height())
    assert heights[0] == heights[1] < heights[2] < heights[3] == heights[4]
    for width in (1366, 1093):  # 1093: the same screen at 125 % scaling
        model_window.resize(width, 600)
        qtbot.waitUntil(lambda: model_window.width() == width)
        side_width = model_window.splitter.sizes()[2]
        assert model_window.side_panel.defect_size_control.minimumSizeHint().width() < side_width
        assert model_window.side_panel.threshold_panel.minimumSizeHint().width() < side_width
