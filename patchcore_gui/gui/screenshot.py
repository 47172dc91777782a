"""Take the README's screenshots: ``python -m patchcore_gui.gui.screenshot MODEL OUT.png IMAGE... [--show NAME]``.

With ``--line CAMERA`` the window runs a line on that empty folder and the images are written into it
one by one, as a camera would: the line mode's screenshot.

Run it under a display (``xvfb-run -s "-screen 0 1600x1000x24"``) so fonts and styles are the real
ones. The window uses a throw-away settings file, so the user's remembered folders are untouched.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m patchcore_gui.gui.screenshot")
    parser.add_argument("model", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("images", nargs="+", type=Path)
    parser.add_argument("--show", default="", help="select the row whose file path contains this text")
    parser.add_argument("--size", default="1400x900")
    parser.add_argument("--region", type=int, default=0, metavar="N",
                        help="select the shown part's defect region N (1 = the largest) in its list")
    parser.add_argument("--line", type=Path, metavar="CAMERA",
                        help="line mode: run a line on this empty folder and write the images into it one by one")
    parser.add_argument("--region-editor", metavar="SHAPES",
                        help="grab the region editor on the shown part instead, after drawing SHAPES: JSON "
                             '[[mode, tool, [[x, y], ...]], ...] with x, y as fractions of the part, e.g. '
                             '[["exclude", "rectangle", [[0, 0], [0.3, 0.2]]]]')
    parser.add_argument("--teach", default="", metavar="NAME",
                        help="teach the part whose file path contains NAME as good, show the Teachings dock")
    parser.add_argument("--hold", type=float, default=0.0,
                        help="seconds to stay open after the screenshot (to take the screen from outside too)")
    parser.add_argument("--side-panel", action="store_true", help="grab the side panel only (verdict and threshold)")
    parser.add_argument("--reject-at-most", type=int, metavar="N",
                        help="set the threshold for at most 1 good part in N rejected, as the threshold panel does")
    args = parser.parse_args(argv)

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0]])
    from .main_window import MainWindow
    from .results_model import ITEM_ROLE
    from .window_record import scratch_settings

    with tempfile.TemporaryDirectory() as scratch:
        window = MainWindow(settings=scratch_settings(Path(scratch)))
        window.use_message_boxes = False
        width, height = (int(v) for v in args.size.split("x"))
        window.resize(width, height)
        window.show()
        if not window.open_model(args.model):
            print(window.last_error, file=sys.stderr)
            return 2
        loop = QEventLoop()
        window.job_done.connect(loop.quit)
        if args.line is not None:
            _run_line(window, args.line, args.images)
        else:
            window.add_inputs(args.images)
        if window.busy:
            loop.exec()
        if args.teach:
            _teach(window, args.teach)
        proxy = window.results_panel.proxy
        for row in range(proxy.rowCount()):
            item = proxy.index(row, 0).data(ITEM_ROLE)
            if args.show and args.show in str(item.path):
                window.results_panel.select_row(row)
                break
        if args.region:
            window.side_panel.regions_panel.select(args.region - 1)
        QTimer.singleShot(500, loop.quit)  # let the batch views refresh and the view repaint
        loop.exec()
        if args.reject_at_most:
            review = window.document.review_from
            window.side_panel.threshold_panel.set_reject_rate(args.reject_at_most)
            if review is not None:  # the model's band stays where it was, below the new threshold
                window.document.set_review_from(min(review, window.document.threshold))
            QTimer.singleShot(300, loop.quit)
            loop.exec()
        window.document.set_dirty(False)
        if args.region_editor:
            ok = _grab_region_editor(window, args.region_editor, args.out)
        else:
            ok = (window.side_panel if args.side_panel else window).grab().save(str(args.out))
        if args.hold:
            QTimer.singleShot(int(args.hold * 1000), loop.quit)
            loop.exec()
        window.line_mode.panel.stop()
        window.close()
    print(f"wrote {args.out}" if ok else f"could not write {args.out}", flush=True)
    return 0 if ok else 1


def _grab_region_editor(window, shapes: str, out: Path) -> bool:  # type: ignore[no-untyped-def]
    """Open the region editor on the shown part, draw ``shapes`` (see ``--region-editor``) and grab it."""
    import json

    from PySide6.QtCore import QEventLoop, QTimer

    editor = window.region_of_interest.open_editor()
    if editor is None:
        return False
    height, width = editor.part.shape[:2]
    buttons = {"include": editor.include_button, "exclude": editor.exclude_button, "erase": editor.erase_button,
               "rectangle": editor.rectangle_button, "polygon": editor.polygon_button}
    for mode, tool, points in json.loads(shapes):
        buttons[mode].setChecked(True)
        buttons[tool].setChecked(True)
        pixels = [(x * width, y * height) for x, y in points]
        if tool == "rectangle":
            editor.finish_rectangle(pixels[0], pixels[1])
        else:
            for x, y in pixels:
                editor.add_point(x, y)
            editor.close_polygon()
    loop = QEventLoop()
    QTimer.singleShot(500, loop.quit)
    loop.exec()
    ok = editor.grab().save(str(out))
    editor.close()
    return ok


def _teach(window, name: str) -> None:  # type: ignore[no-untyped-def]
    """Teach the listed part whose path contains ``name``, wait until the list is inspected again, show the dock."""
    from PySide6.QtCore import QEventLoop

    part = next(item.path for item in window.results.items() if name in str(item.path))
    loop = QEventLoop()
    window.job_done.connect(loop.quit)
    window.teaching.teach([part])
    while window.busy:
        loop.exec()
    window.teaching.dock.show()


def _run_line(window, camera: Path, images: Sequence[Path]) -> None:  # type: ignore[no-untyped-def]
    """Start a line on ``camera`` and write ``images`` into it as a camera would, then wait for them all."""
    import shutil

    from PySide6.QtCore import QEventLoop, QTimer

    window.line_mode.run_line(camera)
    panel = window.line_mode.panel
    loop = QEventLoop()
    for image in images:
        shutil.copy(image, camera / f".{image.name}.part")
        (camera / f".{image.name}.part").rename(camera / f"{image.parent.name}_{image.name}")
        QTimer.singleShot(300, loop.quit)
        loop.exec()
    while panel.last_snapshot is None or panel.last_snapshot.inspected < len(images):
        QTimer.singleShot(200, loop.quit)
        loop.exec()


if __name__ == "__main__":
    sys.exit(main())
