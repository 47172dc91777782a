"""Evaluate on a category in the MVTec layout: fit on train/good, inspect test/*, measure.

Layout: ``train/good/*``, ``test/good/*``, ``test/<defect>/*`` and, where pixel labels exist,
``ground_truth/<defect>/<stem>_mask.png``. Metrics: image AUROC, pixel AUROC and AUPRO (to FPR 0.3).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import cv2
import numpy as np

from .atomic import PathLike
from .backbones import FeatureBackbone, load_backbone
from .config import PatchCoreConfig
from .errors import DatasetError
from .images import find_images
from .metrics import aupro, auroc, f1_optimal_threshold, pixel_auroc, pixel_auroc_per_kind
from .model import PatchCoreModel
from .patchcore import Inspection, Inspector, fit
from .progress import CancelToken, ProgressFn


@dataclass(frozen=True)
class TestImage:
    path: Path
    defect: str  # "good" or the defect folder's name
    mask_path: Optional[Path]

    @property
    def anomalous(self) -> bool:
        return self.defect != "good"


@dataclass
class EvaluationReport:
    """What ``patchcore evaluate`` prints and writes as JSON."""

    category: str
    image_auroc: float
    pixel_auroc: Optional[float]
    aupro: Optional[float]
    fit_seconds: float
    predict_ms_per_image: float
    n_train: int
    n_test: int
    threshold: float
    default_threshold_accuracy: float
    f1_threshold: float
    f1: float
    fit_stage_seconds: Dict[str, float] = field(default_factory=dict)
    bank_size: int = 0
    config: Dict[str, Any] = field(default_factory=dict)
    skipped: List[str] = field(default_factory=list)
    per_defect_auroc: Dict[str, float] = field(default_factory=dict)
    #: Per defect kind, the pixel AUROC of its images with the good ones (metrics.pixel_auroc_per_kind).
    per_defect_pixel_auroc: Dict[str, float] = field(default_factory=dict)
    #: At the default threshold: the share of test/good parts called NG, and of defective parts not called NG.
    false_reject_rate: float = 0.0
    miss_rate: float = 0.0
    #: The minimum defect area (pixels) the verdicts behind ``default_threshold_accuracy`` were made with.
    min_defect_area: float = 0.0
    #: How the bank was searched: "exact", or the approximate index with its settings.
    search: str = "exact"

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Evaluation:
    """The report, the model fitted on train/good, and every test image with its inspection."""

    report: EvaluationReport
    model: PatchCoreModel
    inspected: List[Tuple[TestImage, Inspection]]


def find_test_images(category: Path) -> List[TestImage]:
    """Every image under ``test/``, labelled by its folder, with its mask where one exists."""
    test_root = category / "test"
    if not test_root.is_dir():
        raise DatasetError(f"'{category}' has no test folder (expected the MVTec layout: test/good, test/<defect>)")
    items: List[TestImage] = []
    for folder in sorted(p for p in test_root.iterdir() if p.is_dir()):
        images, _ = find_images([folder])
        for path in images:
            mask = category / "ground_truth" / folder.name / f"{path.stem}_mask.png"
            items.append(TestImage(path, folder.name, mask if mask.is_file() else None))
    if not items:
        raise DatasetError(f"'{test_root}' holds no images")
    return items


def read_mask(item: TestImage, shape: tuple) -> np.ndarray:
    """The test image's defect mask at ``shape`` (all False for a good part): bool ``(H, W)``."""
    if item.mask_path is None:
        return np.zeros(shape, dtype=bool)
    mask = cv2.imdecode(np.fromfile(str(item.mask_path), dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise DatasetError(f"cannot read mask '{item.mask_path.name}'")
    if mask.shape != shape:
        mask = cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return mask > 127


def _share(flags: np.ndarray) -> float:
    """The share of True in ``flags``; 0 for none (a test set without good or without defective parts)."""
    return float(np.mean(flags)) if flags.size else 0.0


def training_images(category: Path) -> List[Path]:
    """The good parts of a data set in the MVTec layout (``train/good``), or :class:`DatasetError` saying what
    the folder lacks, before anything is loaded or estimated."""
    if not category.is_dir():
        raise DatasetError(f"'{category}' does not exist or is not a folder")
    if not (category / "train" / "good").is_dir():
        raise DatasetError(f"'{category}' is not a data set in the MVTec layout: it has no train{os.sep}good folder "
                           f"(evaluate builds from train/good and measures on test/KIND against ground_truth/KIND; "
                           f"to build from a folder of good parts: patchcore fit)")
    train, problems = find_images([category / "train" / "good"])
    if problems or not train:
        raise DatasetError(problems[0] if problems else f"'{category / 'train' / 'good'}' holds no images")
    return train


def evaluate(category_dir: PathLike, config: PatchCoreConfig = PatchCoreConfig(), weights: Optional[PathLike] = None,
             progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None,
             min_defect_area: float = 0.0, backbone: Optional[FeatureBackbone] = None) -> Evaluation:
    """Fit on train/good and measure on test/*; the verdicts (``default_threshold_accuracy``) judge each
    part's defect regions against ``min_defect_area`` pixels (0: by the score alone, as always). ``backbone``:
    the config's network, already loaded (by the caller's cost estimate)."""
    category = Path(category_dir)
    train = training_images(category)
    tests = find_test_images(category)

    backbone = backbone or load_backbone(config.backbone, config.layers, None if weights is None else Path(weights))
    started = time.perf_counter()
    fitted = fit(train, config, progress=progress, cancel=cancel, backbone=backbone, good_folder=str(category))
    fit_seconds = time.perf_counter() - started
    model = fitted.model.with_defect_size(min_defect_area) if min_defect_area > 0 else fitted.model
    inspector = Inspector(model, backbone=backbone)

    labels, scores, masks, maps, defects, verdicts = [], [], [], [], [], []
    inspected: List[Tuple[TestImage, Inspection]] = []
    skipped = list(fitted.skipped)
    has_masks = any(item.mask_path is not None for item in tests)
    by_path = {item.path: item for item in tests}
    started = time.perf_counter()
    for result in inspector.inspect_paths([item.path for item in tests], progress=progress, cancel=cancel):
        if result.inspection is None:
            skipped.append(result.error or f"cannot read '{result.path.name}'")
            continue
        item = by_path[result.path]
        inspected.append((item, result.inspection))
        labels.append(int(item.anomalous))
        scores.append(result.inspection.score)
        verdicts.append(result.inspection.verdict(model))
        defects.append(item.defect)
        if has_masks:
            masks.append(read_mask(item, result.inspection.anomaly_map.shape))
            maps.append(result.inspection.anomaly_map)
    predict_ms = 1000.0 * (time.perf_counter() - started) / max(1, len(scores))

    label_array, score_array = np.asarray(labels), np.asarray(scores)
    ng = np.asarray(verdicts) == "NG"
    threshold = model.threshold
    f1_threshold, f1 = f1_optimal_threshold(label_array, score_array)
    per_defect = {}
    for defect in sorted(set(defects) - {"good"}):
        chosen = np.isin(np.asarray(defects), ["good", defect])
        per_defect[defect] = auroc(label_array[chosen], score_array[chosen])
    report = EvaluationReport(
        category=category.name,
        image_auroc=auroc(label_array, score_array),
        pixel_auroc=pixel_auroc(masks, maps) if has_masks else None,
        aupro=aupro(masks, maps) if has_masks else None,
        fit_seconds=fit_seconds,
        predict_ms_per_image=predict_ms,
        n_train=fitted.model.n_good_images,
        n_test=len(scores),
        threshold=threshold,
        default_threshold_accuracy=float(np.mean(ng == label_array.astype(bool))),
        false_reject_rate=_share(ng[label_array == 0]),
        miss_rate=_share(~ng[label_array == 1]),
        f1_threshold=f1_threshold,
        f1=f1,
        fit_stage_seconds=fitted.seconds,
        bank_size=len(model.memory_bank),
        config=config.to_dict(),
        skipped=skipped,
        per_defect_auroc=per_defect,
        per_defect_pixel_auroc=pixel_auroc_per_kind(masks, maps, defects) if has_masks else {},
        min_defect_area=model.min_defect_area,
        search=inspector.bank.search.describe(),
    )
    return Evaluation(report=report, model=model, inspected=inspected)
