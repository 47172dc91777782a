"""Real-data evaluations shared by the engine's tests (each costs minutes: made once per session)."""

import os
from pathlib import Path

import pytest

from patchcore_gui.core.build_cost import image_sizes, resolved_config, with_automatic_choices
from patchcore_gui.core.config import PatchCoreConfig
from patchcore_gui.core.evaluate import Evaluation, evaluate, find_test_images
from patchcore_gui.core.images import find_images

from ..conftest import MAGNETIC_TILE, require


def automatic_config(category: Path) -> PatchCoreConfig:
    """What `fit` chooses for a category's good images when the user chooses nothing: geometry, network and bank."""
    train, _ = find_images([category / "train" / "good"])
    return with_automatic_choices(resolved_config(PatchCoreConfig(), image_sizes(train), automatic=True))


def magnetic_tile_subset(category: Path, root: Path) -> Path:
    """A category of links: every 2nd good image, every 3rd test image with its mask (the benchmark's probe)."""
    good, _ = find_images([category / "train" / "good"])
    (root / "train" / "good").mkdir(parents=True)
    for path in good[::2]:
        os.symlink(path, root / "train" / "good" / path.name)
    for item in find_test_images(category)[::3]:
        (root / "test" / item.defect).mkdir(parents=True, exist_ok=True)
        os.symlink(item.path, root / "test" / item.defect / item.path.name)
        if item.mask_path is not None:
            (root / "ground_truth" / item.defect).mkdir(parents=True, exist_ok=True)
            os.symlink(item.mask_path, root / "ground_truth" / item.defect / item.mask_path.name)
    return root


@pytest.fixture(scope="session")
def magnetic_tile_automatic(tmp_path_factory) -> Evaluation:
    """Magnetic Tile with what `fit` chooses by itself (tiles at the parts' own resolution), on the
    benchmark's fixed probe: every 2nd good image, every 3rd test image (194 of 582, every defect kind).
    The whole category with tiles costs several times this (docs/benchmarks.md, "Input geometry")."""
    category = magnetic_tile_subset(require(MAGNETIC_TILE), tmp_path_factory.mktemp("magnetic_tile"))
    return evaluate(category, automatic_config(category))
