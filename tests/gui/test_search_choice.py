"""The approximate search is chosen in the build dialog and shown on the Model tab, never silently."""

from dataclasses import replace

import numpy as np

from patchcore_gui.core.config import PatchCoreConfig
from patchcore_gui.core.memory_bank import SearchIndex
from patchcore_gui.gui.dialogs import BuildOptionsDialog
from patchcore_gui.gui.model_document import ModelDocument
from patchcore_gui.gui.side_panel import ModelPanel


def test_the_build_dialog_offers_the_search_and_starts_from_exact(qtbot, tmp_path):
    dialog = BuildOptionsDialog(str(tmp_path))
    qtbot.addWidget(dialog)
    assert dialog.request().config.search == "exact"
    dialog.search_combo.setCurrentIndex(dialog.search_combo.findData("ivf"))
    assert dialog.request().config.search == "ivf"
    again = BuildOptionsDialog(str(tmp_path), PatchCoreConfig(search="ivf"))
    qtbot.addWidget(again)
    assert again.request().config.search == "ivf"


def test_the_model_tab_says_how_the_bank_is_searched(qtbot, fitted):
    document = ModelDocument()
    panel = ModelPanel(document)
    qtbot.addWidget(panel)
    document.set_model(fitted.model)
    assert panel.facts["Search"].text() == "exact"
    search = SearchIndex("ivf", lists=8, probes=2)
    centroids = np.zeros((8, fitted.model.memory_bank.shape[1]), np.float32)
    document.set_model(replace(fitted.model, config=fitted.model.config.with_changes(search="ivf"), search=search,
                               search_centroids=centroids))
    assert panel.facts["Search"].text().startswith("approximate (IVF: 2 of 8 cells")
