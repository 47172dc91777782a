"""Start the window on a real X server and look at the screen until it is drawn there.

    xvfb-run -a -s "-screen 0 1600x1000x24" python packaging/x_window_check.py [--shot x.png] [--home DIR] -- COMMAND...

COMMAND (``patchcore-gui`` installed or packaged) runs with Qt's X11 platform (``QT_QPA_PLATFORM=xcb``).
This script is a second X client: it reads the screen's pixels from the server (Qt's grab of the root
window) until a large, many-coloured area shows, checks COMMAND is still running, then stops it.
Exit 0 with one line when the window was drawn; 1 with COMMAND's last output when it ended or drew
nothing. ``--home DIR`` runs COMMAND with an empty environment but PATH, HOME, LANG and the display,
as packaging/build.sh checks the built program.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from typing import List, Optional, Sequence, Tuple

# an empty Xvfb screen is black; the window covers at least this share of a 1600 x 1000 screen
DRAWN_SHARE = 0.2
# text, icons and the histogram give hundreds of colours; a bare rectangle gives one or two
DRAWN_COLOURS = 32


def screen_pixels() -> Tuple[float, int]:
    """The share of the screen that is not black and its number of distinct colours, read from the server."""
    import numpy as np
    from PySide6.QtGui import QGuiApplication, QImage

    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0], "-platform", "xcb"])
    image = app.primaryScreen().grabWindow(0).toImage().convertToFormat(QImage.Format.Format_RGB32)
    width, height = image.width(), image.height()
    pixels = np.frombuffer(image.constBits(), np.uint32, count=height * image.bytesPerLine() // 4)
    pixels = pixels.reshape(height, -1)[:, :width] & 0xFFFFFF
    return float(np.count_nonzero(pixels)) / pixels.size, len(np.unique(pixels))


def child_environment(home: Optional[str]) -> dict:
    if home is None:
        env = dict(os.environ)
    else:
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8"}
        env.update({key: os.environ[key] for key in ("DISPLAY", "XAUTHORITY") if key in os.environ})
    env["QT_QPA_PLATFORM"] = "xcb"
    return env


def save_shot(path: str) -> None:
    from PySide6.QtGui import QGuiApplication

    QGuiApplication.instance().primaryScreen().grabWindow(0).save(path)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="x_window_check.py")
    parser.add_argument("--shot", help="save the screen as PNG once the window is drawn")
    parser.add_argument("--home", help="run COMMAND with an empty environment and this home folder")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the window")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command: List[str] = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command or not os.environ.get("DISPLAY"):
        parser.error("needs COMMAND and an X display (run it under xvfb-run)")
    log = tempfile.TemporaryFile("w+")
    started = time.monotonic()
    app = subprocess.Popen(command, env=child_environment(args.home), stdout=log, stderr=subprocess.STDOUT)
    try:
        share, colours = 0.0, 0
        while time.monotonic() - started < args.timeout:
            time.sleep(1.0)
            if app.poll() is not None:
                break
            share, colours = screen_pixels()
            if share >= DRAWN_SHARE and colours >= DRAWN_COLOURS:
                time.sleep(2.0)  # drawn; still running a moment later, with its first paint done?
                if app.poll() is not None:
                    break
                if args.shot:
                    save_shot(args.shot)
                print(f"window drawn on the X server after {time.monotonic() - started:.0f} s: "
                      f"{share:.0%} of the screen, {colours} colours ({' '.join(command[-1:])})")
                return 0
        log.seek(0)
        tail = "".join(log.readlines()[-15:])
        if app.poll() is not None:
            print(f"the window ended with exit status {app.returncode} before it was drawn:\n{tail}", file=sys.stderr)
        else:
            print(f"nothing drawn on the X server in {args.timeout:.0f} s ({share:.0%} of the screen, "
                  f"{colours} colours):\n{tail}", file=sys.stderr)
        return 1
    finally:
        if app.poll() is None:
            app.terminate()
            try:
                app.wait(20)
            except subprocess.TimeoutExpired:
                app.kill()
                app.wait()


if __name__ == "__main__":
    sys.exit(main())
