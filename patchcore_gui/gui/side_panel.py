"""The side panel: the verdict of the selected part, the threshold, and the open model's facts."""

from __future__ import annotations

import re
from typing import Dict, Optional, Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (QFormLayout, QFrame, QGroupBox, QLabel, QScrollArea, QTabWidget, QVBoxLayout,
                               QWidget)

from ..core.model import PatchCoreModel
from ..core.model_facts import model_facts
from ..core.regions import DefectRegion, area_text, largest_area
from .model_document import ModelDocument
from .regions_panel import DefectSizeControl, RegionsPanel
from .results_model import VERDICT_COLOURS, InspectedImage, display_name
from .threshold_panel import ThresholdPanel


def breakable(text: str) -> str:
    """``text`` with a zero-width space after each path separator, dot, dash and underscore: a label then
    wraps a long file name or folder path instead of widening the window past the screen (a good folder's
    path made the window 1,044 pixels wide, more than a 1,024-pixel line-PC screen)."""
    return re.sub(r"([/\\._-])", "\\1\u200b", text)


def _value_label() -> QLabel:
    label = QLabel()
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


class ModelPanel(QWidget):
    """Facts of the current model, enough to tell two model files apart."""

    FACTS = ("File", "Backbone", "Input", "Good images", "Memory bank", "Search", "Threshold", "Review band",
             "Default threshold", "Minimum defect area", "Region of interest", "Taught parts", "Created", "Good folder")

    def __init__(self, document: ModelDocument, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.document = document
        self.empty = QLabel("No model yet: build one from a folder of good parts (Ctrl+B) or open a model "
                            "file (Ctrl+O).")
        self.empty.setWordWrap(True)
        self.facts: Dict[str, QLabel] = {name: _value_label() for name in self.FACTS}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name, label in self.facts.items():
            form.addRow(name, label)
        self.form_host = QWidget()
        self.form_host.setLayout(form)
        form.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.form_host)
        layout.addStretch(1)
        document.state_changed.connect(self._refresh)
        document.threshold_changed.connect(self._refresh)
        document.defect_size_changed.connect(self._refresh)
        self._refresh()

    def _refresh(self) -> None:
        model, path, dirty = self.document.model, self.document.path, self.document.dirty
        self.empty.setVisible(model is None)
        self.form_host.setVisible(model is not None)
        if model is None:
            return
        values = {"File": breakable(path.name if path else "not saved yet") + (" (changed)" if dirty else ""),
                  **model_facts(model)}
        values["Good folder"] = breakable(values["Good folder"])
        for name, text in values.items():
            self.facts[name].setText(text)
        self.facts["File"].setToolTip(str(path) if path else "")
        self.facts["Good folder"].setToolTip(model.good_folder)


