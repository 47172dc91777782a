"""``patchcore-gui [MODEL] [IMAGE_OR_DIR...]``: start the inspection window.

``--version`` and ``--self-test`` are answered before any QApplication exists, so both work on a
machine without a display.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional, Sequence

ORGANISATION = "PatchCore Inspector"
APPLICATION = "patchcore-gui"


def version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as package_version

        return package_version("patchcore-inspector")
    except (ImportError, PackageNotFoundError):
        return "0.1.0"


def icon_path() -> Optional[Path]:
    """``resources/patchcore.png`` in the packaged program's folder or at the top of a source checkout."""
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[2]))
    path = base / "resources" / "patchcore.png"
    return path if path.is_file() else None


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="patchcore-gui",
        description="Find defects on parts after seeing only good ones: build a model, inspect images, "
                    "set the threshold by eye.")
    parser.add_argument("inputs", nargs="*", metavar="MODEL_OR_IMAGE",
                        help="a model file (.patchcore) to open, then image files or folders to inspect")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--self-test", action="store_true",
                        help="check the installation (network weights, a tiny build and inspection) and exit")
    # Qt takes its own options (-platform, -style ...); they are passed through, not refused
    args, _unknown = parser.parse_known_args(argv)
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.version:
        print(f"patchcore-gui {version()}")
        return 0
    if args.self_test:
        from patchcore_gui.selftest import run_self_test

        return run_self_test()

    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QApplication

    # fractional scale factors (125 %, 150 %) as they are, rather than rounded to whole numbers
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    QCoreApplication.setOrganizationName(ORGANISATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QCoreApplication.setApplicationVersion(version())
    qt_argv: List[str] = [sys.argv[0] if sys.argv else APPLICATION]
    app = QApplication.instance() or QApplication(qt_argv)
    icon = icon_path()
    if icon is not None:
        app.setWindowIcon(QIcon(str(icon)))

    import pyqtgraph as pg

    pg.setConfigOptions(antialias=True)
    from .main_window import MainWindow

    window = MainWindow()
    window.show()
    paths = [Path(p) for p in args.inputs]
    from ..core.model_file import MODEL_SUFFIX

    if paths and paths[0].suffix == MODEL_SUFFIX:
        window.open_model(paths.pop(0))
    if paths:
        window.add_inputs(paths)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
