"""``patchcore roi MODEL [MASK.png | --clear]`` and ``patchcore fit --roi MASK.png``: the region of interest.

A mask is a black-and-white picture of a good part's size: white is inspected, black ignored
(core/roi.py has the rules). Setting one on a built model needs no rebuild; what it recomputes is said
in one line.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from .core.atomic import atomic_write_bytes
from .core.errors import PatchCoreError
from .core.likeness import GoodPartsLook
from .core.model_file import load_model, save_model
from .core.roi import change_summary
from .core.overlay import encode_png
from .core.roi import RegionOfInterest, fit_to_good_parts, read_roi_image
from .program import add_model_argument


def mask_for(path: Path, good_parts: Optional[GoodPartsLook]) -> RegionOfInterest:
    """The region in a mask picture, checked against the good parts' size (:func:`fit_to_good_parts`)."""
    sizes: Tuple[Optional[Tuple[int, int]], Optional[Tuple[int, int]]] = (None, None)
    if good_parts is not None:
        sizes = (good_parts.height, good_parts.width)
    return fit_to_good_parts(read_roi_image(path), Path(path).name, *sizes)


def cmd_roi(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    if args.export:
        if model.roi is None:
            raise PatchCoreError(f"'{Path(args.model).name}' has no region of interest to export")
        atomic_write_bytes(args.export, encode_png(np.repeat(model.roi.mask[:, :, None], 3, axis=2)))  # RGB in
        print(f"wrote {args.export}: {model.roi.size[1]} x {model.roi.size[0]}, white = inspected")
        return 0
    if args.clear == (args.mask is not None):
        if args.mask is None and model.roi is None:
            print(f"{Path(args.model).name}: no region of interest (the whole part is inspected)")
            return 0
        if args.mask is None:
            assert model.roi is not None
            print(f"{Path(args.model).name}: region of interest of {model.roi.size[1]} x {model.roi.size[0]} pixels, "
                  f"{100 * model.roi.share:.0f}% inspected")
            return 0
        raise PatchCoreError("give a mask picture or --clear, not both")
    roi = None if args.clear else mask_for(Path(args.mask), model.good_parts)
    changed = model.with_region_of_interest(roi)
    target = save_model(changed, args.output or args.model)
    print(f"saved {target}: {change_summary(model, changed)}")
    return 0


def add_roi_command(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register ``roi`` with the CLI's sub-commands."""
    p = sub.add_parser("roi", help="set, clear or show a model's region of interest (no rebuild)",
                       description="Set the region of interest of a built model from a black-and-white picture of "
                                   "a good part's size (white = inspected, black = ignored), or clear it. Without "
                                   "MASK or --clear, says what the model has.")
    add_model_argument(p)
    p.add_argument("mask", nargs="?", help="black-and-white PNG (or any image) of a good part's size")
    p.add_argument("--clear", action="store_true", help="inspect the whole part again")
    p.add_argument("-o", "--output", help="write the changed model here (default: over MODEL, atomically)")
    p.add_argument("--export", metavar="PNG", help="write the model's region as a black-and-white PNG")
    p.set_defaults(run=cmd_roi)


def add_fit_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--roi", type=Path, metavar="MASK",
                        help="inspect only the white part of this black-and-white picture of a good part")
