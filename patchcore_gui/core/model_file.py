"""The model file: one safetensors file, no pickle, versioned, with an integrity hash.

Layout (spec in docs/model-format.md): the safetensors header's ``__metadata__`` holds
``format`` = ``patchcore-inspector-model``, ``format_version``, ``header`` (JSON: config,
preprocessing, backbone facts, calibration) and ``sha256`` over the header JSON and the tensor
bytes; the tensors are ``memory_bank (M, D) float32`` and ``good_scores (n,) float32``.
Loading parses the header by hand first so that every failure gets a message, and never runs code.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import numpy as np
from safetensors.numpy import load as load_tensors
from safetensors.numpy import save as save_tensors

from .atomic import PathLike, atomic_write_bytes
from .calibration import MapScale
from .config import PatchCoreConfig
from .errors import ModelFileError, UnknownSettings, refuse_unknown_keys
from .images import Preprocessing
from .likeness import GoodPartsLook
from .memory_bank import EXACT_SEARCH, SearchIndex
from .model import PatchCoreModel, Teaching
from .roi import GoodPatchRecord, RegionOfInterest

FORMAT_NAME = "patchcore-inspector-model"
FORMAT_VERSION = 2
#: Versions this program reads. Version 2 may carry tensors beyond the bank and the good scores
#: (region of interest, taught patches...); every one of them is covered by the integrity hash.
READABLE_VERSIONS = ("1", "2")
MODEL_SUFFIX = ".patchcore"
_MAX_HEADER = 100 * 1024 * 1024


_FIRST_TENSORS = ("memory_bank", "good_scores")
#: Every teaching's patches, one after the other in teaching order; header ``teachings`` says how many each.
TAUGHT_PATCHES = "taught_patches"


def _digest(header_json: str, tensors: Dict[str, np.ndarray]) -> str:
    """sha256 of the header, then the bank, the good scores and any other tensor in name order, each
    as its little-endian bytes (for a version 1 file exactly its old hash: bank and good scores only)."""
    digest = hashlib.sha256(header_json.encode("utf-8"))
    others = sorted(name for name in tensors if name not in _FIRST_TENSORS)
    for name in (*_FIRST_TENSORS, *others):
        array = np.ascontiguousarray(tensors[name])
        digest.update(array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes())
    return digest.hexdigest()


def model_to_bytes(model: PatchCoreModel) -> bytes:
    header_json, tensors = _header_and_tensors(model)
    metadata = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION), "header": header_json,
                "sha256": _digest(header_json, tensors)}
    return save_tensors(tensors, metadata=metadata)


#: The model's fields that only judge a score (a verdict from it), not how a part is scored.
JUDGING = ("threshold", "review_from", "min_defect_area", "pixel_size_mm")


def inspects_alike(a: PatchCoreModel, b: PatchCoreModel) -> bool:
    """Whether two models score and map every part the same way, differing at most in how a score is
    judged (threshold, review band, minimum defect area, pixel size): a line takes such a model up
    without loading its network and bank again."""
    judged = {name: getattr(a, name) for name in JUDGING}
    header_a, tensors_a = _header_and_tensors(a)
    header_b, tensors_b = _header_and_tensors(replace(b, **judged))
    return header_a == header_b and tensors_a.keys() == tensors_b.keys() and all(
        np.array_equal(tensors_a[name], tensors_b[name]) for name in tensors_a)


#: What :func:`what_changed` says of two models that are one (a model file written again as it was).
NOTHING_CHANGED = "the same model as before"
#: What it says of two that differ in nothing it names: another model of the same settings copied over.
SCORED_ANEW = "how parts are scored: network, input or memory bank"


def what_changed(old: PatchCoreModel, new: PatchCoreModel, scored: bool = True) -> str:
    """What an engineer's tuning changed, in a few words ("threshold 2.5000 -> 3.0000, ...").

    When none of the named settings differ, ``scored`` compares how the two score parts (a few ms for a large
    bank: :func:`inspects_alike`); without it they are taken as the same model."""
    def band(model: PatchCoreModel) -> str:
        return "none" if model.review_from is None else f"{model.review_from:.4f}"

    def region(model: PatchCoreModel) -> str:
        if model.roi is None:
            return "none"
        return "set" if model is old or old.roi is None or old.roi == model.roi else "set anew"

    changes = [f"{name} {before} -> {after}" for name, before, after in (
        ("threshold", f"{old.threshold:.4f}", f"{new.threshold:.4f}"),
        ("review band from", band(old), band(new)),
        ("minimum defect area", f"{old.min_defect_area:g} px", f"{new.min_defect_area:g} px"),
        ("region of interest", region(old), region(new)),
        ("taught parts", str(len(old.teachings)), str(len(new.teachings))),
        ("memory bank", f"{len(old.memory_bank):,} patches", f"{len(new.memory_bank):,} patches"),
        ("pixel size", _mm(old.pixel_size_mm), _mm(new.pixel_size_mm)),
    ) if before != after]
    if changes:
        return ", ".join(changes)
    return NOTHING_CHANGED if not scored or inspects_alike(old, new) else SCORED_ANEW


def _mm(size: Optional[float]) -> str:
    return "none" if size is None else f"{size:g} mm"


def _header_and_tensors(model: PatchCoreModel) -> Tuple[str, Dict[str, np.ndarray]]:
    header = {
        "config": model.config.to_dict(),
        "preprocessing": model.preprocessing.to_dict(),
        "backbone": {"name": model.config.backbone, "layers": list(model.layers),
                     "weights_sha256": model.weights_sha256},
        "threshold": model.threshold,
        "default_threshold": model.default_threshold,
        "map_scale": {"ratio": model.map_scale.ratio, "floor": model.map_scale.floor},
        "n_good_images": model.n_good_images,
        "n_patches": model.n_patches,
        "feature_grid": list(model.feature_grid),
        "created": model.created,
        "good_folder": model.good_folder,
    }
    if model.good_parts is not None:  # absent from files written before it was recorded
        header["good_parts"] = model.good_parts.to_dict()
    if model.review_from is not None:  # absent: no review band, as in every older file
        header["review_from"] = model.review_from
    if model.min_defect_area > 0 or model.pixel_size_mm is not None:  # absent: every region counts (as before)
        header["defect_size"] = {"min_area_px": model.min_defect_area, "pixel_size_mm": model.pixel_size_mm}
    if model.coverage_radius is not None:
        header["coverage_radius"] = model.coverage_radius
    if model.teachings:
        header["teachings"] = [{"file": t.file, "taught_at": t.taught_at, "patches": len(t.patches),
                                "image_sha256": t.image_sha256} for t in model.teachings]
    if model.search.approximate:  # absent: the exact search, as in every file before the choice existed
        header["search"] = model.search.to_dict()
    header_json = json.dumps(header, sort_keys=True)
    tensors = {"memory_bank": np.ascontiguousarray(model.memory_bank, dtype=np.float32),
               "good_scores": np.ascontiguousarray(model.good_scores, dtype=np.float32)}
    if model.roi is not None:  # each absent from files written before it: see docs/model-format.md
        tensors["roi_mask"] = np.ascontiguousarray(model.roi.mask, dtype=np.uint8)
    if model.good_patches is not None:
        tensors["good_patch_distances"] = np.ascontiguousarray(model.good_patches.distances, dtype=np.float32)
        tensors["good_patch_scores"] = np.ascontiguousarray(model.good_patches.scores, dtype=np.float32)
        tensors["good_image_sizes"] = np.ascontiguousarray(model.good_patches.sizes, dtype=np.int32)
        tensors["good_patch_grids"] = np.ascontiguousarray(model.good_patches.grids, dtype=np.int32)
    if model.teachings:
        dim = model.memory_bank.shape[1]
        tensors[TAUGHT_PATCHES] = np.ascontiguousarray(np.concatenate(
            [np.asarray(t.patches, np.float32).reshape(-1, dim) for t in model.teachings]), dtype=np.float32)
    if model.search_centroids is not None:
        tensors["search_centroids"] = np.ascontiguousarray(model.search_centroids, dtype=np.float32)
    return header_json, tensors


def save_model(model: PatchCoreModel, path: PathLike) -> Path:
    """Write ``model`` to ``path`` atomically (the old file survives a crash mid-write)."""
    return atomic_write_bytes(path, model_to_bytes(model))


def _read_metadata(name: str, data: bytes) -> Dict[str, str]:
    if len(data) < 8:
        raise ModelFileError(f"cannot open model '{name}': not a PatchCore model ({len(data)} bytes)")
    (header_size,) = struct.unpack("<Q", data[:8])
    if header_size > _MAX_HEADER or data[8:9] != b"{":
        raise ModelFileError(f"cannot open model '{name}': not a PatchCore model file")
    if 8 + header_size > len(data):
        raise ModelFileError(f"cannot open model '{name}': the file is truncated ({len(data)} bytes)")
    try:
        header = json.loads(data[8:8 + header_size])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError(f"cannot open model '{name}': not a PatchCore model file") from None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise ModelFileError(f"cannot open model '{name}': a safetensors file, but not a PatchCore model")
    return metadata


def is_model_file(path: PathLike) -> bool:
    """Whether ``path`` holds a PatchCore model, told by its content (the safetensors header names the
    format), whatever the file is called. Reads the header only; never raises.
    """
    try:
        with open(path, "rb") as file:
            head = file.read(9)
            if len(head) < 9 or head[8:9] != b"{":
                return False
            (header_size,) = struct.unpack("<Q", head[:8])
            if header_size > _MAX_HEADER:
                return False
            data = head + file.read(header_size - 1)
    except OSError:
        return False
    try:
        _read_metadata(Path(path).name, data)
    except ModelFileError:
        return False
    return True


def is_model_path(path: PathLike) -> bool:
    """Whether a path a person gave is a model to open rather than an image: a file holding a model,
    whatever its name, or one named ``.patchcore`` (opening it then says what is wrong with it)."""
    target = Path(path)
    return target.is_file() and (target.suffix == MODEL_SUFFIX or is_model_file(target))


def model_from_bytes(data: bytes, name: str = "model") -> PatchCoreModel:
    metadata = _read_metadata(name, data)
    version = metadata.get("format_version", "?")
    if version not in READABLE_VERSIONS:
        raise ModelFileError(f"cannot open model '{name}': format version {version} is not supported by this "
                             f"program (it reads versions {', '.join(READABLE_VERSIONS)}); use the program that "
                             f"wrote it")
    try:
        tensors = load_tensors(data)
        header_json = metadata["header"]
        bank, good = tensors["memory_bank"], tensors["good_scores"]
    except Exception:
        raise ModelFileError(f"cannot open model '{name}': the file is truncated or damaged") from None
    if _digest(header_json, tensors) != metadata.get("sha256"):
        raise ModelFileError(f"cannot open model '{name}': integrity check failed (the file was altered or damaged)")
    try:
        return _model_from_header(json.loads(header_json), bank, good, tensors)
    except UnknownSettings as exc:  # its hash holds: not damaged, but made by a program that knows more
        raise ModelFileError(f"cannot open model '{name}': it was made by a newer PatchCore Inspector, with settings "
                             f"this program does not know ({exc}); open it with that version, or install it on this "
                             "PC") from None
    except Exception as exc:  # only data is interpreted here: whatever it holds, a failure is the file's
        cause = " ".join(str(exc).split()) or type(exc).__name__
        raise ModelFileError(f"cannot open model '{name}': inconsistent contents ({cause})") from None


def _search_of(header: Dict[str, Any], config: PatchCoreConfig, bank: np.ndarray,
               centroids: Optional[np.ndarray]) -> SearchIndex:
    search = SearchIndex.from_dict(header["search"]) if "search" in header else EXACT_SEARCH
    if search.kind != config.search:
        raise ValueError(f"the configuration asks for the {config.search} search, the file records {search.kind}")
    expected = (search.lists, bank.shape[1]) if search.approximate else None
    found = None if centroids is None else (centroids.shape, centroids.dtype)
    if (expected is None) != (centroids is None) or (found is not None and found != (expected, np.float32)):
        raise ValueError(f"search cell centres {found} do not fit the {search.kind} search of this bank")
    return search


def _good_patches(tensors: Dict[str, np.ndarray], n_good: int) -> Optional[GoodPatchRecord]:
    names = ("good_patch_distances", "good_patch_scores", "good_image_sizes")
    present = [name for name in names if name in tensors]
    if not present:
        return None
    if len(present) != len(names):
        raise ValueError(f"the held-out patch record is incomplete (has only {', '.join(present)})")
    distances, scores, sizes = (tensors[name] for name in names)
    if distances.dtype != np.float32 or scores.dtype != np.float32 or sizes.dtype != np.int32 or len(sizes) != n_good:
        raise ValueError("the held-out patch record does not fit the held-out good scores")
    if "good_patch_grids" in tensors:
        grids = tensors["good_patch_grids"]
    elif distances.ndim == 3:  # written before the grids could differ: one (n, h, w) block
        grids = np.tile(np.asarray(distances.shape[1:], np.int32), (len(distances), 1))
        distances, scores = distances.reshape(-1), scores.reshape(-1)
    else:
        raise ValueError("the held-out patch record has no grid shapes")
    if grids.dtype != np.int32:
        raise ValueError("the held-out patch record's grid shapes are not int32")
    return GoodPatchRecord(distances=distances, scores=scores, grids=grids, sizes=sizes)


def _teachings_from(header: Dict[str, Any], bank: np.ndarray, taught: Optional[np.ndarray]) -> Tuple[Teaching, ...]:
    listed = header.get("teachings", [])
    counts = [int(entry["patches"]) for entry in listed]
    rows = 0 if taught is None else len(taught)
    if sum(counts) != rows or any(count < 0 for count in counts):
        raise ValueError(f"the teachings list {sum(counts)} taught patches, the file holds {rows}")
    if taught is not None and (taught.ndim != 2 or taught.dtype != np.float32 or taught.shape[1] != bank.shape[1]):
        raise ValueError(f"taught patches have shape {taught.shape} and type {taught.dtype}")
    teachings, start = [], 0
    for entry, count in zip(listed, counts):
        assert taught is not None or count == 0
        patches = taught[start:start + count] if taught is not None else np.empty((0, bank.shape[1]), np.float32)
        teachings.append(Teaching(file=str(entry["file"]), taught_at=str(entry["taught_at"]), patches=patches,
                                  image_sha256=str(entry.get("image_sha256", ""))))
        start += count
    return tuple(teachings)


def _model_from_header(header: Dict[str, Any], bank: np.ndarray, good: np.ndarray,
                       tensors: Optional[Dict[str, np.ndarray]] = None) -> PatchCoreModel:
    if bank.ndim != 2 or bank.dtype != np.float32 or len(bank) == 0:
        raise ValueError(f"memory bank has shape {bank.shape} and type {bank.dtype}")
    tensors = tensors or {}
    backbone = header["backbone"]
    defect_size = _defect_size(header.get("defect_size", {}))
    config = PatchCoreConfig.from_dict(header["config"])
    return PatchCoreModel(
        config=config,
        preprocessing=Preprocessing.from_dict(header["preprocessing"]),
        layers=tuple(backbone["layers"]),
        weights_sha256=str(backbone["weights_sha256"]),
        memory_bank=bank,
        good_scores=good,
        threshold=float(header["threshold"]),
        default_threshold=float(header["default_threshold"]),
        map_scale=MapScale(**header["map_scale"]),
        n_good_images=int(header["n_good_images"]),
        n_patches=int(header["n_patches"]),
        feature_grid=(int(header["feature_grid"][0]), int(header["feature_grid"][1])),
        created=str(header["created"]),
        good_folder=str(header.get("good_folder", "")),
        good_parts=GoodPartsLook.from_dict(header["good_parts"]) if "good_parts" in header else None,
        review_from=float(header["review_from"]) if header.get("review_from") is not None else None,
        min_defect_area=defect_size[0],
        pixel_size_mm=defect_size[1],
        roi=RegionOfInterest(tensors["roi_mask"]) if "roi_mask" in tensors else None,
        good_patches=_good_patches(tensors, len(good)),
        coverage_radius=float(header["coverage_radius"]) if "coverage_radius" in header else None,
        teachings=_teachings_from(header, bank, tensors.get(TAUGHT_PATCHES)),
        search=_search_of(header, config, bank, tensors.get("search_centroids")),
        search_centroids=tensors.get("search_centroids"),
    )


def _defect_size(data: Dict[str, Any]) -> Tuple[float, Optional[float]]:
    """``(min_area_px, pixel_size_mm)`` from the optional ``defect_size`` header key; unknown keys are refused."""
    refuse_unknown_keys(data, ("min_area_px", "pixel_size_mm"), "minimum defect size")
    min_area = float(data.get("min_area_px", 0.0))
    pixel_size = data.get("pixel_size_mm")
    if not (np.isfinite(min_area) and min_area >= 0):
        raise ValueError(f"defect_size min_area_px {min_area} is not a number of pixels >= 0")
    if pixel_size is not None and not (np.isfinite(float(pixel_size)) and float(pixel_size) > 0):
        raise ValueError(f"defect_size pixel_size_mm {pixel_size} is not a positive number")
    return min_area, None if pixel_size is None else float(pixel_size)


def load_model(path: PathLike) -> PatchCoreModel:
    """Read a model file; every problem becomes a one-line :class:`ModelFileError` naming the file."""
    target = Path(path)
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"cannot open model '{target}': no such file") from None
    except IsADirectoryError:
        raise ModelFileError(f"cannot open model '{target}': is a folder") from None
    except OSError as exc:
        raise ModelFileError(f"cannot open model '{target}': {exc.strerror or exc}") from None
    return model_from_bytes(data, target.name)
