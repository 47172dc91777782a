"""A guard against PySide6 reference-count bugs that abort a long-running window.

PySide6 6.12 on CPython 3.11 loses references to the interpreter's singletons:

- one to ``None`` each time a Python override hands ``None`` to Qt where Qt expects a QVariant: a
  table model's ``data()`` for a role it does not serve (Qt asks for about ten roles per cell per
  paint) and pyqtgraph's ``itemChange`` while the histogram redraws. Measured with the real window:
  about 30 references per inspected image; ``benchmarks/bench_batch_memory.py`` hit "Fatal Python
  error: none_dealloc" twice before the end of a 5,000-image batch.
- one to ``True`` on every ``Signal.emit()`` from Python (emit returns True and drops a reference it
  never took). The window in line mode held 42,221 references to ``True`` when its line started and
  lost 2.9 a part (``benchmarks/bench_window_line.py``, 600 bottle parts): without the guard it would
  abort with "Fatal Python error: bool_dealloc" after about 14,500 parts, ten minutes at 25 parts/s.

CPython 3.12 made ``None``, ``True`` and ``False`` immortal (PEP 683); :func:`make_singletons_immortal`
gives them the same property on older versions by raising their counts far beyond what any session
can lose.
"""

from __future__ import annotations

import ctypes
import sys

#: 2**60 references: at a million lost per second, 36,000 years.
_RESERVE = 1 << 60

#: What PySide6 is seen to lose references to (``False`` too: Qt hands it back from overrides as often).
SINGLETONS = (None, True, False)


def make_singletons_immortal() -> bool:
    """Raise the reference counts of ``None``, ``True`` and ``False`` by :data:`_RESERVE`, once each;
    True if it did (CPython < 3.12).

    >>> make_singletons_immortal() in (True, False)
    True
    """
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12) or hasattr(sys, "gettotalrefcount"):
        return False  # immortal already, another object layout, or a debug build with more header fields
    for singleton in SINGLETONS:
        count = ctypes.c_ssize_t.from_address(id(singleton))  # ob_refcnt, the first field of every object
        if count.value < _RESERVE:
            count.value += _RESERVE
    return True
