"""The build options dialog: which folder of good parts, which network, how large a memory bank."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget)

from ..core.backbones import BACKBONES, DEFAULT_BACKBONE
from ..core.config import PatchCoreConfig
from ..core.errors import DatasetError, PatchCoreError
from ..core.images import IMAGE_SUFFIXES, InputProblem, find_images


@dataclass(frozen=True)
class BuildRequest:
    folder: Path
    config: PatchCoreConfig


def good_images(folder: Path) -> Tuple[List[Path], List[InputProblem]]:
    """The images of a good-parts folder and the files skipped; :class:`DatasetError` if there are none."""
    if not folder.is_dir():
        raise DatasetError(f"good-parts folder '{folder}' does not exist or is not a folder")
    images, problems = find_images([folder])
    if not images:
        raise DatasetError(f"'{folder}' holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return images, problems


def weights_available(name: str) -> bool:
    """Whether the backbone's ImageNet weights are on this machine (nothing is downloaded)."""
    try:
        return BACKBONES[name].find_weights() is not None
    except Exception:  # a broken optional package must not break the dialog
        return False


class BuildOptionsDialog(QDialog):
    """Asks for the good-parts folder, the backbone and the coreset ratio; :meth:`request` reads them."""

    def __init__(self, folder: str = "", config: Optional[PatchCoreConfig] = None,
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        config = config or PatchCoreConfig()
        self._config = config
        self.setWindowTitle("Build a model from good parts")

        self.folder_edit = QLineEdit(folder)
        self.folder_edit.setPlaceholderText("a folder holding only good parts")
        self.folder_edit.setMinimumWidth(self.fontMetrics().horizontalAdvance("x") * 48)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)

        self.backbone_combo = QComboBox()
        for name in BACKBONES:
            available = weights_available(name)
            self.backbone_combo.addItem(name if available else f"{name} (weights missing)", name)
            if not available:  # listed so people know it exists, but not a choice that can only fail
                item = self.backbone_combo.model().item(self.backbone_combo.count() - 1)
                item.setEnabled(False)
                item.setToolTip("Its ImageNet weights are not on this machine (nothing is downloaded); "
                                "the README says where to put the file")
        chosen = self.backbone_combo.findData(config.backbone)
        if chosen < 0 or not weights_available(config.backbone):
            chosen = self.backbone_combo.findData(DEFAULT_BACKBONE)
        self.backbone_combo.setCurrentIndex(chosen)

        self.coreset_spin = QDoubleSpinBox()
        self.coreset_spin.setRange(0.1, 100.0)
        self.coreset_spin.setDecimals(1)
        self.coreset_spin.setSingleStep(1.0)
        self.coreset_spin.setSuffix(" %")
        self.coreset_spin.setValue(config.coreset_ratio * 100)
        self.coreset_spin.setToolTip("Share of all good patches kept in the memory bank: smaller builds and "
                                     "inspects faster, larger can catch subtler defects (paper: 1-10 %)")

        # the approximate search is a choice a person makes and sees, never a silent default
        self.search_combo = QComboBox()
        self.search_combo.addItem("Exact (every patch's nearest good patch)", "exact")
        self.search_combo.addItem("Approximate (IVF: faster on very large banks)", "ivf")
        self.search_combo.setCurrentIndex(max(0, self.search_combo.findData(config.search)))
        self.search_combo.setToolTip("Approximate search looks only in the parts of the memory bank nearest each "
                                     "patch: inspection is faster on very large banks, but a patch's true nearest "
                                     "good patch can be missed (measured in docs/benchmarks.md). The model file, "
                                     "the Model tab and 'patchcore info' say which search a model uses.")

        note = QLabel("The build runs in the background and can be cancelled; the current model stays until "
                      "the new one is ready.")
        note.setWordWrap(True)
        note.setEnabled(False)

        # what is wrong with the folder is said here, and the dialog stays open to fix it
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c0392b")
        self.problem.hide()

        form = QFormLayout()
        form.addRow("Good parts folder", folder_row)
        form.addRow("Network (backbone)", self.backbone_combo)
        form.addRow("Memory bank size", self.coreset_spin)
        form.addRow("Search", self.search_combo)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Build")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of good parts", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def accept(self) -> None:
        try:
            good_images(self.request().folder)
        except PatchCoreError as exc:
            self.problem.setText(str(exc))
            self.problem.show()
            return
        super().accept()

    def request(self) -> BuildRequest:
        backbone = self.backbone_combo.currentData()
        # layer names belong to a network: a different backbone starts from its own default layers
        layers = self._config.layers if backbone == self._config.backbone else None
        config = self._config.with_changes(backbone=backbone, layers=layers,
                                           coreset_ratio=round(self.coreset_spin.value() / 100, 6),
                                           search=self.search_combo.currentData())
        return BuildRequest(folder=Path(self.folder_edit.text().strip()), config=config)


class WriteFolderDialog(QFileDialog):
    """A folder picker for where to write: a folder name typed into it that does not exist yet is made
    (Qt's own picker refuses it with "Directory not found")."""

    def __init__(self, parent: Optional[QWidget], title: str, start: str) -> None:
        super().__init__(parent, title, start)
        self.setFileMode(QFileDialog.FileMode.Directory)
        self.setOption(QFileDialog.Option.ShowDirsOnly, True)
        self.setOption(QFileDialog.Option.DontUseNativeDialog, True)  # so that accept() below is the one run

    def accept(self) -> None:
        chosen = self.selectedFiles()
        if chosen and not Path(chosen[0]).exists() and Path(chosen[0]).parent.is_dir():
            try:
                Path(chosen[0]).mkdir()
            except OSError:
                pass  # Qt's dialog then says the folder is not there, as before
        super().accept()


def choose_folder_to_write(parent: Optional[QWidget], title: str, start: str) -> str:
    """The folder chosen or typed (made if new), or "" when the person cancelled."""
    dialog = WriteFolderDialog(parent, title, start)
    return dialog.selectedFiles()[0] if dialog.exec() == QDialog.DialogCode.Accepted else ""
