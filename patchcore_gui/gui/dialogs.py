"""The build options dialog: which folder of good parts, which network, how the images meet it (input
geometry), how large a memory bank, and what that will cost before it is built."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from ..core.backbones import BACKBONES, DEFAULT_BACKBONE, weights_available
from ..core.build_cost import (TILED_PARTS_BACKBONE, TILED_PARTS_CORESET, automatic_coreset, estimate_build_cost,
                               geometry_changes, image_sizes, resolved_config, with_automatic_choices)
from ..core.config import PatchCoreConfig
from ..core.geometry import SUGGESTED_TILE
from ..core.errors import DatasetError, PatchCoreError
from ..core.images import good_part_images
from .number_boxes import DecimalBox
from .pc_timings import shared_pc_timings


@dataclass(frozen=True)
class BuildRequest:
    folder: Path
    config: PatchCoreConfig


#: The geometry choices offered, as (label, config geometry or None for automatic).
GEOMETRY_CHOICES = (("Automatic (from the good parts' sizes)", None),
                    ("Squeeze the whole image to a square", "squeeze"),
                    ("Keep proportions, pad to a square", "pad"),
                    ("Keep proportions, cut into tiles at a scale of the image's resolution", "tile"))


class BuildOptionsDialog(QDialog):
    """Asks for the good-parts folder, the backbone, the input geometry and the coreset ratio, and says
    what the build will cost; :meth:`request` reads them."""

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
        self.backbone_combo.addItem(f"Automatic ({DEFAULT_BACKBONE}; {TILED_PARTS_BACKBONE} for parts seen in tiles)",
                                    None)
        for name in BACKBONES:
            available = weights_available(name)
            self.backbone_combo.addItem(name if available else f"{name} (weights missing)", name)
            if not available:  # listed so people know it exists, but not a choice that can only fail
                item = self.backbone_combo.model().item(self.backbone_combo.count() - 1)
                item.setEnabled(False)
                item.setToolTip("Its ImageNet weights are not on this machine (nothing is downloaded); "
                                "the README says where to put the file")
        # the default network is what "Automatic" gives squeezed parts: a model built with it reopens as automatic
        chosen = self.backbone_combo.findData(config.backbone)
        if chosen < 0 or not weights_available(config.backbone) or config.backbone == DEFAULT_BACKBONE:
            chosen = 0
        self.backbone_combo.setCurrentIndex(chosen)

        self.coreset_spin = DecimalBox()
        # its lowest value reads "Automatic", as the other choices' first entries do
        self.coreset_spin.setRange(0.0, 100.0)
        self.coreset_spin.setDecimals(1)
        self.coreset_spin.setSingleStep(1.0)
        self.coreset_spin.setSuffix(" %")
        self.coreset_spin.setSpecialValueText(f"Automatic ({PatchCoreConfig().coreset_ratio:.0%}; "
                                              f"{TILED_PARTS_CORESET:.0%} for parts seen in tiles)")
        automatic = config.coreset_ratio == automatic_coreset(config.geometry)
        self.coreset_spin.setValue(0.0 if automatic else config.coreset_ratio * 100)
        self.coreset_spin.setToolTip("Share of all good patches kept in the memory bank: smaller builds and "
                                     "inspects faster, larger can catch subtler defects (paper: 1-10 %)")

        self.geometry_combo = QComboBox()
        for label, geometry in GEOMETRY_CHOICES:
            self.geometry_combo.addItem(label, geometry)
        self.geometry_combo.setToolTip("Squeezing loses the proportions and small detail of large or oblong parts; "
                                       "keeping them finds thinner defects at a higher cost (see the estimate below)")
        self.size_spin = QSpinBox()
        self.size_spin.setRange(64, 1024)
        self.size_spin.setSingleStep(32)
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Network input: the square's side (squeeze), the longer side (pad) or the tile "
                                  "side (tiles; a multiple of 32)")
        self.scale_spin = DecimalBox()
        self.scale_spin.setRange(0.1, 4.0)
        self.scale_spin.setDecimals(2)
        self.scale_spin.setSingleStep(0.05)
        self.scale_spin.setSuffix(" x")
        self.scale_spin.setToolTip("Tiles: the image's scale before it is cut. 1 keeps its own resolution: finer "
                                   "outlines of small defects, more tiles and a larger bank. The automatic "
                                   f"{SUGGESTED_TILE['scale']:g} x ranked Magnetic Tile as well in 60% of the time "
                                   "(docs/benchmarks.md)")
        if config.geometry != "squeeze" or config.resize != PatchCoreConfig().resize:
            self.geometry_combo.setCurrentIndex(self.geometry_combo.findData(config.geometry))
        self._show_size(config)
        self.geometry_combo.currentIndexChanged.connect(self._geometry_changed)

        # what the choice costs, said before building (estimated from the folder's image headers)
        self.cost = QLabel()
        self.cost.setWordWrap(True)
        self._cost_timer = QTimer(self)
        self._cost_timer.setSingleShot(True)
        self._cost_timer.setInterval(300)  # typing a folder path does not list it at every key
        self._cost_timer.timeout.connect(self.update_cost)
        self._looked_at: Optional[Tuple[Tuple[Path, Optional[int]], List[Path], Sequence[Tuple[int, int]]]] = None
        # the time per image is this PC's once its network has been timed (in the background, a second)
        self._timings = shared_pc_timings()
        self._timings.timed.connect(self._cost_timer.start)
        for signal in (self.folder_edit.textChanged, self.backbone_combo.currentIndexChanged,
                       self.geometry_combo.currentIndexChanged, self.size_spin.valueChanged,
                       self.scale_spin.valueChanged, self.coreset_spin.valueChanged):
            signal.connect(self._cost_timer.start)

        # the approximate search is a choice a person makes and sees, never a silent default
        self.search_combo = QComboBox()
        self.search_combo.addItem("Exact (every patch's nearest good patch)", "exact")
        self.search_combo.addItem("Approximate (IVF: faster on very large banks)", "ivf")
        self.search_combo.setCurrentIndex(max(0, self.search_combo.findData(config.search)))
        self.search_combo.setToolTip("Approximate search looks only in the parts of the memory bank nearest each "
                                     "patch: inspection is faster on very large banks, but a patch's true nearest "
                                     "good patch can be missed (measured in docs/benchmarks.md). The model file, "
                                     "the Model tab and 'patchcore info' say which search a model uses.")

        # the held-out parts learn the threshold either way; whether they also join the bank is the choice
        self.bank_combo = QComboBox()
        self.bank_combo.addItem("Automatic (they join it for parts seen in tiles)", None)
        self.bank_combo.addItem("Set the threshold and join the bank", True)
        self.bank_combo.addItem("Only set the threshold", False)
        self.bank_combo.setToolTip("A fifth of the good parts is held out to learn the threshold. They can also "
                                   "join the memory bank (each half is scored against the bank holding the other "
                                   "half): on Magnetic Tile defects then rank better and more verdicts are right "
                                   "(image AUROC 0.980 against 0.973) for a bank a quarter larger; on bottle "
                                   "nothing changes (docs/benchmarks.md).")
        self.bank_combo.currentIndexChanged.connect(self._cost_timer.start)

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
        form.addRow("Input geometry", self.geometry_combo)
        form.addRow("Input size", self.size_spin)
        form.addRow("Scale (tiles)", self.scale_spin)
        form.addRow("Memory bank size", self.coreset_spin)
        form.addRow("Search", self.search_combo)
        form.addRow("Held-out good parts", self.bank_combo)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Build")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.cost)
        layout.addWidget(note)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.update_cost()

    def _show_size(self, config: PatchCoreConfig) -> None:
        """Show ``config``'s input size and scale: editable for a geometry chosen by name, greyed for the
        automatic one (what it chose for the folder, once known)."""
        geometry = self.geometry_combo.currentData()
        self.size_spin.setEnabled(geometry is not None)
        self.scale_spin.setEnabled(geometry == "tile")
        tiled = (geometry or config.geometry) == "tile"
        for spin, value in ((self.size_spin, config.tile if tiled else config.resize),
                            (self.scale_spin, config.scale if tiled else SUGGESTED_TILE["scale"])):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)

    def _geometry_changed(self) -> None:
        geometry = self.geometry_combo.currentData()
        defaults = PatchCoreConfig().with_changes(**SUGGESTED_TILE) if geometry == "tile" else PatchCoreConfig()
        self._show_size(defaults)

    def _good_parts(self, folder: Path) -> Tuple[List[Path], Sequence[Tuple[int, int]]]:
        """The folder's good images and their sizes (:class:`DatasetError` if none), read again only when the
        folder or its listing changed: every choice in the dialog estimates the cost again, and reading a few
        hundred headers each time held the window about 0.1 s (Magnetic Tile's 762 good parts)."""
        stamp = folder.stat().st_mtime_ns if folder.is_dir() else None  # adding or removing a file changes it
        if stamp is None or self._looked_at is None or self._looked_at[0] != (folder, stamp):
            images, _ = good_part_images(folder)
            self._looked_at = ((folder, stamp), images, image_sizes(images))
        return self._looked_at[1], self._looked_at[2]

    def update_cost(self) -> None:
        """Estimate the build from the folder's image sizes and say it (or what is wrong with the folder)."""
        try:
            images, sizes = self._good_parts(Path(self.folder_edit.text().strip()))
            request = self.request()
            cost = estimate_build_cost(request.config, sizes, len(images),
                                       speed=self._timings.speed_for(request.config))
            if self.geometry_combo.currentData() is None:
                self._show_size(request.config)
        except (PatchCoreError, ValueError) as exc:
            self.cost.setText(f"Cost: choose a folder of good parts ({exc})" if isinstance(exc, PatchCoreError)
                              else f"Cost: {exc}")
            return
        warning = "" if cost.fits_in_memory else "  Too large for this PC's free memory: the build would be refused."
        self.cost.setText(f"{len(images)} good images. {cost.text()}.{warning}")

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of good parts", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def accept(self) -> None:
        try:
            good_part_images(self.request().folder)
        except (PatchCoreError, ValueError) as exc:  # ValueError: a geometry the config refuses
            self.problem.setText(str(exc))
            self.problem.show()
            return
        super().accept()

    def request(self) -> BuildRequest:
        """The choices as a build request; "Automatic" geometry is decided here from the folder's image
        sizes."""
        folder = Path(self.folder_edit.text().strip())
        backbone = self.backbone_combo.currentData()  # None: automatic, decided with the geometry below
        config = self._config.with_changes(backbone=backbone or DEFAULT_BACKBONE, search=self.search_combo.currentData())
        coreset = round(self.coreset_spin.value() / 100, 6) or None  # None: "Automatic"
        geometry = self.geometry_combo.currentData()
        if geometry is None:
            try:
                sizes = self._good_parts(folder)[1]
            except DatasetError:  # no good parts yet: the automatic choice for none
                sizes = []
            base = config.with_changes(geometry="squeeze", resize=PatchCoreConfig().resize)
            config = resolved_config(base, sizes, automatic=True)
        else:
            tiled, size = geometry == "tile", self.size_spin.value()
            # the dialog asks for no overlap: a tiled model's own is kept, otherwise the automatic one's
            kept_overlap = self._config.overlap if tiled and self._config.geometry == "tile" else None
            config = config.with_changes(**geometry_changes(
                geometry, size=None if tiled else size, scale=self.scale_spin.value() if tiled else None,
                tile=size if tiled else None, overlap=kept_overlap))
        if config.backbone != self._config.backbone:  # layer names belong to a network: start from its own
            config = config.with_changes(layers=None)
        return BuildRequest(folder=folder, config=with_automatic_choices(
            config, backbone_chosen=backbone is not None, bank_from_all=self.bank_combo.currentData(), coreset=coreset))


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
