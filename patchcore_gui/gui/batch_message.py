"""The status bar's word on the list's last batch ("Inspected: 4 OK, 12 NG, 0 unreadable"), kept true.

Its counts are those at the threshold of the moment: a threshold moved takes them away (the verdict panel
above has the new ones), keeping a warning that came with them. A batch that inspects the list again after
the model changed carries what the change did (a region drawn, a part taught), which was said a moment
before and would otherwise be replaced before anyone could read it.
"""

from __future__ import annotations

from typing import Callable, Dict, Optional

from PySide6.QtWidgets import QStatusBar


class BatchMessage:
    def __init__(self, status_bar: QStatusBar, show_info: Callable[[str], None]) -> None:
        self._status_bar = status_bar
        self._show_info = show_info
        self._said = ""  # the last batch's message as shown
        self._warning = ""
        self._threshold: Optional[float] = None  # the threshold its counts were made at
        #: while the list is inspected again after a model change: "" until the change says what it did, then that
        self._change: Optional[str] = None

    def list_inspected_again(self) -> None:
        self._change = ""

    def heard(self, text: str) -> None:
        """Every message the window says: the first after a model change is what the change did."""
        if self._change == "":
            self._change = text

    def batch_ended(self) -> None:
        self._change = None

    def say(self, counts: Dict[str, int], warning: str, threshold: float) -> None:
        review = f"{counts['REVIEW']} REVIEW, " if counts["REVIEW"] else ""
        change, self._change = self._change, None
        lead = "Inspected" if change is None else f"{change}. Inspected again" if change else "Inspected again"
        self._said = (f"{lead}: {counts['OK']} OK, {review}{counts['NG']} NG, {counts['ERROR']} unreadable"
                      + (f". {warning}" if warning else ""))
        self._warning, self._threshold = warning, threshold
        self._show_info(self._said)

    def threshold_moved(self, threshold: float) -> None:
        if threshold == self._threshold:
            return  # the same threshold said again (the histogram's range followed the batch)
        if self._said and self._status_bar.currentMessage() == self._said:
            self._status_bar.clearMessage()
            if self._warning:
                self._show_info(self._warning)
        self._said, self._warning, self._threshold = "", "", None
