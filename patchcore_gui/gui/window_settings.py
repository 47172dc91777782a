"""What the window remembers between starts: its size and layout, the heatmap opacity, the folders last used."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QSlider, QSplitter

#: A first start's size, on a screen large enough for it.
FIRST_SIZE = (1400, 900)


def whole_number(settings: QSettings, key: str, default: int) -> int:
    """A whole number the window remembered; ``default`` where the settings file (edited by hand, say) holds none."""
    try:
        return int(str(settings.value(key, default)))
    except ValueError:
        return default


def ticked(settings: QSettings, key: str) -> bool:
    """A box the window remembered ticked (an INI file holds "true" as text); unticked where it holds anything else."""
    return str(settings.value(key, "false")).lower() == "true"


class WindowSettings:
    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def folder(self, key: str) -> str:
        """The folder last used for ``key`` ("good", "images", "model", "export"), else the home folder."""
        return str(self.settings.value(f"folders/{key}", str(Path.home())))

    def remember_folder(self, key: str, path: Path) -> None:
        self.settings.setValue(f"folders/{key}", str(path if path.is_dir() else path.parent))

    def restore(self, window: QMainWindow, splitter: QSplitter, opacity: QSlider) -> None:
        geometry = self.settings.value("window/geometry")
        if not (isinstance(geometry, QByteArray) and window.restoreGeometry(geometry)):
            width, height = FIRST_SIZE
            screen = QGuiApplication.primaryScreen()
            if screen is not None:  # a first start on a small screen: most of it, not more
                available = screen.availableGeometry()
                width, height = min(width, int(available.width() * 0.95)), min(height, int(available.height() * 0.9))
            window.resize(width, height)
        state = self.settings.value("window/splitter")
        if isinstance(state, QByteArray):
            splitter.restoreState(state)
        opacity.setValue(whole_number(self.settings, "view/opacity", 45))

    def save(self, window: QMainWindow, splitter: QSplitter, opacity: QSlider) -> None:
        self.settings.setValue("window/geometry", window.saveGeometry())
        self.settings.setValue("window/splitter", splitter.saveState())
        self.settings.setValue("view/opacity", opacity.value())
        self.settings.sync()
