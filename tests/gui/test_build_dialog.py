"""The build dialog's input geometry: the automatic choice follows the good parts, the cost is said before building."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image

from patchcore_gui.core.backbones import DEFAULT_BACKBONE
from patchcore_gui.core.build_cost import TILED_PARTS_BACKBONE, TILED_PARTS_CORESET, TILED_PARTS_LAYERS
from patchcore_gui.core.config import PatchCoreConfig
from patchcore_gui.gui import dialogs
from patchcore_gui.gui.dialogs import BuildOptionsDialog


def _folder(root: Path, height: int, width: int) -> Path:
    root.mkdir()
    for i in range(3):
        Image.fromarray(np.full((height, width, 3), 60 + i, np.uint8)).save(root / f"good_{i}.png")
    return root


def test_automatic_geometry_follows_the_good_parts_and_the_cost_is_said(qtbot, tmp_path):
    dialog = BuildOptionsDialog(str(_folder(tmp_path / "square", 256, 256)))
    qtbot.addWidget(dialog)
    assert dialog.geometry_combo.currentData() is None  # automatic
    assert dialog.request().config.geometry == "squeeze"
    assert "3 good images" in dialog.cost.text() and "memory bank about" in dialog.cost.text()
    assert "3 good images. Squeezed to 224 x 224" in dialog.cost.text()  # a sentence: capital after the stop

    dialog.folder_edit.setText(str(_folder(tmp_path / "oblong", 200, 500)))
    dialog.update_cost()
    config = dialog.request().config
    assert (config.geometry, config.scale, config.tile, config.coreset_ratio) == ("tile", 0.75, 320, TILED_PARTS_CORESET)
    assert config.layers == TILED_PARTS_LAYERS  # the stride-16 grid for tiles
    assert "tiles" in dialog.cost.text() and "ms per image" in dialog.cost.text()
    # the time per image becomes this PC's once the network is timed in the background
    qtbot.waitUntil(lambda: "ms per image (timed on this PC" in dialog.cost.text(), timeout=30_000)
    assert dialog.coreset_spin.text().startswith("Automatic")
    # the greyed size and scale say what the automatic geometry chose for this folder
    assert not dialog.size_spin.isEnabled() and (dialog.size_spin.value(), dialog.scale_spin.value()) == (320, 0.75)
    dialog.coreset_spin.setValue(10.0)  # a size set by hand afterwards is kept
    dialog.update_cost()
    assert dialog.request().config.coreset_ratio == 0.1
    dialog.folder_edit.setText(str(tmp_path / "square"))
    assert dialog.request().config.coreset_ratio == 0.1
    dialog.coreset_spin.setValue(0.0)  # back to automatic: the squeeze's own share
    dialog.coreset_spin.setValue(0.0)
    assert dialog.request().config.coreset_ratio == PatchCoreConfig().coreset_ratio


def test_tiles_chosen_by_name_take_the_scale_asked_for_and_a_model_reopens_on_its_own(qtbot, tmp_path):
    dialog = BuildOptionsDialog(str(_folder(tmp_path / "oblong", 200, 500)))
    qtbot.addWidget(dialog)
    assert not dialog.scale_spin.isEnabled()  # automatic geometry: the scale is chosen with it
    dialog.geometry_combo.setCurrentIndex(dialog.geometry_combo.findData("tile"))
    assert dialog.scale_spin.isEnabled() and dialog.scale_spin.value() == 0.75 and dialog.size_spin.value() == 320
    dialog.scale_spin.setValue(1.0)
    dialog.size_spin.setValue(384)
    config = dialog.request().config
    assert (config.geometry, config.scale, config.tile, config.overlap) == ("tile", 1.0, 384, 64)
    assert config.coreset_ratio == TILED_PARTS_CORESET  # the bank share is still automatic
    dialog.update_cost()
    assert "at its own resolution" in dialog.cost.text()
    dialog.geometry_combo.setCurrentIndex(dialog.geometry_combo.findData("pad"))
    assert not dialog.scale_spin.isEnabled()
    # a model built with its own tiles and bank opens the dialog on them
    built = PatchCoreConfig(geometry="tile", scale=1.0, tile=384, overlap=128, coreset_ratio=0.1)
    again = BuildOptionsDialog(str(tmp_path / "oblong"), built)
    qtbot.addWidget(again)
    assert (again.scale_spin.value(), again.size_spin.value(), again.coreset_spin.value()) == (1.0, 384, 10.0)
    assert again.request().config.overlap == 128


def test_a_chosen_geometry_and_size_make_the_config(qtbot, tmp_path):
    dialog = BuildOptionsDialog(str(_folder(tmp_path / "oblong", 200, 500)))
    qtbot.addWidget(dialog)
    dialog.geometry_combo.setCurrentIndex(dialog.geometry_combo.findData("pad"))
    dialog.size_spin.setValue(320)
    config = dialog.request().config
    assert (config.geometry, config.resize) == ("pad", 320)
    dialog.update_cost()
    assert "longer side 320" in dialog.cost.text()
    dialog.geometry_combo.setCurrentIndex(dialog.geometry_combo.findData("tile"))
    dialog.size_spin.setValue(100)  # not a multiple of 32: said, and the dialog stays open
    dialog.update_cost()
    assert "multiple of 32" in dialog.cost.text()
    dialog.show()
    dialog.accept()
    assert dialog.isVisible() and "multiple of 32" in dialog.problem.text()
    # a model built with a geometry opens the dialog on that geometry again
    again = BuildOptionsDialog(str(tmp_path / "oblong"), PatchCoreConfig(geometry="pad", resize=384))
    qtbot.addWidget(again)
    assert again.geometry_combo.currentData() == "pad" and again.size_spin.value() == 384


def test_the_automatic_network_follows_the_geometry_and_a_chosen_one_is_kept(qtbot, tmp_path):
    dialog = BuildOptionsDialog(str(_folder(tmp_path / "square", 256, 256)))
    qtbot.addWidget(dialog)
    assert dialog.backbone_combo.currentData() is None  # automatic
    assert dialog.request().config.backbone == DEFAULT_BACKBONE
    dialog.folder_edit.setText(str(_folder(tmp_path / "oblong", 200, 500)))
    assert dialog.request().config.backbone == TILED_PARTS_BACKBONE
    dialog.geometry_combo.setCurrentIndex(dialog.geometry_combo.findData("pad"))
    assert dialog.request().config.backbone == DEFAULT_BACKBONE
    dialog.geometry_combo.setCurrentIndex(dialog.geometry_combo.findData(None))
    dialog.backbone_combo.setCurrentIndex(dialog.backbone_combo.findData(DEFAULT_BACKBONE))
    assert dialog.request().config.backbone == DEFAULT_BACKBONE  # chosen by hand: kept for tiles too
    # a model built with the tiled parts' network opens the dialog on it; one built with the default, on automatic
    tiled = BuildOptionsDialog(str(tmp_path / "oblong"), PatchCoreConfig(backbone=TILED_PARTS_BACKBONE))
    qtbot.addWidget(tiled)
    assert tiled.backbone_combo.currentData() == TILED_PARTS_BACKBONE


def test_the_held_out_parts_join_the_bank_for_tiles_unless_chosen_and_the_bank_estimate_follows(qtbot, tmp_path):
    dialog = BuildOptionsDialog(str(_folder(tmp_path / "square", 256, 256)))
    qtbot.addWidget(dialog)
    assert dialog.bank_combo.currentData() is None  # automatic
    assert dialog.request().config.bank_from_all is False  # squeezed parts: nothing to gain
    dialog.folder_edit.setText(str(_folder(tmp_path / "oblong", 200, 500)))
    dialog.update_cost()
    assert dialog.request().config.bank_from_all is True
    joined = dialog.cost.text()
    dialog.bank_combo.setCurrentIndex(dialog.bank_combo.findData(False))
    assert dialog.request().config.bank_from_all is False
    dialog.update_cost()
    assert "the held-out images in it too" in joined and "held-out" not in dialog.cost.text()  # said before building
    dialog.folder_edit.setText(str(tmp_path / "square"))
    dialog.bank_combo.setCurrentIndex(dialog.bank_combo.findData(True))
    assert dialog.request().config.bank_from_all is True  # chosen by hand: kept for squeezed parts too


def test_the_folder_is_read_once_for_every_choice_and_again_when_its_files_change(qtbot, tmp_path, monkeypatch):
    read = []
    real_sizes = dialogs.image_sizes
    monkeypatch.setattr(dialogs, "image_sizes", lambda images: read.append(len(images)) or real_sizes(images))
    folder = _folder(tmp_path / "oblong", 200, 500)
    dialog = BuildOptionsDialog(str(folder))
    qtbot.addWidget(dialog)
    dialog.coreset_spin.setValue(10.0)
    dialog.update_cost()
    dialog.backbone_combo.setCurrentIndex(dialog.backbone_combo.findData(DEFAULT_BACKBONE))
    dialog.update_cost()
    assert dialog.request().config.geometry == "tile" and "3 good images" in dialog.cost.text()
    assert read == [3]  # the headers were read for the first estimate only
    time.sleep(0.05)  # past the folder's time stamp's step
    Image.fromarray(np.full((200, 500, 3), 90, np.uint8)).save(folder / "good_3.png")
    dialog.update_cost()
    assert read == [3, 4] and "4 good images" in dialog.cost.text()
