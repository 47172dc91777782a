"""``patchcore threshold MODEL``: read or set a model's threshold and review band from the command line.

    patchcore threshold line3.patchcore                                  # what it is, what it rests on
    patchcore threshold line3.patchcore --reject-at-most 1/1000          # at most 1 good part in 1000 rejected
    patchcore threshold line3.patchcore --review-from 1/50 -o line3-review.patchcore
    patchcore threshold line3.patchcore --set 29.5 --no-review

A rate is written ``1/1000``, ``0.1%`` or ``0.001``; the threshold it gives comes from the model's
held-out good scores (:func:`~patchcore_gui.core.calibration.threshold_for_reject_rate`), and the
command says how many parts that rests on. The model is written back atomically (to ``-o`` if given).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional

from .core.calibration import parse_rate, threshold_for_reject_rate
from .core.model import PatchCoreModel
from .core.model_file import load_model, save_model
from .program import add_model_argument

#: the rates the plain command shows thresholds for
SHOWN_RATES = (100, 1000, 10000)


def add_threshold_command(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("threshold", help="show or set a model's threshold (e.g. at most 1 in 1000 good parts "
                                         "rejected) and its review band",
                       description="Without options, show a model's threshold, its review band and what they\n"
                                   "rest on; with one, set them and write the model back atomically. Nothing is\n"
                                   "rebuilt.",
                       epilog="examples:\n" + "\n".join("  " + line.strip() for line in __doc__.split("\n\n")[1]
                                                         .splitlines()),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_argument(p)
    rule = p.add_mutually_exclusive_group()
    rule.add_argument("--reject-at-most", metavar="RATE", type=_rate,
                      help="set the threshold so that at most this share of good parts is rejected (1/1000, 0.1%%)")
    rule.add_argument("--set", metavar="SCORE", type=float, help="set the threshold to this score")
    rule.add_argument("--default", action="store_true", help="back to the threshold learned when the model was built")
    band = p.add_mutually_exclusive_group()
    band.add_argument("--review-from", metavar="SCORE_OR_RATE",
                      help="start a review band (OK / REVIEW / NG) at this score, or where this share of good parts "
                           "scores above it (1/50: the rarest 2%% of good parts go to a person)")
    band.add_argument("--no-review", action="store_true", help="remove the review band (OK / NG only)")
    p.add_argument("-o", "--output", help="write the changed model here (default: over MODEL)")
    p.set_defaults(run=cmd_threshold)


def _rate(text: str) -> float:
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _review_start(text: str, model: PatchCoreModel) -> float:
    """A score, or a rate (``1/50``, ``2%``) turned into a score by the held-out good parts."""
    if "/" in text or text.strip().endswith("%"):
        return threshold_for_reject_rate(model.good_scores, parse_rate(text)).threshold
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"--review-from '{text}' is neither a score nor a rate (e.g. 27.5 or 1/50)") from None


def describe(model: PatchCoreModel) -> str:
    """What a person needs to judge the threshold: its value, its source, the band, what it rests on."""
    n = len(model.good_scores)
    lines = [f"threshold {model.threshold:.4f} (default {model.default_threshold:.4f}, learned from {n} held-out "
             f"good parts)",
             "review band: none (OK / NG)" if model.review_from is None else
             f"review band: scores above {model.review_from:.4f} up to the threshold are REVIEW"]
    if n >= 2:
        lines.append("at most 1 good part in N rejected:")
        for one_in in SHOWN_RATES:
            chosen = threshold_for_reject_rate(model.good_scores, 1.0 / one_in)
            lines.append(f"  1 in {one_in:>6,}: threshold {chosen.threshold:.4f} ({chosen.method})")
    return "\n".join(lines)


def cmd_threshold(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    changed: Optional[PatchCoreModel] = None
    if args.reject_at_most is not None:
        chosen = threshold_for_reject_rate(model.good_scores, args.reject_at_most)
        changed = model.with_threshold(chosen.threshold)
        print(f"at most 1 in {chosen.one_in:,.0f} good parts rejected: threshold {chosen.threshold:.4f}")
        print(chosen.trust())
    elif args.set is not None:
        changed = model.with_threshold(args.set)
    elif args.default:
        changed = model.with_threshold(model.default_threshold)
    if args.review_from is not None or args.no_review:
        base = changed or model
        start = None if args.no_review else _review_start(args.review_from, model)
        if start is not None and start > base.threshold:
            raise ValueError(f"the review band must start at or below the threshold {base.threshold:.4f}, "
                             f"not at {start:.4f}")
        changed = base.with_review_band(start)
    if changed is None:
        print(describe(model))
        return 0
    target = save_model(changed, Path(args.output) if args.output else Path(args.model))
    print(describe(changed))
    print(f"saved {target}")
    return 0
