"""Inspection results as rows a spreadsheet or a script can read (CSV), written atomically."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from .atomic import PathLike, atomic_write_text
from .model import verdict_of

CSV_COLUMNS = ("file", "score", "threshold", "verdict", "error")


@dataclass(frozen=True)
class ResultRow:
    """One line of a results table; ``score`` is None (and ``verdict`` "ERROR") for an unreadable file."""

    file: str
    score: Optional[float]
    threshold: float
    error: str = ""

    @property
    def verdict(self) -> str:
        return verdict_of(self.score, self.threshold)

    def line(self) -> str:
        """The console line: file, score, threshold, verdict separated by tabs."""
        if self.score is None:
            return f"{self.file}\t-\t{self.threshold:.4f}\tERROR\t{self.error}"
        return f"{self.file}\t{self.score:.4f}\t{self.threshold:.4f}\t{self.verdict}"


def results_csv_text(rows: Iterable[ResultRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        score = "" if row.score is None else f"{row.score:.6f}"
        writer.writerow((row.file, score, f"{row.threshold:.6f}", row.verdict, row.error))
    return buffer.getvalue()


def write_results_csv(path: PathLike, rows: Iterable[ResultRow]) -> Path:
    return atomic_write_text(path, results_csv_text(rows))