class VerdictPanel(QGroupBox):
    """The selected part's verdict in large type, its score against the threshold, and the batch counts."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__("Verdict", parent)
        self.verdict = QLabel()
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.verdict.font()
        font.setPointSizeF(font.pointSizeF() * 2.4)
        font.setBold(True)
        self.verdict.setFont(font)
        self.verdict.setMinimumHeight(self.verdict.fontMetrics().height() + 12)
        self.detail = _value_label()
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.counts = QLabel()
        self.counts.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.counts.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.addWidget(self.verdict)
        layout.addWidget(self.detail)
        layout.addWidget(self.counts)
        self.show_item(None, 0.0)
        self.show_counts({"OK": 0, "REVIEW": 0, "NG": 0, "ERROR": 0})

    @property
    def text(self) -> str:
        return self.verdict.text()

    def show_item(self, item: Optional[InspectedImage], threshold: float, verdict: Optional[str] = None,
                  regions: Optional[Sequence[DefectRegion]] = None, model: Optional[PatchCoreModel] = None) -> None:
        """``verdict`` as the window judged it (default: by the score and ``model``'s review band); with
        ``regions`` and a ``model`` whose minimum defect area is set, the largest region is weighed
        against it in the text."""
        if item is None:
            self._paint("–", None)
            self.detail.setText("Select an inspected image")
            return
        review_from = model.review_from if model is not None else None
        verdict = verdict or item.verdict(threshold, review_from)
        self._paint(verdict, verdict)
        name = display_name(item.path)
        if item.score is None:
            self.detail.setText(f"{name}\n{item.error}")
        elif verdict == "REVIEW":
            self.detail.setText(f"{name}\nscore {item.score:.3f}: above {review_from:.3f}, ≤ threshold "
                                f"{threshold:.3f}: for a person to look at")
        else:
            relation = ">" if item.score > threshold else "≤"
            text = f"{name}\nscore {item.score:.3f} {relation} threshold {threshold:.3f}"
            if model is not None and model.min_defect_area > 0 and regions is not None:
                largest = largest_area(regions)
                sign = "<" if largest < model.min_defect_area else "≥"
                text += (f"\nlargest region {area_text(largest, model.pixel_size_mm)} {sign} minimum "
                         f"{area_text(model.min_defect_area, model.pixel_size_mm)}")
            self.detail.setText(text)

    def show_counts(self, counts: Dict[str, int]) -> None:
        """OK and NG always; REVIEW and ERROR when there are any."""
        parts = [f"<span style='color:{VERDICT_COLOURS[name].name()}'><b>{name}</b> {counts.get(name, 0)}</span>"
                 for name in ("OK", "REVIEW", "NG", "ERROR") if name in ("OK", "NG") or counts.get(name, 0)]
        self.counts.setText("&nbsp;&nbsp;&nbsp;".join(parts))

    def _paint(self, text: str, verdict: Optional[str]) -> None:
        self.verdict.setText(text)
        if verdict is None:
            self.verdict.setStyleSheet("")
        else:
            colour = VERDICT_COLOURS[verdict].name()
            self.verdict.setStyleSheet(f"background-color: {colour}; color: white; border-radius: 6px;")


class SidePanel(QWidget):
    """The verdict on top; below it, one page each for the threshold and the model (more can be added),
    so the histogram keeps its height on a small screen."""

    def __init__(self, document: ModelDocument, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.verdict_panel = VerdictPanel()
        self.regions_panel = RegionsPanel()
        self.threshold_panel = ThresholdPanel(document)
        self.defect_size_control = DefectSizeControl(document)
        self.model_panel = ModelPanel(document)
        for page in (self.threshold_panel, self.model_panel):
            page.setContentsMargins(6, 6, 6, 6)
        self.pages = QTabWidget()
        tuning = QWidget()  # the threshold and, under it, the minimum defect area: both decide the verdict
        tuning.setContentsMargins(6, 6, 6, 6)
        column = QVBoxLayout(tuning)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.threshold_panel, 1)
        column.addWidget(self.defect_size_control)
        self.pages.addTab(scrolled(tuning), "Threshold")
        self.pages.addTab(scrolled(self.model_panel), "Model")
        # under the verdict, which stays in sight, the rest scrolls on a short screen rather than setting the
        # window's least height: with History docked under the window it was 973 px, past a 768-pixel screen
        below = QWidget()
        under = LeastHeightFirst(below)
        under.setContentsMargins(0, 0, 0, 0)
        under.addWidget(self.regions_panel)
        under.addWidget(self.pages, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.verdict_panel)
        self.below_the_verdict = scrolled(below)
        layout.addWidget(self.below_the_verdict, 1)


def scrolled(page: QWidget, sideways: bool = True) -> QScrollArea:
    """``page`` scrolled rather than squeezed. On a small screen the histogram, its legend and the rules
    under it keep their size (squeezed below their minimum, Qt lays them over one another); on a narrow
    side panel it scrolls sideways too, rather than clipping the threshold's number box. Nor does a
    page's height set the window's least height: the model's eleven facts made it 907 px with the
    History view docked, past a 1366 x 768 line-PC screen. Where there is room, it shows no scroll bar.
    Not ``sideways``: as wide as the page needs, scrolled up and down only."""
    scroll = QScrollArea() if sideways else _UpAndDown()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(page)
    # the tab page's own colour shows through: painted, the scrolled part stood out as a grey block
    scroll.viewport().setAutoFillBackground(False)
    page.setAutoFillBackground(False)
    return scroll


class _UpAndDown(QScrollArea):
    """A scroll area as wide as its page's least width: the Line tab's column of settings and counters, whose
    grid column (a quarter of the tab) was narrower than its rows, cut them off and hid the counts."""

    def __init__(self) -> None:
        super().__init__()
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def minimumSizeHint(self) -> QSize:
        least = super().minimumSizeHint()
        page = self.widget()
        if page is None:
            return least
        width = page.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()
        return QSize(max(least.width(), width), least.height())


class LeastHeightFirst(QVBoxLayout):
    """A column a scroll area fits into its height down to the column's least height. Asked for its height at
    a width (its word-wrapped texts), it would answer with its preferred one, the histogram's 480 px among
    them, and the side panel scrolled at any height under about 700 px, beside the Threshold page's own; the
    Line tab's column scrolled at 740 px for its NG parts' list, which takes what height is left."""

    def hasHeightForWidth(self) -> bool:
        return False
