"""A package's exported names imported when first used (PEP 562), so a light command stays light.

``patchcore log`` reads the record and the time a shift starts; importing the engine's or the line's
modules eagerly for that loaded torch and the network code, 1.5 s of its 2 s start.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable, Dict, List, Tuple


def lazy_exports(package: str, homes: Dict[str, List[str]]) -> Tuple[Callable[[str], Any], Callable[[], List[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose names live in the modules ``homes`` maps to them.

    >>> getattr_, dir_ = lazy_exports("patchcore_gui.core", {".errors": ["PatchCoreError"]})
    >>> getattr_("PatchCoreError").__name__, "PatchCoreError" in dir_()
    ('PatchCoreError', True)
    """
    home_of = {name: module for module, names in homes.items() for name in names}
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = home_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value  # the next use finds it without this function
        return value

    def __dir__() -> List[str]:
        return sorted(set(namespace) | set(home_of))

    return __getattr__, __dir__
