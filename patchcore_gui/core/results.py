"""Inspection results as rows a spreadsheet or a script can read (CSV), written atomically.

A CSV must say on its own, weeks later, what it holds: every row carries when the part was
inspected, which model scored it (file name and an identity that survives renaming), the
threshold and where it came from, and whether the file holds all rows or only the NG ones. These
are columns, not comment lines, so ``csv``, pandas and spreadsheets read the file as it is.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .atomic import PathLike, atomic_write_text
from .csv_style import PLAIN, CsvStyle
from .verdict import verdict_of
from .regions import DefectRegion, largest_area, regions_summary

if TYPE_CHECKING:
    from .model import PatchCoreModel

#: The first five are the columns of earlier versions, in the same order; new columns go at the end.
CSV_COLUMNS = ("file", "score", "threshold", "verdict", "error",
               "threshold_source", "inspected_at", "model", "model_id", "rows_written", "review_from",
               "region_count", "largest_region_px", "min_defect_area_px", "largest_region_mm2", "regions")
#: Between the regions of one part in the ``regions`` column (one cell, readable in a spreadsheet).
REGION_SEPARATOR = "; "

THRESHOLD_LEARNED = "learned"  # the default, learned from the held-out good parts at build time
THRESHOLD_SET_BY_USER = "set by user"
ALL_ROWS = "all"
NG_ONLY = "NG only"


def inspection_time() -> str:
    """Now, local time with its UTC offset and milliseconds: readable on the line, unambiguous later.

    >>> inspection_time()  # doctest: +SKIP
    '2026-11-28T09:41:05.123+01:00'
    """
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class ResultRow:
    """One line of a results table; ``score`` is None (and ``verdict`` "ERROR") for an unreadable file.

    ``review_from`` is the start of the review band in force (None: no band).
    """

    file: str
    score: Optional[float]
    threshold: float
    error: str = ""
    inspected_at: str = ""
    review_from: Optional[float] = None
    #: The part's defect regions at ``threshold``, largest first; None when not measured (an error).
    regions: Optional[Tuple[DefectRegion, ...]] = None
    min_defect_area: float = 0.0
    pixel_size_mm: Optional[float] = None

    @classmethod
    def inspected(cls, file: str, score: float, model: "PatchCoreModel", regions: Sequence[DefectRegion],
                  inspected_at: str = "") -> "ResultRow":
        """The row of a part ``model`` inspected, with its defect regions at the model's threshold."""
        return cls(file, score, model.threshold, inspected_at=inspected_at, review_from=model.review_from,
                   regions=tuple(regions), min_defect_area=model.min_defect_area, pixel_size_mm=model.pixel_size_mm)

    @property
    def largest_region(self) -> Optional[int]:
        return None if self.regions is None else largest_area(self.regions)

    @property
    def verdict(self) -> str:
        return verdict_of(self.score, self.threshold, review_from=self.review_from,
                          largest_region=self.largest_region, min_defect_area=self.min_defect_area)

    def line(self) -> str:
        """The console line: file, score, threshold, verdict, and the regions, separated by tabs."""
        if self.score is None:
            return f"{self.file}\t-\t{self.threshold:.4f}\tERROR\t{self.error}"
        return (f"{self.file}\t{self.score:.4f}\t{self.threshold:.4f}\t{self.verdict}\t"
                f"{regions_summary(self.regions, self.pixel_size_mm)}")

    def region_cells(self, style: CsvStyle = PLAIN) -> Tuple[str, str, str, str, str]:
        """``region_count, largest_region_px, min_defect_area_px, largest_region_mm2, regions`` of the CSV."""
        minimum = style.numeral(f"{self.min_defect_area:g}")
        if self.regions is None:
            return "", "", minimum, "", ""
        largest = largest_area(self.regions)
        mm2 = style.numeral(f"{largest * self.pixel_size_mm ** 2:.6g}") if self.pixel_size_mm else ""
        listed = REGION_SEPARATOR.join(f"{number}: {region.describe(self.pixel_size_mm)}"
                                       for number, region in enumerate(self.regions, start=1))
        return str(len(self.regions)), str(largest), minimum, mm2, listed


