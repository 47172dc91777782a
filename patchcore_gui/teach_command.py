"""``patchcore teach MODEL IMAGE...``: parts a person says are good go into the model's bank (core/teaching.py).

Also ``--list`` (the teachings, numbered) and ``--undo [N]`` (the newest, or number N). The model
file is written atomically, in place or to ``-o``. Exit status: 0 when every image was read, 1 when
some could not be (each named on stderr, the others taught), 2 when the command could not run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .core.errors import PatchCoreError
from .core.images import find_images
from .core.model_file import load_model, save_model
from .core.patchcore import Inspector
from .core.teaching import teach, teaching_lines, undo_teaching
from .program import add_model_argument

NEWEST = 0


def add_teach_command(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register ``teach`` with the CLI's sub-commands."""
    p = sub.add_parser("teach", help="add good parts the model rejected to its memory bank (no rebuild)",
                       description="Add what the memory bank lacks from images of good parts (false rejects), "
                                   "list the teachings, or undo one. The model file is rewritten atomically.")
    add_model_argument(p)
    p.add_argument("images", nargs="*", metavar="IMAGE_OR_DIR", help="images of parts that are good")
    p.add_argument("--list", action="store_true", help="list the model's teachings, numbered from the oldest")
    p.add_argument("--undo", nargs="?", type=int, const=NEWEST, metavar="N",
                   help="remove teaching N (as --list numbers them), by default the newest")
    p.add_argument("-o", "--output", help="write the taught model here instead of over MODEL")
    p.add_argument("--weights", type=Path, help="backbone weights file, if not where the model found it")
    p.set_defaults(run=cmd_teach)


def cmd_teach(args: argparse.Namespace) -> int:
    from .cli import TerminalProgress, print_error  # the CLI's own output helpers (it imports this module)

    if (args.list or args.undo is not None) and args.images:
        raise PatchCoreError("give images to teach, or --list, or --undo, not both")
    model = load_model(args.model)
    target = Path(args.output or args.model)
    if args.list:
        lines = teaching_lines(model)
        print("\n".join(lines) if lines else f"{Path(args.model).name}: no teachings")
        return 0
    if args.undo is not None:
        number = len(model.teachings) if args.undo == NEWEST else args.undo
        undone = model.teachings[number - 1] if 1 <= number <= len(model.teachings) else None
        model = undo_teaching(model, number)  # ValueError names the numbers there are
        save_model(model, target)
        assert undone is not None
        print(f"undid teaching {number}: {undone.file} ({len(undone.patches)} patches, {undone.taught_at}); "
              f"{len(model.teachings)} teaching(s) left; saved {target}")
        return 0
    if not args.images:
        raise PatchCoreError("name the images of good parts to teach (or --list, or --undo)")
    images, problems = find_images(args.images)
    for problem in problems:
        print_error(str(problem))
    outcome = teach(Inspector(model, weights=args.weights), images,
                    progress=TerminalProgress() if len(images) > 1 else None)
    for image in outcome.images:
        if image.error is not None:
            print_error(image.error)
        else:
            print(image.line(model.threshold))
    for number, _image, caution in outcome.cautions(model.threshold, len(model.teachings)):
        print(f"warning: {caution} (patchcore teach {target} --undo {number})", file=sys.stderr)
    if outcome.model is not model:
        save_model(outcome.model, target)
        print(f"saved {target}: {len(outcome.model.teachings)} teaching(s), bank {len(model.memory_bank)} fitted + "
              f"{outcome.model.taught_patches} taught patches")
    else:
        print("nothing added: the model is unchanged (nothing written)")
    failed = bool(problems) or any(image.error is not None for image in outcome.images)
    return 1 if failed or not images else 0
