"""Teaching: images a person says are good go into the memory bank, in seconds, without a rebuild.

A false reject is a good part whose patches lie far from every bank vector. Teaching extracts the
image's patch features with the model's own network and preprocessing (:meth:`Inspector.feature_grids`,
the very path inspection takes) and adds the patches the bank lacks: those farther from it than
``min(covering distance, threshold)`` (the review band's start, where a band is set). The covering
distance (core/coverage.py) is what the bank already tolerates for the patches it was built from; the
threshold bound makes sure the taught image itself passes as OK, since an image score never exceeds
its largest patch distance. Only patches inside the region of interest count, so only they are taught. Which rule,
and why not simply all patches, was measured: docs/benchmarks.md, "Teaching".

Taught patches never replace anything: the bank searched is the fitted coreset followed by every
teaching's patches (:meth:`PatchCoreModel.bank_vectors`), so undoing a teaching gives back exactly
the bank it had before, and a taught patch can only lower a nearest distance.

>>> outcome = teach(Inspector(model), ["rejected_but_good.png"])   # doctest: +SKIP
>>> outcome.images[0].added, outcome.model.teachings[-1].file       # doctest: +SKIP
(37, 'rejected_but_good.png')
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import faiss
import numpy as np

from .atomic import PathLike
from .coverage import estimated_coverage_radius
from .fingerprint import file_fingerprint
from .model import PatchCoreModel, Teaching, now_iso
from .patchcore import Inspector
from .progress import CancelToken, ProgressFn, check, report
from .scoring import score_grids, score_patches

STAGE = "teach"
#: The rules compared in benchmarks/bench_teaching.py; the first is the one in use: patches farther than
#: min(covering distance, threshold), farther than the covering distance alone, or every patch.
BEYOND_COVERAGE = "beyond coverage"
COVERAGE_ONLY = "coverage only"
ALL_PATCHES = "all patches"
RULES = (BEYOND_COVERAGE, COVERAGE_ONLY, ALL_PATCHES)
#: A taught part that scored more than this times the threshold, or more than this share of whose patches were new
#: to the bank, lay farther from the good parts than the good parts the models rejected (at most 1.17x and 30%,
#: bottle's and Magnetic Tile's): it is taught as asked, with a caution that it may not be good. Measured on every
#: rejected test part: docs/benchmarks.md, "Teaching a part far from the good ones".
FAR_ABOVE_THRESHOLD = 1.5
MOSTLY_NEW = 0.5


def covering_distance(model: PatchCoreModel) -> float:
    """The coreset's covering distance: recorded at fit time, else estimated from the fitted bank."""
    if model.coverage_radius is not None:
        return float(model.coverage_radius)
    return estimated_coverage_radius(model.memory_bank)


def addition_limit(model: PatchCoreModel, rule: str = BEYOND_COVERAGE) -> float:
    """Patches farther than this from the bank are added (every patch for :data:`ALL_PATCHES`)."""
    if rule == ALL_PATCHES:
        return -1.0
    if rule == COVERAGE_ONLY:
        return covering_distance(model)
    if rule != BEYOND_COVERAGE:
        raise ValueError(f"teaching rule must be one of {RULES}, not {rule!r}")
    # the highest score that is still OK: the review band's start where a band is set
    ok_up_to = model.threshold if model.review_from is None else min(model.review_from, model.threshold)
    return min(covering_distance(model), float(ok_up_to))


@dataclass(frozen=True)
class TaughtImage:
    """What teaching did with one image: patches added of the image's patches, and its score before and
    after (at the model's threshold); or the one-line reason the image could not be read."""

    path: Path
    added: int = 0
    patches: int = 0
    score_before: Optional[float] = None
    score_after: Optional[float] = None
    error: Optional[str] = None

    def line(self, threshold: float) -> str:
        """The console line for this image.

        >>> TaughtImage(Path("a.png"), 37, 784, 31.25, 18.5).line(25.0)
        'a.png: added 37 of 784 patches; score 31.2500 -> 18.5000 (threshold 25.0000)'
        """
        if self.error is not None:
            return self.error
        if self.added == 0:
            return (f"{self.path.name}: nothing added, the bank already covers it; score {self.score_before:.4f} "
                    f"(threshold {threshold:.4f})")
        return (f"{self.path.name}: added {self.added} of {self.patches} patches; score {self.score_before:.4f} -> "
                f"{self.score_after:.4f} (threshold {threshold:.4f})")

    def caution(self, threshold: float) -> str:
        """Why this taught image may not be a good part at all (the wrong file, a defect not seen), else "".

        >>> TaughtImage(Path("a.png"), 468, 700, 64.48, 19.59).caution(26.75)[:68]
        'a.png scored 2.4x the threshold, and 67% of its patches were new to '
        >>> TaughtImage(Path("b.png"), 55, 784, 30.81, 19.59).caution(26.75)
        ''
        """
        if self.added == 0 or self.score_before is None:
            return ""
        new = self.added / max(self.patches, 1)
        if self.score_before <= FAR_ABOVE_THRESHOLD * threshold and new <= MOSTLY_NEW:
            return ""
        return (f"{self.path.name} scored {self.score_before / threshold:.1f}x the threshold, and {new:.0%} of its "
                f"patches were new to the bank: farther from the good parts than a good part the model rejects "
                f"tends to be; if it is not a good part, undo its teaching")