def model_identity(model: "PatchCoreModel") -> str:
    """12 hex digits that name one build: sha256 over its memory bank, held-out good scores,
    backbone weights, configuration and creation time, its region of interest and any taught patches.

    The threshold is left out on purpose: it has its own column, and one build calibrated twice is
    still one model. Renaming or copying the file keeps the identity.
    """
    digest = hashlib.sha256()
    facts = {"config": model.config.to_dict(), "weights": model.weights_sha256, "created": model.created}
    digest.update(json.dumps(facts, sort_keys=True).encode("utf-8"))
    digest.update(np.ascontiguousarray(model.memory_bank, dtype="<f4"))  # no copy of a bank already so
    digest.update(np.ascontiguousarray(model.good_scores, dtype="<f4"))
    if model.roi is not None:  # another region scores other patches: another model (none: as before)
        digest.update(model.roi.mask.tobytes())
    for teaching in model.teachings:  # a taught bank is another model; an untaught one keeps its old identity
        digest.update(np.ascontiguousarray(teaching.patches, dtype="<f4"))
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class ResultsSource:
    """What every row of one CSV shares: the model, where its threshold came from, which rows."""

    model: str = ""  #: the model file's name, "not saved" for a fresh build, "" when there is no model
    model_id: str = ""
    threshold_source: str = ""  #: :data:`THRESHOLD_LEARNED` or :data:`THRESHOLD_SET_BY_USER`
    rows_written: str = ALL_ROWS  #: :data:`ALL_ROWS` or :data:`NG_ONLY`

    @classmethod
    def of(cls, model: Optional["PatchCoreModel"], model_file: Optional[PathLike], ng_only: bool = False
           ) -> "ResultsSource":
        rows = NG_ONLY if ng_only else ALL_ROWS
        if model is None:
            return cls(rows_written=rows)
        source = THRESHOLD_LEARNED if model.threshold == model.default_threshold else THRESHOLD_SET_BY_USER
        name = Path(model_file).name if model_file else "not saved"
        return cls(model=name, model_id=model_identity(model), threshold_source=source, rows_written=rows)


def rows_to_write(rows: Sequence[ResultRow], ng_only: bool) -> List[ResultRow]:
    """All rows, or the NG ones only: what a list filtered to "NG only" shows is what gets written."""
    return [row for row in rows if row.verdict == "NG"] if ng_only else list(rows)


def results_csv_text(rows: Iterable[ResultRow], source: ResultsSource = ResultsSource(),
                     style: CsvStyle = PLAIN) -> str:
    buffer = io.StringIO()
    writer = style.begin(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow((row.file, style.number(row.score), style.number(row.threshold), row.verdict, row.error,
                         source.threshold_source, style.time_text(row.inspected_at), source.model, source.model_id,
                         source.rows_written, style.number(row.review_from), *row.region_cells(style)))
    return buffer.getvalue()


def write_results_csv(path: PathLike, rows: Iterable[ResultRow], source: ResultsSource = ResultsSource(),
                      style: CsvStyle = PLAIN) -> Path:
    return atomic_write_text(path, results_csv_text(rows, source, style))


def csv_written_message(path: PathLike, written: int, total: int, source: ResultsSource) -> str:
    """The one line that tells a person what went into the file.

    >>> csv_written_message("out/results.csv", 3, 40, ResultsSource("line3.patchcore", "ab12", "set by user", NG_ONLY))
    'Wrote 3 of 40 rows (NG only, as the list shows) to results.csv: model line3.patchcore, threshold set by user'
    """
    rows = f"{written} of {total} rows (NG only, as the list shows)" if source.rows_written == NG_ONLY \
        else f"all {written} rows"
    about = f": model {source.model}, threshold {source.threshold_source}" if source.model else ""
    return f"Wrote {rows} to {Path(path).name}{about}"
