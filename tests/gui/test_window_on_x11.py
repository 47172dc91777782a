"""The window on a real X server (Xvfb, Qt's xcb platform), as a person starts it; the other GUI
tests run offscreen, which needs none of the X libraries a desktop must have (README, "The window")."""

import os
import shutil
from dataclasses import replace
import subprocess
import sys
from pathlib import Path

import pytest

from patchcore_gui.core import save_model
from patchcore_gui.gui.desktop_libraries import install_hint, missing_libraries, xcb_plugin

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "packaging" / "x_window_check.py"
XVFB_RUN = shutil.which("xvfb-run")

pytestmark = pytest.mark.skipif(
    XVFB_RUN is None, reason="xvfb-run is not installed (Debian: apt-get install xvfb xauth, as .ci/run does): "
                             "the window is not started on a real X server here")


def _under_xvfb(tmp_path: Path, *command: str) -> subprocess.CompletedProcess:
    # the window's remembered settings go to a home of the test's own
    env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / ".config"), OMP_NUM_THREADS="1")
    env.pop("QT_QPA_PLATFORM", None)
    return subprocess.run([XVFB_RUN, "-a", "-s", "-screen 0 1600x1000x24", sys.executable, str(CHECK), *command],
                          capture_output=True, text=True, timeout=300, env=env)


def test_the_installed_window_is_drawn_on_a_real_x_server(tmp_path):
    plugin = xcb_plugin()
    missing = missing_libraries(plugin) if plugin else ["libqxcb.so"]
    assert not missing, f"the X11 platform cannot load: {install_hint(missing)}"
    script = Path(sys.executable).parent / "patchcore-gui"  # the gui-script pip installs
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "patchcore_gui.gui.app"]
    shot = tmp_path / "window.png"
    done = _under_xvfb(tmp_path, "--shot", str(shot), "--", *command)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("window drawn on the X server") and shot.stat().st_size > 10_000


def test_the_check_fails_when_the_program_ends_before_drawing(tmp_path):
    done = _under_xvfb(tmp_path, "--", sys.executable, "-c", "import sys; print('no window'); sys.exit(3)")
    assert done.returncode == 1
    assert "ended with exit status 3 before it was drawn" in done.stderr and "no window" in done.stderr


NARROWEST = """
import sys
from pathlib import Path
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from patchcore_gui.gui.main_window import MainWindow
window = MainWindow()
window.use_message_boxes = False
window.show()
assert window.open_model(Path(sys.argv[1])), window.last_error
for tab in range(window.line_mode.tabs.count()):
    window.line_mode.tabs.setCurrentIndex(tab)
    app.processEvents()
    print(app.platformName(), app.primaryScreen().size().width(), window.minimumSizeHint().width())
# History docked under the window, as the review round uses it beside the part's image
window.line_mode.tabs.setCurrentIndex(0)
waiting = QEventLoop()
window.history.loaded.connect(waiting.quit)
QTimer.singleShot(60_000, waiting.quit)
window.history_dock.show()
waiting.exec()
least = window.minimumSizeHint()
print("history", window.history_dock.isFloating(), least.height(), least.width())
window.shutdown()
"""


def test_the_window_fits_a_1024_pixel_line_pc_screen_with_x11s_fonts(tmp_path, fitted):
    # offscreen fonts are narrower than X11's: the test runs where a line PC's window runs
    # a good folder's path has no space to wrap at: it made the model's facts, and so the window, too wide
    model = save_model(replace(fitted.model, good_folder="/srv/inspection/line_3/camera_station_07/"
                                                         "reference_parts_2026-11-29/good"),
                       tmp_path / "housing_cover_reference_model_line3.patchcore")
    env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / ".config"), QT_QPA_PLATFORM="xcb",
               OMP_NUM_THREADS="1")
    done = subprocess.run([XVFB_RUN, "-a", "-s", "-screen 0 1024x768x24", sys.executable, "-c", NARROWEST,
                           str(model)],
                          capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    lines = [line.split() for line in done.stdout.splitlines() if line.startswith("xcb ")]
    assert len(lines) == 2  # the Inspect and the Line tab
    for _, screen, narrowest in lines:
        assert screen == "1024" and int(narrowest) <= 1010, done.stdout
    # a 768-pixel screen has room for the window and History docked under it (a title and a task bar less): the
    # Line tab's settings and counters, and the side panel under the verdict, scroll rather than floating History
    # over the part's image
    [(floating, least_height, least_width)] = [line.split()[1:] for line in done.stdout.splitlines()
                                               if line.startswith("history ")]
    assert floating == "False" and int(least_height) <= 768 - 30 - 40 and int(least_width) <= 1010, done.stdout
