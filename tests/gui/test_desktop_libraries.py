"""The system libraries of the window's X11 platform: found, named when missing, and the one apt line."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from patchcore_gui.gui import desktop_libraries
from patchcore_gui.gui.desktop_libraries import (DESKTOP_PACKAGES, font_count, install_hint, missing_libraries,
                                                 window_libraries_report, xcb_plugin)

ROOT = Path(__file__).resolve().parents[2]


def _plugin_without_qt(tmp_path: Path) -> Path:
    """The real plugin where its own Qt libraries (found beside it through $ORIGIN) are not."""
    copy = tmp_path / "platforms" / "libqxcb.so"
    copy.parent.mkdir()
    shutil.copy(xcb_plugin(), copy)
    return copy


def test_missing_libraries_are_all_named_at_once(tmp_path):
    missing = missing_libraries(_plugin_without_qt(tmp_path))
    assert {"libQt6XcbQpa.so.6", "libQt6Gui.so.6", "libQt6Core.so.6"} <= set(missing)
    assert len(missing) == len(set(missing))


def test_the_report_fails_with_a_display_and_only_notes_without(tmp_path, monkeypatch):
    plugin = _plugin_without_qt(tmp_path)
    monkeypatch.setattr(desktop_libraries, "xcb_plugin", lambda: plugin)
    monkeypatch.setenv("DISPLAY", ":99")
    passed, line = window_libraries_report()
    assert not passed and line.startswith("FAIL the window's libraries: missing libQt6") and "\n" not in line
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    passed, line = window_libraries_report()
    assert passed and line.startswith("note the window's libraries: missing")


def test_the_install_hint_names_the_debian_packages():
    assert install_hint(["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libfoo.so.1"]) == (
        "libxcb-icccm.so.4, libxcb-keysyms.so.1, libfoo.so.1 "
        "(Debian/Ubuntu: sudo apt-get install libxcb-icccm4 libxcb-keysyms1)")


def test_the_readme_and_ci_install_the_same_packages():
    line = " ".join(DESKTOP_PACKAGES)
    assert f"sudo apt-get install {line}" in (ROOT / "README.md").read_text()
    assert line in (ROOT / ".ci" / "run").read_text()


def test_fonts_are_counted_and_none_is_a_problem(tmp_path):
    """In a process of its own: fontconfig reads FONTCONFIG_FILE when it loads its configuration."""
    empty = tmp_path / "fonts.conf"
    empty.write_text("<?xml version='1.0'?><fontconfig></fontconfig>")
    code = ("import os; from patchcore_gui.gui.desktop_libraries import font_count, window_libraries_report; "
            "print(font_count()); os.environ['DISPLAY'] = ':99'; print(window_libraries_report()[1])")
    env = dict(os.environ, FONTCONFIG_FILE=str(empty))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    count, line = done.stdout.splitlines()
    assert count == "0" and line.startswith("FAIL the window's fonts: fontconfig finds none")
    assert font_count() > 0  # this machine's own fonts (the window tests draw text with them)