@dataclass(frozen=True)
class TeachingOutcome:
    """The taught model, an inspector for it (network shared, bank indexed), and one line per image."""

    model: PatchCoreModel
    inspector: Inspector
    images: List[TaughtImage]

    @property
    def added(self) -> int:
        return sum(image.added for image in self.images)

    def cautions(self, threshold: float, taught_before: int) -> List[Tuple[int, TaughtImage, str]]:
        """``(teaching number, image, caution)`` of each image taught with a caution: its number as ``--list``
        and undo count them, after the ``taught_before`` teachings the model had."""
        found = []
        number = taught_before
        for image in self.images:
            number += image.added > 0  # a teaching for each image that added patches (none for a failed one)
            caution = image.caution(threshold)
            if caution:
                found.append((number, image, caution))
        return found


def teach(inspector: Inspector, paths: Sequence[PathLike], progress: Optional[ProgressFn] = None,
          cancel: Optional[CancelToken] = None, rule: str = BEYOND_COVERAGE) -> TeachingOutcome:
    """Add to ``inspector.model``'s bank what it lacks of each readable image in ``paths``.

    Images are taught one after the other, each against the bank with the earlier ones' patches, so
    a second near copy adds little. An image that adds nothing is not listed as a teaching. An
    unreadable file gets its one-line error and the others go on. Reports stage "teach".
    """
    model = inspector.model
    limit = addition_limit(model, rule)
    neighbours = model.config.reweight_neighbours
    image_paths = [Path(p) for p in paths]
    added: List[np.ndarray] = []
    teachings: List[Teaching] = []
    taught: List[TaughtImage] = []
    grids = {}
    report(progress, 0, len(image_paths), STAGE)
    for done, (path, outcome) in enumerate(inspector.feature_grids(image_paths, cancel), start=1):
        check(cancel)
        if isinstance(outcome, str):
            taught.append(TaughtImage(path, error=outcome))
        else:
            grid, counted = outcome
            vectors = grid.reshape(-1, grid.shape[-1])
            if counted is not None:  # patches outside the region of interest never count: none is taught
                vectors = vectors[counted.reshape(-1)]
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            distances, _ = score_patches(vectors, inspector.bank)
            if added:  # this call's earlier images count as bank
                so_far = np.concatenate(added)
                squared, _ = faiss.knn(vectors, so_far, 1)
                distances = np.minimum(distances, np.sqrt(np.maximum(squared[:, 0], 0.0)))
            new = vectors[distances > limit].copy()
            score_before = score_grids([grid], inspector.bank, neighbours, [counted])[0][0]
            if len(new):
                added.append(new)
                fingerprint = file_fingerprint(path)
                teachings.append(Teaching(file=path.name, taught_at=now_iso(), patches=new,
                                          image_sha256=fingerprint.sha256 if fingerprint is not None else ""))
            grids[len(taught)] = (grid, counted)
            taught.append(TaughtImage(path, added=len(new), patches=len(vectors), score_before=score_before))
        report(progress, done, len(image_paths), STAGE)
    check(cancel)
    taught_model = replace(model, teachings=model.teachings + tuple(teachings)) if teachings else model
    after = Inspector(taught_model, backbone=inspector.backbone) if teachings else inspector
    if grids:
        scores = score_grids([grid for grid, _ in grids.values()], after.bank, neighbours,
                             [counted for _, counted in grids.values()])
        for index, (score, _) in zip(grids, scores):
            taught[index] = replace(taught[index], score_after=score)
    return TeachingOutcome(taught_model, after, taught)


def undo_teaching(model: PatchCoreModel, number: Optional[int] = None) -> PatchCoreModel:
    """The model without teaching ``number`` (1 = the oldest, as listed), by default the newest.

    The bank is then exactly what it was before that teaching (with the others kept). Raises
    ``ValueError`` naming the numbers there are.
    """
    count = len(model.teachings)
    if count == 0:
        raise ValueError("the model has no teachings to undo")
    number = count if number is None else number
    if not 1 <= number <= count:
        raise ValueError(f"there is no teaching {number}: the model lists {count} (1 to {count})")
    return replace(model, teachings=model.teachings[:number - 1] + model.teachings[number:])


def teaching_lines(model: PatchCoreModel) -> List[str]:
    """One line per teaching, numbered as :func:`undo_teaching` counts them.

    >>> teaching_lines(model)   # doctest: +SKIP
    ['1  2026-11-28T12:00:00+00:00  000.png  37 patches']
    """
    return [f"{number}  {teaching.taught_at}  {teaching.file}  {len(teaching.patches)} patches"
            for number, teaching in enumerate(model.teachings, start=1)]
