"""The side panel: the verdict of the selected part, the threshold, and the open model's facts."""

from __future__ import annotations

from datetime import datetime
from typing import Dict, Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QTabWidget, QVBoxLayout, QWidget

from .model_document import ModelDocument
from .results_model import VERDICT_COLOURS, InspectedImage, display_name
from .threshold_panel import ThresholdPanel


def readable_date(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def _value_label() -> QLabel:
    label = QLabel()
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


class ModelPanel(QWidget):
    """Facts of the current model, enough to tell two model files apart."""

    FACTS = ("File", "Backbone", "Input", "Good images", "Memory bank", "Threshold", "Default threshold", "Created",
             "Good folder")

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
        self._refresh()

    def _refresh(self) -> None:
        model, path, dirty = self.document.model, self.document.path, self.document.dirty
        self.empty.setVisible(model is None)
        self.form_host.setVisible(model is not None)
        if model is None:
            return
        layers = ", ".join(model.layers)
        bank = len(model.memory_bank)
        values = {
            "File": (path.name if path else "not saved yet") + (" (changed)" if dirty else ""),
            "Backbone": f"{model.config.backbone} ({layers})",
            "Input": model.preprocessing.describe(),
            "Good images": f"{model.n_good_images} ({len(model.good_scores)} held out to calibrate)",
            "Memory bank": f"{bank:,} of {model.n_patches:,} patches ({bank / max(model.n_patches, 1):.1%})",
            "Threshold": f"{model.threshold:.3f}",
            "Default threshold": f"{model.default_threshold:.3f}",
            "Created": readable_date(model.created),
            "Good folder": model.good_folder or "–",
        }
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
        self.show_counts({"OK": 0, "NG": 0, "ERROR": 0})

    @property
    def text(self) -> str:
        return self.verdict.text()

    def show_item(self, item: Optional[InspectedImage], threshold: float) -> None:
        if item is None:
            self._paint("–", None)
            self.detail.setText("Select an inspected image")
            return
        verdict = item.verdict(threshold)
        self._paint(verdict, verdict)
        name = display_name(item.path)
        if item.score is None:
            self.detail.setText(f"{name}\n{item.error}")
        else:
            relation = ">" if verdict == "NG" else "≤"
            self.detail.setText(f"{name}\nscore {item.score:.3f} {relation} threshold {threshold:.3f}")

    def show_counts(self, counts: Dict[str, int]) -> None:
        parts = [f"<span style='color:{VERDICT_COLOURS[name].name()}'><b>{name}</b> {counts.get(name, 0)}</span>"
                 for name in ("OK", "NG", "ERROR") if name != "ERROR" or counts.get(name, 0)]
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
        self.threshold_panel = ThresholdPanel(document)
        self.model_panel = ModelPanel(document)
        for page in (self.threshold_panel, self.model_panel):
            page.setContentsMargins(6, 6, 6, 6)
        self.pages = QTabWidget()
        self.pages.addTab(self.threshold_panel, "Threshold")
        self.pages.addTab(self.model_panel, "Model")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.verdict_panel)
        layout.addWidget(self.pages, 1)
