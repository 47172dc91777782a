"""What the window writes: overlays that name their part and show their heatmap, a CSV that says
which model, threshold and rows it holds."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from patchcore_gui.core.images import read_image
from patchcore_gui.core.results import model_identity
from patchcore_gui.gui.main_window import MainWindow

from .conftest import JOB_TIMEOUT_MS, inspect_and_wait


def test_overlays_show_the_heatmap_whatever_the_view_shows(qtbot, model_window: MainWindow, synthetic_set,
                                                           tmp_path: Path):
    part = synthetic_set.test_good[0]
    inspect_and_wait(qtbot, model_window, [part])
    model_window.inspection_panel.opacity_slider.setValue(0)  # no heatmap on screen
    with qtbot.waitSignal(model_window.job_done, timeout=JOB_TIMEOUT_MS):
        assert model_window.export_overlays(tmp_path / "overlays")
    overlay = read_image(tmp_path / "overlays" / f"{part.stem}_overlay.png")
    assert np.abs(overlay[40:].astype(int) - read_image(part)[40:]).mean() > 10  # the heatmap is there
    assert "heatmap at 45% opacity" in model_window.messages[-1]  # and the message says what was used


def read_csv(path: Path):
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_the_csv_holds_what_the_list_shows_and_says_so(qtbot, model_window: MainWindow, synthetic_set,
                                                       tmp_path: Path):
    parts = synthetic_set.test_good[:2] + synthetic_set.test_defective[:2]
    inspect_and_wait(qtbot, model_window, parts)
    model = model_window.model
    assert model_window.export_csv(tmp_path / "all.csv")
    every = read_csv(tmp_path / "all.csv")
    assert [row["file"] for row in every] == [str(p) for p in parts]
    assert {(r["model"], r["model_id"], r["threshold_source"], r["rows_written"]) for r in every} == {
        ("not saved", model_identity(model), "learned", "all")}
    assert model_window.messages[-1].startswith("Wrote all 4 rows to all.csv: model not saved, threshold learned")

    model_window.side_panel.threshold_panel.set_threshold(model.threshold * 1.2)  # moved by hand...
    model_window.results_panel.ng_only.setChecked(True)  # ...and the list shows the NG parts only
    shown = model_window.results_panel.proxy.rowCount()
    assert 0 < shown < 4
    assert model_window.export_csv(tmp_path / "ng.csv")
    ng = read_csv(tmp_path / "ng.csv")
    assert len(ng) == shown and {row["verdict"] for row in ng} == {"NG"}
    assert {(r["threshold_source"], r["rows_written"]) for r in ng} == {("set by user", "NG only")}
    assert float(ng[0]["threshold"]) == pytest.approx(model.threshold * 1.2, rel=1e-5)
    assert model_window.messages[-1].startswith(f"Wrote {shown} of 4 rows (NG only, as the list shows) to ng.csv")
    # the time is when each part was inspected, not when the file was written
    assert [row["inspected_at"] for row in ng] == [row["inspected_at"] for row in every if row["verdict"] == "NG"
                                                  and float(row["score"]) > model.threshold * 1.2]


def test_the_status_bar_says_when_parts_do_not_look_like_the_good_ones(qtbot, model_window: MainWindow,
                                                                       synthetic_set, tmp_path: Path):
    inspect_and_wait(qtbot, model_window, synthetic_set.test_good[:2] + synthetic_set.test_defective[:2])
    assert "Warning" not in model_window.messages[-1]
    grey = tmp_path / "grey.png"
    Image.open(synthetic_set.test_good[3]).convert("L").save(grey)
    inspect_and_wait(qtbot, model_window, [grey])
    message = model_window.statusBar().currentMessage()
    assert message.startswith("Inspected: ") and ("Warning: 1 of 5 parts do not look like the good parts this model "
                                                  "was built from (1 greyscale where the good parts are colour)") in message
    # a threshold moved takes the counts away with it (the verdict panel has the new ones), not the warning
    model_window.document.set_threshold(model_window.model.threshold * 1.01)
    assert model_window.statusBar().currentMessage() == message[message.index("Warning: "):]
