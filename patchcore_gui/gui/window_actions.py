"""The window's commands: one QAction each, with its shortcut, in the menus and the tool bar."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Callable, Mapping, Optional, Sequence, Tuple

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow


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
    side_panel: QAction

    def enable(self, has_model: bool, busy: bool, has_rows: bool, model_locked: bool = False,
               threshold_locked: bool = False) -> None:
        """What can be done now: one job at a time, nothing to save or export without a model or rows,
        no other model and (until unlocked) no threshold change while a line runs."""
        for action, enabled in ((self.open_model, not busy and not model_locked),
                                (self.build, not busy and not model_locked), (self.save_model, has_model),
                                (self.save_model_as, has_model), (self.export_csv, has_rows),
                                (self.export_overlays, has_rows and has_model and not busy),
                                (self.clear, has_rows and not busy), (self.cancel, busy),
                                (self.default_threshold, has_model and not threshold_locked)):
            action.setEnabled(enabled)


#: name -> (menu text, shortcuts, what it does); the command that runs is handed in by the window.
ACTION_TEXTS: Mapping[str, Tuple[str, Sequence[str], str]] = {
    "open_model": ("&Open model…", ["Ctrl+O"], "Open a model file"),
    "save_model": ("&Save model", ["Ctrl+S"], "Save the model with its threshold"),
    "save_model_as": ("Save model &as…", ["Ctrl+Shift+S"], "Save the model to a new file"),
    "build": ("&Build model…", ["Ctrl+B"], "Build a model from a folder of good parts"),
    "add_images": ("Add &images…", ["Ctrl+I"], "Inspect image files"),
    "add_folder": ("Add &folder…", ["Ctrl+Shift+I"], "Inspect every image in a folder"),
    "export_csv": ("Export results as &CSV…", ["Ctrl+E"], "Write file, score, threshold and verdict of every row"),
    "export_overlays": ("Export &overlays…", ["Ctrl+Shift+E"], "Write a heatmap overlay PNG of every inspected part"),
    "clear": ("C&lear results", [], "Empty the results list"),
    "cancel": ("&Cancel", ["Esc"], "Cancel the running build, inspection or export"),
    "quit": ("&Quit", ["Ctrl+Q"], "Close the window"),
    "next": ("&Next image", ["PgDown", "Alt+Right"], "Show the next part"),
    "previous": ("&Previous image", ["PgUp", "Alt+Left"], "Show the previous part"),
    "heatmap": ("&Heatmap", ["H"], "Show or hide the heatmap"),
    "fit": ("&Fit to window", ["Ctrl+0"], "Show the whole part"),
    "default_threshold": ("Reset threshold to &default", [], "Back to the threshold learned from the good parts"),
    "side_panel": ("&Side panel", ["F9"], "Show or hide the verdict, threshold and model panel"),
}


def _action(host: QMainWindow, name: str, command: Callable[[], object]) -> QAction:
    text, shortcuts, tip = ACTION_TEXTS[name]
    action = QAction(text, host)
    action.setShortcuts([QKeySequence(s) for s in shortcuts])
    action.setStatusTip(tip)
    if shortcuts:
        native = QKeySequence(shortcuts[0]).toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({native})")
    action.triggered.connect(command)  # a command takes no argument (PySide would pass "checked" to one)
    host.addAction(action)  # the shortcut works wherever the focus is in the window
    return action


def install_actions(host: QMainWindow, commands: Mapping[str, Callable[[], object]]) -> WindowActions:
    """One action per command (every name of :class:`WindowActions`), in ``host``'s menus and tool bar."""
    actions = WindowActions(**{field.name: _action(host, field.name, commands[field.name])
                               for field in fields(WindowActions)})
    menus = (
        ("&File", (actions.open_model, actions.save_model, actions.save_model_as, None, actions.export_csv,
                   actions.export_overlays, None, actions.quit)),
        ("&Model", (actions.build, actions.cancel, None, actions.default_threshold)),
        ("&Inspect", (actions.add_images, actions.add_folder, actions.clear, None, actions.next, actions.previous)),
        ("&View", (actions.heatmap, actions.fit, actions.side_panel)),
    )
    for title, entries in menus:
        menu = host.menuBar().addMenu(title)
        for action in entries:
            _add(menu, action)
    tools = host.addToolBar("Main")
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
