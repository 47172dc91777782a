"""``patchcore-gui [MODEL] [IMAGE_OR_DIR...]``: start the inspection window.

``--version`` and ``--self-test`` are answered before any QApplication exists, so both work on a
machine without a display.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, Sequence, TextIO

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

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
                        help="a model file to open (known by its content, whatever its name), and image "
                             "files or folders to inspect")
    parser.add_argument("--line", metavar="CAMERA_FOLDER",
                        help="run a line on this folder with the model given, as Line > Run line does (with the "
                             "sorting, subfolders and shifts last chosen in the window): for a line PC whose "
                             "window starts with it")
    parser.add_argument("--station", metavar="NAME",
                        help="the station the window records its parts as, by hand and on the line (e.g. line3; "
                             "remembered; default: this PC's name), as `patchcore watch --station` does")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--self-test", action="store_true",
                        help="check the installation (network weights, a tiny build and inspection) and exit")
    # Qt takes its own options (-platform, -style ...); they are passed through, not refused
    args, _unknown = parser.parse_known_args(argv)
    return args


@dataclass
class StartArguments:
    """The command line's paths, told apart by what the files hold rather than by their names."""

    model: Optional[Path] = None
    inputs: List[Path] = field(default_factory=list)
    #: one line per argument that is left out, naming it and why
    refused: List[str] = field(default_factory=list)


def _is_image(path: Path) -> bool:
    from ..core.images import IMAGE_SUFFIXES

    if path.suffix.lower() in IMAGE_SUFFIXES:
        return True  # even a damaged one: its row in the list says what is wrong with it
    from PIL import Image

    try:
        with Image.open(path):
            return True
    except Exception:  # whatever Pillow makes of a file it cannot identify, it is not an image
        return False


def sort_arguments(arguments: Sequence[str]) -> StartArguments:
    """The model to open (the first argument that is one, by content or by its ``.patchcore`` name),
    the images and folders to inspect, and a line for each argument that is neither.
    """
    from ..core.model_file import is_model_path

    start = StartArguments()
    for argument in arguments:
        path = Path(argument)
        if is_model_path(path):
            if start.model is None:
                start.model = path
            else:
                start.refused.append(f"'{argument}' left out: one model at a time ('{start.model}' is opened)")
        elif path.is_dir() or (path.is_file() and _is_image(path)):
            start.inputs.append(path)
        elif not path.exists():
            start.refused.append(f"'{argument}' left out: no such file or folder")
        else:
            start.refused.append(f"'{argument}' left out: neither a PatchCore model nor an image")
    return start


def open_arguments(window: "MainWindow", arguments: Sequence[str], stderr: Optional[TextIO] = None,
                   line: Optional[str] = None) -> None:
    """Open the model named on the command line, queue its images and folders, and run a line on the folder
    ``line`` with the model; every argument that cannot be used is said in the window and on stderr, one line
    each."""
    stderr = sys.stderr if stderr is None else stderr
    start = sort_arguments(arguments)
    problems = list(start.refused)
    opened = start.model is not None and window.open_model(start.model)
    if start.model is not None and not opened:
        problems.insert(0, window.last_error)
    if start.inputs:
        window.add_inputs(start.inputs)
    if line is not None and start.model is None:
        problems.append(f"no line run on {line}: name the model file to run it with")
        window.show_error(problems[-1], "Cannot run a line")
    elif line is not None and opened and not window.line_mode.run_line_once_there(Path(line)):
        problems.append(f"no line run on {line}: {window.last_error}")
    for line in problems:
        print(f"patchcore-gui: {line}", file=stderr)
    if len(start.refused) == 1:
        window.show_error(start.refused[0], "Left out")
    elif start.refused:
        window.show_error(f"{len(start.refused)} arguments left out: " + "; ".join(start.refused), "Left out")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.version:
        print(f"patchcore-gui {version()}")
        return 0
    if args.self_test:
        from patchcore_gui.selftest import run_self_test

        return run_self_test()

    _end_at_once_while_starting()
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
    from pyqtgraph.util.garbage_collector import GarbageCollector

    pg.setConfigOptions(antialias=True)
    # Python's cycle collector runs on whichever thread happens to allocate: on a worker's thread it can
    # free Qt objects of the UI thread, and Qt crashes. Cycles are collected on the UI thread, on a timer.
    collector = GarbageCollector(interval=1.0)  # noqa: F841 (kept alive until the window closes)
    from .main_window import MainWindow

    if args.station is not None:
        from PySide6.QtCore import QSettings

        from .window_record import STATION_SETTING

        QSettings().setValue(STATION_SETTING, args.station.strip())
    window = MainWindow()
    window.show()
    _end_on_signals(app, window)
    open_arguments(window, args.inputs, line=args.line)
    return int(app.exec())


def _end_at_once_while_starting() -> None:
    """Ctrl+C or SIGTERM in the seconds the window takes to start (importing torch, opening a model) end it at once
    and quietly: there is nothing to save or stop yet. Before, Ctrl+C then printed a KeyboardInterrupt traceback
    from whichever import it fell into. The window's own handlers (:func:`_end_on_signals`) take over once it runs."""
    def end(_signal_number: int, _frame: object) -> None:
        # not SystemExit: raised into an import, a library's bare ``except:`` swallowed it and the window came up
        os._exit(0)

    for name in ("SIGINT", "SIGTERM"):
        signal.signal(getattr(signal, name), end)


def _end_on_signals(app: "QApplication", window: "MainWindow") -> None:
    """Ctrl+C in the terminal the window was started from, or SIGTERM (a line PC shutting down, a session
    ending), ends the program without asking (Quit would ask about a running line or an unsaved model): a running
    line stops after the parts in hand and its worker processes end with it. Before, Ctrl+C did nothing and
    SIGTERM killed it where it stood."""
    from PySide6.QtCore import QTimer

    def end(_signal_number: int, _frame: object) -> None:
        window.shutdown()
        app.exit(0)  # not quit(): Qt 6's quit closes the windows, whose close asks about the line and the model

    for name in ("SIGINT", "SIGTERM"):
        signal.signal(getattr(signal, name), end)
    # Python runs a signal's handler only when it next runs code of its own; Qt's loop waiting in C would hold it
    beat = QTimer(app, interval=200)
    beat.timeout.connect(lambda: None)
    beat.start()


if __name__ == "__main__":
    sys.exit(main())
