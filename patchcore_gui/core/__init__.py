"""The engine: PatchCore from good images to a model file, and from a part's image to its verdict.

What callers outside the engine (the CLI, the window, the benchmarks, the coming line mode) use is
exported here, grouped the way a fit and an inspection run; everything else is the engine's own.

>>> from patchcore_gui.core import Inspector, PatchCoreConfig, fit, save_model  # doctest: +SKIP
>>> model = fit(find_images(["good/"])[0], PatchCoreConfig()).model              # doctest: +SKIP
>>> Inspector(model).inspect(read_image("part.png")).score                       # doctest: +SKIP
"""

from typing import Dict, List

from ..lazy_exports import lazy_exports

#: Where each name exported here lives. A module is imported when one of its names is first used
#: (PEP 562): reading the inspection record (``patchcore log``) then loads neither torch nor the
#: network code, which took 1.5 s of its 2 s start.
_HOMES: Dict[str, List[str]] = {
    ".atomic": ["PathLike", "atomic_write_bytes", "atomic_write_text", "fsync_folder",
               "refuse_unwritable_folder"],
    ".backbones": ["BACKBONES", "DEFAULT_BACKBONE", "FeatureBackbone", "get_spec", "load_backbone", "resolve_layers"],
    ".calibration": ["Calibration", "MapScale", "calibrate", "default_threshold", "holdout_split"],
    ".config": ["PatchCoreConfig"],
    ".coreset": ["LOWER_BOUND_AXES", "coreset_size", "greedy_coreset", "plain_greedy_coreset", "random_projection"],
    ".errors": ["Cancelled", "DatasetError", "FileWriteError", "ImageReadError", "ModelFileError", "PatchCoreError",
        "WeightsMissingError"],
    ".engine": ["Engine"],
    ".evaluate": ["EvaluationReport", "evaluate", "find_test_images"],
    ".features": ["PatchFeatureExtractor", "aggregate_neighbourhood", "join_layers"],
    ".fingerprint": ["FileFingerprint", "file_fingerprint", "read_fingerprinted", "stat_key"],
    ".images": ["IMAGE_SUFFIXES", "MAX_PIXELS", "InputProblem", "Preprocessing", "find_images", "preprocess",
        "read_image"],
    ".geometry": ["GEOMETRIES", "Placement", "map_to_original", "network_inputs", "original_to_grid",
        "original_to_input", "place", "stitch", "suggest_geometry"],
    ".build_cost": ["BuildCost", "estimate_build_cost"],
    ".memory": ["available_memory"],
    ".memory_bank": ["ClusteredBank", "MemoryBank", "cluster_count"],
    ".metrics": ["aupro", "auroc", "f1_optimal_threshold", "pixel_auroc", "pixel_auroc_per_kind"],
    ".model": ["PatchCoreModel"],
    ".verdict": ["verdict_of"],
    ".model_file": ["MODEL_SUFFIX", "is_model_file", "load_model", "save_model"],
    ".overlay": ["COLOUR_MAP", "OVERLAY_OPACITY", "OverlayTarget", "encode_png", "inspection_overlay",
        "overlay_targets"],
    ".patchcore": ["FitResult", "GoodFeatures", "ImageResult", "Inspection", "Inspector", "bank_candidates",
        "extract_good_features", "fit"],
    ".progress": ["CancelToken", "ProgressFn"],
    ".regions": ["DefectRegion", "DefectRegions", "find_defect_regions"],
    ".results": ["ResultRow", "write_results_csv"],
    ".scoring": ["anomaly_map", "reweighted_image_score", "score_grids", "score_patches"],
    ".synthetic": ["SyntheticSet", "add_defect", "good_part", "write_png", "write_synthetic_set"],
    ".teaching": ["TaughtImage", "TeachingOutcome", "teach", "teaching_lines", "undo_teaching"],
}
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)

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
    "refuse_unwritable_folder",
    # measuring
    "evaluate", "EvaluationReport", "find_test_images",
    "auroc", "pixel_auroc", "pixel_auroc_per_kind", "aupro", "f1_optimal_threshold",
    "SyntheticSet", "write_synthetic_set", "good_part", "add_defect", "write_png",
    # progress, cancellation and errors
    "ProgressFn", "CancelToken",
    "PatchCoreError", "ImageReadError", "DatasetError", "ModelFileError", "WeightsMissingError", "Cancelled",
    "FileWriteError",
]
