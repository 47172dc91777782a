"""The system libraries the window needs on a Linux desktop, and which of them this machine lacks.

Qt's X11 platform plugin (``libqxcb.so``) links about twenty X and graphics libraries that are not
in the Python wheel. When one is missing, Qt aborts the process at start with a message naming one
library at a time ("xcb-cursor0 or libxcb-cursor0 is needed..."). :func:`missing_libraries` names them
all at once, without starting Qt, so ``--self-test`` can say in one line what to install.

:data:`DESKTOP_PACKAGES` is the README's ``apt-get install`` line: on a bare Debian 12 (debootstrap
minbase plus python3), installing exactly these, one at a time until the window ran on Xvfb, made it
run; the other libraries come in as their dependencies (docs/desktop.md has the steps).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

#: Debian 12 packages for the window on X11, in the order they were found missing on a bare system:
#: the first six for Qt itself (also offscreen), the rest for its X11 (xcb) platform.
DESKTOP_PACKAGES = (
    "libglib2.0-0", "libgl1", "libxkbcommon0", "libegl1", "libfontconfig1", "libdbus-1-3",
    "libxkbcommon-x11-0", "libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-shape0",
)

#: A font and fontconfig's configuration: what the packaged program (which carries the fontconfig
#: library, not fonts) needed besides libgl1 and libegl1 on a bare Debian 12; libfontconfig1 brings them.
FONT_PACKAGES = ("fontconfig-config", "fonts-dejavu-core")

#: Where each library the plugin links from the system comes from on Debian and Ubuntu.
DEBIAN_PACKAGE_OF: Dict[str, str] = {
    "libglib-2.0.so.0": "libglib2.0-0", "libgthread-2.0.so.0": "libglib2.0-0", "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0", "libGLdispatch.so.0": "libglvnd0", "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1", "libfreetype.so.6": "libfreetype6", "libdbus-1.so.3": "libdbus-1-3",
    "libxkbcommon.so.0": "libxkbcommon0", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1", "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-image.so.0": "libxcb-image0", "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-util.so.1": "libxcb-util1", "libxcb-xkb.so.1": "libxcb-xkb1", "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-sync.so.1": "libxcb-sync1", "libxcb-xfixes.so.0": "libxcb-xfixes0", "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-render.so.0": "libxcb-render0", "libxcb.so.1": "libxcb1", "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6", "libXau.so.6": "libxau6", "libXdmcp.so.6": "libxdmcp6",
}


def xcb_plugin() -> Optional[Path]:
    """Qt's X11 platform plugin as this program loads it (a source install or the packaged folder)."""
    folders = [Path(getattr(sys, "_MEIPASS", "")) / "PySide6"] if getattr(sys, "frozen", False) else []
    spec = importlib.util.find_spec("PySide6")
    if spec is not None and spec.submodule_search_locations:
        folders += [Path(folder) for folder in spec.submodule_search_locations]
    for folder in folders:
        plugin = folder / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


def missing_libraries(plugin: Path) -> List[str]:
    """The libraries ``plugin`` needs that the dynamic linker cannot find here, directly or through others.

    ``ldd`` (part of glibc, on every Debian and Ubuntu) lists them all; it runs with this process's
    environment, so the packaged program's own folder (``LD_LIBRARY_PATH``, set by its launcher) counts.
    Without ``ldd``, loading the plugin names the first missing one.
    """
    ldd = shutil.which("ldd") or ("/usr/bin/ldd" if os.path.exists("/usr/bin/ldd") else None)
    if ldd is not None:
        listing = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=60).stdout
        missing = re.findall(r"^\s*(\S+) => not found", listing, re.MULTILINE)
        return list(dict.fromkeys(missing))
    import ctypes

    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        found = re.search(r"(\S+\.so[.\d]*): cannot open shared object file", str(exc))
        return [found.group(1) if found else str(exc)]
    return []


def install_hint(missing: List[str]) -> str:
    """``missing`` with the apt command that brings them, for one line of a report."""
    packages = list(dict.fromkeys(DEBIAN_PACKAGE_OF[name] for name in missing if name in DEBIAN_PACKAGE_OF))
    hint = ", ".join(missing)
    if packages:
        hint += f" (Debian/Ubuntu: sudo apt-get install {' '.join(packages)})"
    return hint


def font_count() -> Optional[int]:
    """How many fonts fontconfig finds (Qt draws all text with them on Linux; with none, every letter
    is an empty box), or None where fontconfig itself cannot be loaded (then the libraries are missing)."""
    import ctypes

    try:
        fontconfig = ctypes.CDLL("libfontconfig.so.1")
    except OSError:
        return None
    fontconfig.FcInitLoadConfigAndFonts.restype = ctypes.c_void_p
    fontconfig.FcConfigGetFonts.restype = ctypes.POINTER(ctypes.c_int)  # an FcFontSet starts with its count
    fontconfig.FcConfigGetFonts.argtypes = [ctypes.c_void_p, ctypes.c_int]
    fontconfig.FcConfigDestroy.argtypes = [ctypes.c_void_p]
    config = fontconfig.FcInitLoadConfigAndFonts()
    if not config:
        return 0
    fonts = fontconfig.FcConfigGetFonts(config, 0)  # FcSetSystem: the installed fonts
    count = fonts[0] if fonts else 0
    fontconfig.FcConfigDestroy(config)
    return count


def display_present() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def window_libraries_report() -> Optional[tuple]:
    """``(passed, line)`` for ``--self-test``, or None where there is nothing to check (not Linux).

    Missing libraries fail the self-test only where a display is present: without one (a server, SSH)
    the window cannot be started anyway, and the command line needs none of them.
    """
    if not sys.platform.startswith("linux"):
        return None
    plugin = xcb_plugin()
    if plugin is None:
        return False, "FAIL the window's libraries: Qt's X11 platform plugin (libqxcb.so) is not in this installation"
    missing = missing_libraries(plugin)
    fonts = None if missing else font_count()
    if missing:
        problem = f"the window's libraries: missing {install_hint(missing)}"
    elif fonts == 0:
        problem = ("the window's fonts: fontconfig finds none, so every letter would be an empty box "
                   f"(Debian/Ubuntu: sudo apt-get install {' '.join(FONT_PACKAGES)})")
    else:
        return True, f"ok   the window's libraries: every library of Qt's X11 platform plugin is found; {fonts} fonts"
    if display_present():
        return False, f"FAIL {problem}"
    return True, f"note {problem}; not needed without a display"
