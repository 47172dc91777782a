"""The system libraries of the window's X11 platform: found, named when missing, and the one apt line."""

import shutil
from pathlib import Path

from patchcore_gui.gui import desktop_libraries
from patchcore_gui.gui.desktop_libraries import (DESKTOP_PACKAGES, install_hint, missing_libraries,
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
