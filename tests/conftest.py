"""Shared fixtures: one synthetic set of parts, one backbone and one fitted model per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from patchcore_gui.core.backbones import load_backbone  # noqa: E402
from patchcore_gui.core.config import PatchCoreConfig  # noqa: E402
from patchcore_gui.core.patchcore import FitResult, fit  # noqa: E402
from patchcore_gui.core.synthetic import SyntheticSet, write_synthetic_set  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BOTTLE = SHARED_DATA / "mvtec_bottle_512" / "bottle"
MAGNETIC_TILE = SHARED_DATA / "magnetic_tile" / "magnetic_tile"

#: A configuration that is quick on synthetic parts; the real defaults are exercised by the real-data tests.
FAST_CONFIG = PatchCoreConfig(coreset_ratio=0.25)


@pytest.fixture(scope="session")
def synthetic_set(tmp_path_factory: pytest.TempPathFactory) -> SyntheticSet:
    return write_synthetic_set(tmp_path_factory.mktemp("parts"), n_train=20, n_test_good=6, n_test_defective=6)


@pytest.fixture(scope="session")
def backbone():
    return load_backbone(FAST_CONFIG.backbone)


@pytest.fixture(scope="session")
def fitted(synthetic_set: SyntheticSet, backbone) -> FitResult:
    return fit(synthetic_set.train_good, FAST_CONFIG, backbone=backbone)


@pytest.fixture(autouse=True)
def disks_with_room(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every line in the tests sees disks with room: a test machine's own full disk would add its warning to lines
    the tests compare (the disk warning's own tests give theirs)."""
    from patchcore_gui.line import disk_space

    monkeypatch.setattr(disk_space, "read_usage", lambda folder: disk_space.Usage(10**13, 0, 10**13))


def require(path: Path) -> Path:
    """Skip the calling test when real data is not beside the checkout."""
    if not path.is_dir():
        pytest.skip(f"real data not found at {path}")
    return path
