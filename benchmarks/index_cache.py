"""Patch features of a category cached on disk, so the search benchmarks run the network only once.

Usage::

    .venv/bin/python benchmarks/index_cache.py ../shared/data/mvtec_bottle_512/bottle /work/cache/index --size 224

writes ``CACHE/<category>_<size>/``: ``train.npy (n, h, w, D)`` float32 (the good images of
``train/good`` in ``find_images`` order, as ``fit`` sees them), ``test.npy`` likewise for every image
under ``test/``, and ``meta.json`` (the configuration, the preprocessing, each test image's defect,
mask path and original size). The features are the engine's own (``extract_good_features``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import patchcore_gui  # noqa: F401  (first: it sets the thread wait policies before numpy and torch load)

import numpy as np
from PIL import Image

from patchcore_gui.core import (PatchCoreConfig, Preprocessing, extract_good_features, find_images, find_test_images,
                                load_backbone)


def cache_folder(cache: Path, category: Path, size: int) -> Path:
    return cache / f"{category.name}_{size}"


def _save_grids(target: Path, grids: List[np.ndarray]) -> None:
    stacked = np.lib.format.open_memmap(target, mode="w+", dtype=np.float32, shape=(len(grids), *grids[0].shape))
    for row, grid in enumerate(grids):
        stacked[row] = grid
    stacked.flush()
    del stacked


def write_cache(category: Path, cache: Path, size: int) -> Path:
    folder = cache_folder(cache, category, size)
    folder.mkdir(parents=True, exist_ok=True)
    config = PatchCoreConfig(resize=size)
    backbone = load_backbone(config.backbone, config.layers)
    train, problems = find_images([category / "train" / "good"])
    assert not problems, problems
    tests = find_test_images(category)
    started = time.perf_counter()
    good = extract_good_features(train, config, backbone)
    assert not good.skipped, good.skipped
    _save_grids(folder / "train.npy", good.grids)  # type: ignore[arg-type]
    del good
    tested = extract_good_features([item.path for item in tests], config, backbone)
    assert not tested.skipped, tested.skipped
    _save_grids(folder / "test.npy", tested.grids)  # type: ignore[arg-type]
    originals = []
    for item in tests:
        with Image.open(item.path) as image:
            originals.append([image.height, image.width])
    meta = {"category": str(category), "config": config.to_dict(), "preprocessing": tested.preprocessing.to_dict(),
            "train": [str(path) for path in train],
            "test": [{"path": str(item.path), "defect": item.defect,
                      "mask": None if item.mask_path is None else str(item.mask_path), "original": original}
                     for item, original in zip(tests, originals)],
            "seconds": time.perf_counter() - started}
    (folder / "meta.json").write_text(json.dumps(meta, indent=1))
    return folder


def read_cache(folder: Path) -> Tuple[np.ndarray, np.ndarray, Dict[str, Any], Preprocessing]:
    """``train (n, h, w, D)``, ``test (m, h, w, D)`` (memory-mapped), the metadata, the preprocessing."""
    meta = json.loads((folder / "meta.json").read_text())
    return (np.load(folder / "train.npy", mmap_mode="r"), np.load(folder / "test.npy", mmap_mode="r"), meta,
            Preprocessing.from_dict(meta["preprocessing"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("category", type=Path)
    parser.add_argument("cache", type=Path)
    parser.add_argument("--size", type=int, default=224)
    args = parser.parse_args()
    folder = write_cache(args.category, args.cache, args.size)
    meta = json.loads((folder / "meta.json").read_text())
    print(f"{folder}: {len(meta['train'])} train, {len(meta['test'])} test images in {meta['seconds']:.0f} s")


if __name__ == "__main__":
    main()
