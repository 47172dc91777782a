"""What the window writes: overlays that name their part and show their heatmap, a CSV that says
which model, threshold and rows it holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from patchcore_gui.core.images import read_image
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
