"""The ``patchcore`` program's entry: its arguments to a command, errors as one line, the exit.

``patchcore log`` only reads the inspection record, so it is parsed and run without the engine's
libraries (torch and the network code took 1.5 s of its 2 s start; a script that asks the record about
one part after another pays that each time). Every other command goes through :mod:`.cli`.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Optional, Sequence

from tqdm import tqdm

from .core.errors import PatchCoreError

PROG = "patchcore"
DESCRIPTION = "PatchCore Inspector: anomaly detection for manufactured parts, learned from good parts only."


def print_error(message: str) -> None:
    """One ``error: ...`` line on stderr, whatever stderr is; clears and redraws a progress bar on a terminal."""
    tqdm.write(f"error: {message}", file=sys.stderr)


def command_parser() -> "tuple[argparse.ArgumentParser, argparse._SubParsersAction[argparse.ArgumentParser]]":
    """The program's parser and the action its commands are added to."""
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION)
    return parser, parser.add_subparsers(dest="command", required=True)


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    """The model file a command reads (or rewrites), named first on its line."""
    parser.add_argument("model", help="the model file (.patchcore), as `patchcore fit` or the window saved it")


def _record_only_parser() -> argparse.ArgumentParser:
    from .record.log_command import add_log_command

    parser, sub = command_parser()
    add_log_command(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["log"]:
        parser = _record_only_parser()
    else:
        from .cli import build_parser

        parser = build_parser()
    args = parser.parse_args(arguments)
    # Pillow's plugins complain about damaged files through `warnings` (two lines each on stderr);
    # the file's own one-line error already says what is wrong with it.
    warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
    try:
        return args.run(args)
    except PatchCoreError as exc:
        print_error(str(exc) + _model_named_later(args, exc))
        return 2
    except ValueError as exc:  # configuration values refused by PatchCoreConfig
        print_error(str(exc))
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # its reader went away (`patchcore log STORE | head`): it stops quietly, as Unix tools do
        # what is left unwritten would fail again at the exit's flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a program ended by it


def _model_named_later(args: argparse.Namespace, problem: PatchCoreError) -> str:
    """``; the model comes first: ...`` when the model named is not one and a later argument is (``patchcore predict
    part.png line3.patchcore``), else ""."""
    from .core.errors import ModelFileError

    if not isinstance(problem, ModelFileError) or not getattr(args, "model", None):
        return ""
    from .core.model_file import is_model_path

    later = [*(getattr(args, "inputs", None) or []), *(getattr(args, "images", None) or []),
             getattr(args, "folder", None)]
    model = next((str(path) for path in later if path and is_model_path(path)), None)
    return "" if model is None else f"; the model comes first: {PROG} {args.command} {model} ..."


def run_as_program() -> None:
    """The ``patchcore`` program (console script, ``python -m``, the packaged folder): :func:`main`, then exit.

    The process ends with ``os._exit`` once its output is flushed: now and then (about 1 run in 5 of
    ``watch`` stopped by SIGTERM here) a native library's thread pool aborted the interpreter's teardown
    ("terminate called without an active exception"), turning a clean stop into exit status 134 for the
    service manager. Every result is durable by then: models, CSVs and overlays are written atomically
    and the inspection store commits each record before it is counted.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run_as_program()
