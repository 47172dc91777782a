"""The machine's memory as a fit sees it: what is available before starting, and freed pages given back.

A fit holds the patch features of every good image at once, so it checks up front that they can
fit instead of swapping or dying an hour in (docs/benchmarks.md, "Memory" and "How cost grows").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Optional

import psutil

from .errors import DatasetError

#: Share of the available memory a fit's features may take: the rest is for the network, the
#: process itself and whatever else runs on the line PC.
_USABLE_SHARE = 0.8


def available_memory() -> int:
    """Bytes a new allocation can get without swapping: free memory plus what the system can reclaim.

    That is psutil's ``available`` (Linux's MemAvailable, Windows' available physical memory).
    Plain free memory leaves out the page cache, which on a machine that has read many images
    holds most of the memory, and would refuse fits that fit.
    """
    return int(psutil.virtual_memory().available)


def feature_memory_need(n_images: int, patches_per_image: float, dim: int) -> int:
    """Bytes a fit needs for the patch features of ``n_images`` good images: the features, then their
    projection and the coreset loop (twice the features; 2.2 MB measured per 1.5 MB image, docs/benchmarks.md)."""
    return int(n_images * patches_per_image * dim * 4 * 2)


def check_feature_memory(n_images: int, patches_per_image: float, dim: int) -> None:
    """Refuse before starting when the patch features of every good image could not fit in memory.

    ``patches_per_image`` and ``dim``: scored patch cells of a good image (on average, when the input
    geometry keeps each image's proportions) and the feature size; raises :class:`DatasetError` with the
    need and what is available.
    """
    needed = feature_memory_need(n_images, patches_per_image, dim)
    available = available_memory()
    if needed > _USABLE_SHARE * available:
        raise DatasetError(f"{n_images} good images need about {needed / 2**30:.1f} GiB for their patch features "
                           f"but only {available / 2**30:.1f} GiB is free: use fewer images, a smaller input size or "
                           f"fewer tiles")


def give_back_freed_memory() -> None:
    """Return freed heap pages to the system (glibc only; elsewhere nothing to do).

    glibc keeps the pages of freed network activations that lie between the feature grids that
    stay, so without this a fit's memory grows faster than its features (docs/benchmarks.md, "Memory").
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _load_libc() -> Optional[ctypes.CDLL]:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _load_libc()
