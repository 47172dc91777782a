"""The threshold panel: slider, number box and histogram line are one value."""

from __future__ import annotations

import numpy as np

from patchcore_gui.gui.model_document import ModelDocument
from patchcore_gui.gui.threshold_panel import ThresholdPanel, score_axis_range

from .conftest import SignalLog


def _panel(qtbot, model) -> ThresholdPanel:
    document = ModelDocument()
    panel = ThresholdPanel(document)
    qtbot.addWidget(panel)
    document.setParent(panel)
    document.set_model(model)
    return panel


def test_the_three_controls_move_together_and_emit_once(qtbot, fitted):
    model = fitted.model
    panel = _panel(qtbot, model)
    assert panel.spin.value() == round(model.threshold, 3) and panel.line.value() == model.threshold
    changes = SignalLog()
    panel.document.threshold_changed.connect(changes.record)

    panel.spin.setValue(model.threshold * 1.1)
    assert len(changes.calls) == 1 and abs(panel.line.value() - panel.spin.value()) < 1e-9
    position = panel.slider.value()
    panel.line.setValue(model.threshold * 0.9)
    assert len(changes.calls) == 2 and panel.slider.value() < position
    assert abs(panel.spin.value() - model.threshold * 0.9) < 1e-3
    panel.slider.setValue(panel.slider.value() + 50)
    assert len(changes.calls) == 3 and panel.line.value() == panel.document.threshold
    panel.reset_button.click()
    assert panel.document.threshold == model.default_threshold and len(changes.calls) == 4


def test_inspected_scores_widen_the_range_and_appear_in_the_legend(qtbot, fitted):
    panel = _panel(qtbot, fitted.model)
    far = float(fitted.model.threshold) * 5
    panel.set_inspected_scores(np.array([far, far * 0.9]))
    low, high = panel._range
    assert high > far and low >= 0
    assert "inspected (2)" in panel.legend.text()
    assert f"held out ({len(fitted.model.good_scores)})" in panel.legend.text()


def test_score_axis_range_holds_every_value():
    low, high = score_axis_range(np.array([19.0, 21.0]), np.array([40.0]), (24.0,))
    assert 0 <= low < 19 and high > 40
    assert score_axis_range(np.zeros(0), np.zeros(0), ()) == (0.0, 1.0)
