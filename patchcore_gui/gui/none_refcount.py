"""A guard against a PySide6 reference-count bug that aborts a long-running window.

PySide6 6.12 on CPython 3.11 loses one reference to ``None`` each time a Python override hands
``None`` to Qt where Qt expects a QVariant: a table model's ``data()`` for a role it does not
serve (Qt asks for about ten roles per cell per paint) and pyqtgraph's ``itemChange`` while the
histogram redraws. Measured with the real window: about 30 references per inspected image. When
the count reaches zero CPython aborts with "Fatal Python error: none_dealloc: deallocating None";
``benchmarks/bench_batch_memory.py`` hit that twice before the end of a 5,000-image batch.

CPython 3.12 made ``None`` immortal (PEP 683); :func:`make_none_immortal` gives it the same
property on older versions by raising its count far beyond what any session can lose.
"""

from __future__ import annotations

import ctypes
import sys

#: 2**60 references: at a million lost per second, 36,000 years.
_RESERVE = 1 << 60


def make_none_immortal() -> bool:
    """Raise ``None``'s reference count by :data:`_RESERVE` once; True if it did (CPython < 3.12).

    >>> make_none_immortal() in (True, False)
    True
    """
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12) or hasattr(sys, "gettotalrefcount"):
        return False  # immortal already, another object layout, or a debug build with more header fields
    count = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt, the first field of every object
    if count.value < _RESERVE:
        count.value += _RESERVE
    return True
