"""The one configuration object: defaults live here and nowhere else.

The CLI, the GUI and the model file all read and write this same frozen dataclass. The defaults
were chosen by measuring on MVTec bottle and Magnetic Tile (docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Dict, Optional, Tuple

from .backbones import DEFAULT_BACKBONE
from .errors import refuse_unknown_keys
from .memory_bank import SEARCH_KINDS
from .geometry import check_geometry

AGGREGATIONS = ("avgpool", "unfold")


@dataclass(frozen=True)
class PatchCoreConfig:
    """How a memory bank is built and how images are scored.

    >>> PatchCoreConfig(coreset_ratio=0.01).coreset_ratio
    0.01
    """

    backbone: str = DEFAULT_BACKBONE
    #: Feature layers, shallow to deep; ``None`` takes the backbone's defaults (Lite: strides 8, 16, 32; WRN: 8, 16).
    layers: Optional[Tuple[str, ...]] = None
    #: Network input side in pixels; the whole image is resized to it unless ``crop`` is set.
    resize: int = 224
    #: Centre crop after resizing the shorter side to ``resize`` (the reference's 256 -> 224).
    crop: Optional[int] = None
    #: How the image meets the network (core/geometry.py): "squeeze" to ``resize`` square, "pad" (aspect
    #: kept, longer side ``resize``) or "tile" (aspect kept, scaled by ``scale``, cut into ``tile`` px
    #: tiles overlapping by ``overlap`` px).
    geometry: str = "squeeze"
    scale: float = 1.0
    tile: int = 224
    overlap: int = 64
    #: Neighbourhood p of the locally aware patch features.
    patch_size: int = 3
    #: "avgpool" (anomalib: p x p mean) or "unfold" (reference: unfold, then adaptive mean to a dim).
    aggregation: str = "avgpool"
    #: Project every patch vector to this many dims by adaptive averaging; ``None`` keeps them.
    target_dim: Optional[int] = None
    coreset_ratio: float = 0.1
    projection_dim: int = 128
    #: b of the paper's image-score re-weighting; 1 gives the plain maximum patch distance.
    reweight_neighbours: int = 9
    #: Gaussian smoothing of the anomaly map, in network-input pixels.
    sigma: float = 4.0
    #: Share of the good images held out to learn what good scores look like.
    calibration_fraction: float = 0.2
    #: Whether the held-out images' patches join the bank (a coreset of each half of them at ``coreset_ratio``):
    #: the threshold is still learned from the held-out pass, each half scored against the bank holding
    #: the other half and never its own (patchcore.fit), and the line searches a bank from every good image.
    bank_from_all: bool = False
    #: The default threshold (calibration.learned_threshold) is the higher of two bounds on the held-out
    #: good scores: the modified z-score above which a part is an outlier among them...
    threshold_outlier_z: Optional[float] = 3.5
    #: ...and the prediction bound for at most this share of good parts rejected, which widens when few
    #: parts are held out. Both ``None``: the older rule below.
    threshold_reject_rate: Optional[float] = 0.01
    #: The older rule (models built before the rate): quantile of the held-out good scores...
    threshold_quantile: float = 1.0
    #: ...plus this share of the spread (quantile - median) as a margin against unseen good parts.
    threshold_margin: float = 0.1
    seed: int = 0
    batch_size: int = 8
    #: How each patch's nearest bank vector is found: "exact", or "ivf" (approximate: faster on large
    #: banks, may miss the true nearest; the model file and every summary say so).
    search: str = "exact"

    def __post_init__(self) -> None:
        if self.search not in SEARCH_KINDS:
            raise ValueError(f"search must be one of {', '.join(SEARCH_KINDS)}, not {self.search!r}")
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {AGGREGATIONS}, not {self.aggregation!r}")
        if not 0.0 < self.coreset_ratio <= 1.0:
            raise ValueError(f"coreset ratio must be in (0, 1], not {self.coreset_ratio}")
        if not 0.0 < self.calibration_fraction < 1.0:
            raise ValueError(f"calibration fraction must be in (0, 1), not {self.calibration_fraction}")
        if self.patch_size < 1 or self.patch_size % 2 == 0:
            raise ValueError(f"patch size must be odd and positive, not {self.patch_size}")
        if self.reweight_neighbours < 1:
            raise ValueError(f"re-weighting neighbours b must be >= 1, not {self.reweight_neighbours}")
        if self.resize < 32 or (self.crop is not None and not 32 <= self.crop <= self.resize):
            raise ValueError(f"input size {self.resize} / crop {self.crop} is not usable")
        if self.threshold_outlier_z is not None and not self.threshold_outlier_z > 0:
            raise ValueError(f"threshold outlier z must be positive, not {self.threshold_outlier_z}")
        if self.threshold_reject_rate is not None and not 0.0 < self.threshold_reject_rate < 1.0:
            raise ValueError(f"threshold reject rate must be in (0, 1), not {self.threshold_reject_rate}")
        check_geometry(self.geometry, self.crop, self.scale, self.tile, self.overlap)
        object.__setattr__(self, "scale", float(self.scale))
        if self.layers is not None:
            object.__setattr__(self, "layers", tuple(self.layers))

    def to_dict(self) -> Dict[str, Any]:
        """The fields as JSON values; geometry fields at their defaults are left out, so a model built as
        before geometry was a choice has the same header as then (and older programs still open it)."""
        data = asdict(self)
        data["layers"] = list(self.layers) if self.layers is not None else None
        for name in _GEOMETRY_FIELDS:
            if data[name] == getattr(_DEFAULT_GEOMETRY, name):
                del data[name]
        if not self.bank_from_all:
            del data["bank_from_all"]  # a bank built as before keeps the header older programs read
        return data

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "PatchCoreConfig":
        """Rebuild from :meth:`to_dict`; unknown keys (from a newer writer) are refused, not dropped.

        A configuration written before ``threshold_outlier_z`` and ``threshold_reject_rate`` existed was
        calibrated by the older rule, and says so when read back (a key absent means None).
        """
        refuse_unknown_keys(data, (f.name for f in fields(cls)), "configuration")
        values = dict(data)
        values.setdefault("threshold_outlier_z", None)
        values.setdefault("threshold_reject_rate", None)
        if values.get("layers") is not None:
            values["layers"] = tuple(values["layers"])
        return cls(**values)

    def with_changes(self, **changes: Any) -> "PatchCoreConfig":
        return replace(self, **changes)


_GEOMETRY_FIELDS = ("geometry", "scale", "tile", "overlap")
_DEFAULT_GEOMETRY = PatchCoreConfig()
