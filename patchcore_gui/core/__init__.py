"""The engine: PatchCore from good images to a model file, and from a part's image to its verdict.

What callers outside the engine (the CLI, the window, the benchmarks, the coming line mode) use is
exported here, grouped the way a fit and an inspection run; everything else is the engine's own.

>>> from patchcore_gui.core import Inspector, PatchCoreConfig, fit, save_model  # doctest: +SKIP
>>> model = fit(find_images(["good/"])[0], PatchCoreConfig()).model              # doctest: +SKIP
>>> Inspector(model).inspect(read_image("part.png")).score                       # doctest: +SKIP
"""

from .atomic import PathLike, atomic_write_bytes, atomic_write_text, fsync_folder
from .backbones import BACKBONES, DEFAULT_BACKBONE, FeatureBackbone, get_spec, load_backbone, resolve_layers
from .calibration import Calibration, MapScale, calibrate, default_threshold, holdout_split
from .config import PatchCoreConfig
from .coreset import LOWER_BOUND_AXES, coreset_size, greedy_coreset, plain_greedy_coreset, random_projection
from .errors import (Cancelled, DatasetError, FileWriteError, ImageReadError, ModelFileError, PatchCoreError,
                     WeightsMissingError)
from .engine import Engine
from .evaluate import EvaluationReport, evaluate, find_test_images
from .features import PatchFeatureExtractor, aggregate_neighbourhood, join_layers
from .fingerprint import FileFingerprint, file_fingerprint, read_fingerprinted, stat_key
from .images import IMAGE_SUFFIXES, MAX_PIXELS, InputProblem, Preprocessing, find_images, preprocess, read_image
from .geometry import (GEOMETRIES, Placement, map_to_original, network_inputs, original_to_grid, original_to_input,
                       place, stitch, suggest_geometry)
from .build_cost import BuildCost, estimate_build_cost
from .memory import available_memory
from .memory_bank import ClusteredBank, MemoryBank, cluster_count
from .metrics import aupro, auroc, f1_optimal_threshold, pixel_auroc, pixel_auroc_per_kind
from .model import PatchCoreModel, verdict_of
from .model_file import MODEL_SUFFIX, is_model_file, load_model, save_model
from .overlay import COLOUR_MAP, OVERLAY_OPACITY, OverlayTarget, encode_png, inspection_overlay, overlay_targets
from .patchcore import (FitResult, GoodFeatures, ImageResult, Inspection, Inspector, bank_candidates,
                        extract_good_features, fit)
from .progress import CancelToken, ProgressFn
from .regions import DefectRegion, DefectRegions, find_defect_regions
from .results import ResultRow, write_results_csv
from .scoring import anomaly_map, reweighted_image_score, score_grids, score_patches
from .synthetic import SyntheticSet, add_defect, good_part, write_png, write_synthetic_set
from .teaching import TaughtImage, TeachingOutcome, teach, teaching_lines, undo_teaching

__all__ = [
    # settings, and the model they make
    "PatchCoreConfig", "PatchCoreModel", "MapScale", "verdict_of",
    # fitting: features -> coreset -> bank -> calibration
    "fit", "FitResult", "extract_good_features", "GoodFeatures", "bank_candidates",
    "coreset_size", "greedy_coreset", "plain_greedy_coreset", "random_projection", "LOWER_BOUND_AXES",
    "calibrate", "Calibration", "default_threshold", "holdout_split",
    # inspecting, and the engine a long-running program keeps (one network, the open model's inspector)
    "Inspector", "Inspection", "ImageResult", "Engine", "DefectRegion", "DefectRegions", "find_defect_regions",
    # teaching: good parts the model rejected, added to the bank without a rebuild
    "teach", "undo_teaching", "teaching_lines", "TeachingOutcome", "TaughtImage",
    # the pieces both use
    "FeatureBackbone", "BACKBONES", "DEFAULT_BACKBONE", "load_backbone", "get_spec", "resolve_layers",
    "PatchFeatureExtractor", "aggregate_neighbourhood", "join_layers",
    "MemoryBank", "ClusteredBank", "cluster_count",
    "score_grids", "score_patches", "reweighted_image_score", "anomaly_map",
    "available_memory",
    # images in, files out
    "read_image", "find_images", "InputProblem", "IMAGE_SUFFIXES", "MAX_PIXELS", "Preprocessing", "preprocess",
    # input geometry: what the network sees of an image, and the way back (maps, masks)
    "GEOMETRIES", "Placement", "place", "network_inputs", "stitch", "map_to_original", "original_to_input",
    "original_to_grid", "suggest_geometry", "BuildCost", "estimate_build_cost",
    "FileFingerprint", "file_fingerprint", "read_fingerprinted", "stat_key",
    "load_model", "save_model", "is_model_file", "MODEL_SUFFIX",
    "inspection_overlay", "encode_png", "overlay_targets", "OverlayTarget", "COLOUR_MAP", "OVERLAY_OPACITY",
    "ResultRow", "write_results_csv", "atomic_write_bytes", "atomic_write_text", "fsync_folder", "PathLike",
    # measuring
    "evaluate", "EvaluationReport", "find_test_images",
    "auroc", "pixel_auroc", "pixel_auroc_per_kind", "aupro", "f1_optimal_threshold",
    "SyntheticSet", "write_synthetic_set", "good_part", "add_defect", "write_png",
    # progress, cancellation and errors
    "ProgressFn", "CancelToken",
    "PatchCoreError", "ImageReadError", "DatasetError", "ModelFileError", "WeightsMissingError", "Cancelled",
    "FileWriteError",
]
