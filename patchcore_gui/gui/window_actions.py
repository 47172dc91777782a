"""The window's commands: one QAction each, with its shortcut, in the menus and the tool bar."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

if TYPE_CHECKING:
    from .main_window import MainWindow


@dataclass
class WindowActions:
    open_model: QAction
    save_model: QAction
    save_model_as: QAction
    build: QAction
    add_images: QAction
    add_folder: QAction
    export_csv: QAction
    export_overlays: QAction
    clear: QAction
    cancel: QAction
    quit: QAction
    next: QAction
    previous: QAction
    heatmap: QAction
    fit: QAction
    default_threshold: QAction


def _action(window: "MainWindow", text: str, slot: Callable[[], object], shortcuts: Sequence[str] = (),
            tip: str = "") -> QAction:
    action = QAction(text, window)
    action.setShortcuts([QKeySequence(s) for s in shortcuts])
    action.setStatusTip(tip)
    if shortcuts:
        native = QKeySequence(shortcuts[0]).toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({native})")
    action.triggered.connect(slot)
    window.addAction(action)  # the shortcut works wherever the focus is in the window
    return action


def install_actions(window: "MainWindow") -> WindowActions:
    w, a = window, _action
    actions = WindowActions(
        open_model=a(w, "&Open model…", w.open_model_dialog, ["Ctrl+O"], "Open a model file"),
        save_model=a(w, "&Save model", w.save_model_interactive, ["Ctrl+S"], "Save the model with its threshold"),
        save_model_as=a(w, "Save model &as…", w.save_model_as_dialog, ["Ctrl+Shift+S"],
                        "Save the model to a new file"),
        build=a(w, "&Build model…", w.build_dialog, ["Ctrl+B"], "Build a model from a folder of good parts"),
        add_images=a(w, "Add &images…", w.add_images_dialog, ["Ctrl+I"], "Inspect image files"),
        add_folder=a(w, "Add &folder…", w.add_folder_dialog, ["Ctrl+Shift+I"], "Inspect every image in a folder"),
        export_csv=a(w, "Export results as &CSV…", w.export_csv_dialog, ["Ctrl+E"],
                     "Write file, score, threshold and verdict of every row"),
        export_overlays=a(w, "Export &overlays…", w.export_overlays_dialog, ["Ctrl+Shift+E"],
                          "Write a heatmap overlay PNG of every inspected part"),
        clear=a(w, "C&lear results", w.clear_results, [], "Empty the results list"),
        cancel=a(w, "&Cancel", w.jobs.cancel, ["Esc"], "Cancel the running build, inspection or export"),
        quit=a(w, "&Quit", w.close, ["Ctrl+Q"], "Close the window"),
        next=a(w, "&Next image", w.results_panel.select_next, ["PgDown", "Alt+Right"], "Show the next part"),
        previous=a(w, "&Previous image", w.results_panel.select_previous, ["PgUp", "Alt+Left"],
                   "Show the previous part"),
        heatmap=a(w, "&Heatmap", w.inspection_panel.heatmap_box.toggle, ["H"], "Show or hide the heatmap"),
        fit=a(w, "&Fit to window", w.view.fit_to_view, ["Ctrl+0"], "Show the whole part"),
        default_threshold=a(w, "Reset threshold to &default", w.threshold_panel.reset_to_default, [],
                            "Back to the threshold learned from the good parts"),
    )
    menus = (
        ("&File", (actions.open_model, actions.save_model, actions.save_model_as, None, actions.export_csv,
                   actions.export_overlays, None, actions.quit)),
        ("&Model", (actions.build, actions.cancel, None, actions.default_threshold)),
        ("&Inspect", (actions.add_images, actions.add_folder, actions.clear, None, actions.next, actions.previous)),
        ("&View", (actions.heatmap, actions.fit)),
    )
    for title, entries in menus:
        menu = window.menuBar().addMenu(title)
        for action in entries:
            _add(menu, action)
    tools = window.addToolBar("Main")
    tools.setObjectName("main_toolbar")
    tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    for action in (actions.build, actions.open_model, actions.save_model, None, actions.add_images,
                   actions.add_folder, None, actions.export_csv, actions.export_overlays):
        _add(tools, action)
    return actions


def _add(container, action: Optional[QAction]) -> None:  # type: ignore[no-untyped-def]
    if action is None:
        container.addSeparator()
    else:
        container.addAction(action)
