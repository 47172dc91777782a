"""The threshold panel: slider, number box and histogram line are one value."""

from __future__ import annotations

import numpy as np
import pytest

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


def test_reject_at_most_one_in_n_sets_the_threshold_and_says_what_it_rests_on(qtbot, fitted):
    from patchcore_gui.core.calibration import threshold_for_reject_rate

    panel = _panel(qtbot, fitted.model)
    n = len(fitted.model.good_scores)
    assert f"rest on the {n} good parts held out" in panel.trust.text()
    panel.one_in.setValue(1000)
    panel.rate_button.click()
    expected = threshold_for_reject_rate(fitted.model.good_scores, 1 / 1000).threshold
    assert panel.document.threshold == pytest.approx(expected) and panel.line.value() == pytest.approx(expected)
    assert "1 in 1,000" in panel.trust.text() and "Extrapolated" in panel.trust.text()
    panel.spin.setValue(expected * 0.8)  # moved by hand: the note no longer describes the threshold
    assert "Extrapolated" not in panel.trust.text()
    panel.set_reject_rate(2)  # 1 in 2 is within the held-out parts: no extrapolation
    assert "Rests on" in panel.trust.text() and "rough" in panel.trust.text()


def test_the_review_band_is_a_second_line_the_box_and_the_document_share(qtbot, fitted):
    panel = _panel(qtbot, fitted.model)
    document = panel.document
    assert not panel.review_box.isChecked() and not panel.review_line.isVisible()
    panel.review_box.setChecked(True)
    assert document.review_from is not None and document.review_from < document.threshold
    assert panel.review_line.value() == pytest.approx(document.review_from) and "review band from" in panel.legend.text()
    start = document.threshold * 0.95
    panel.review_line.setValue(start)
    assert document.review_from == pytest.approx(start) and panel.review_spin.value() == pytest.approx(start, abs=1e-3)
    assert document.verdict(document.threshold * 0.97) == "REVIEW" and document.dirty
    panel.review_line.setValue(document.threshold * 2)  # dragged past the threshold: the band stops there
    assert document.review_from == document.threshold
    panel.review_box.setChecked(False)
    assert document.review_from is None and document.verdict(document.threshold * 0.97) == "OK"
