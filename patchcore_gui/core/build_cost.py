"""What a build will cost, said before it starts: patches, bank size, memory, its own time, time per inspected image.

Everything follows from the input geometry (core/geometry.py) and the good images' sizes, read from
their headers. The time per image is the network's, the search's and the rest's. Timed on this PC
(:func:`time_this_pc`: one network input of the build's size through its network and layers, and a
fixed distance product), the network is measured and the rest scaled by how fast this PC multiplies;
untimed, all three are rough rates of the development machines, which a busy or slower PC does not
reach (docs/benchmarks.md, "The build's time estimate, timed on the PC"). The build's own time follows
from the same rates: every good part's inputs through the network, the coreset's comparisons, and the
held-out parts' searches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import faiss
import numpy as np
import psutil
import torch

from .backbones import DEFAULT_BACKBONE, FeatureBackbone, get_spec, load_backbone, resolve_layers, weights_available
from .calibration import held_out_count
from .config import PatchCoreConfig
from .coreset import coreset_size
from .features import PatchFeatureExtractor, inputs_side_by_side
from .geometry import SUGGESTED_TILE, Preprocessing, place, suggest_geometry
from .memory import available_memory, feature_memory_need

#: Network time per input pixel (ms), EfficientNet-Lite0 with its layers up to stride 32: 16.5 ms for 224 x 224.
_NETWORK_MS_PER_PIXEL = 16.5 / (224 * 224)
#: The other backbones' cost per pixel relative to Lite0 (their multiply-adds per pixel; WRN-50 to layer 3).
_NETWORK_FACTOR = {"tf_efficientnet_lite0": 1.0, "tf_efficientnet_lite1": 1.35, "tf_efficientnet_lite2": 1.65,
                   "wide_resnet50_2": 17.0}
#: Exact clustered search: ms per 10^9 (patch x bank vector x dimension) products on the reference PC (2
#: vCPUs of an Intel Xeon with AVX-512). How far the clusters let it skip depends on the parts: bottle
#: (784 x 13,093 x 472) took 17.7 ms, 3.7 per 10^9; Magnetic Tile 6.1 (35,176-vector bank) and 10.7
#: (10,211): this is their geometric mean.
_SEARCH_MS_PER_GIGA_PRODUCT = 6.0
#: Reading, preprocessing and the map of one image besides network and search, on the reference PC: a
#: fixed part and one per pixel of the image as it comes (bottle 512 x 512 colour: 7.9 + 2.1 + 1.7 ms;
#: Magnetic Tile, about 0.1 megapixel grey: 1.8 + 2.0 + 1.1 ms).
_OTHER_MS = 3.0
_OTHER_MS_PER_PIXEL = 3e-5
#: The fixed distance product that says how fast a PC multiplies: a flat search of this many random
#: patches against this many random vectors of this many dimensions ...
_PROBE_PATCHES, _PROBE_BANK, _PROBE_DIM = 392, 8192, 432
#: ... took this long on the reference PC (the median of 5).
_PROBE_REFERENCE_MS = 45.0
#: How many headers are read for the estimate: spread over the folder, 0.1 ms each.
_SAMPLE = 400
#: The build's own time (docs/benchmarks.md, "The build's time, said before it"). Its network inputs go in
#: batches, while the next parts are read on a thread beside it: each input took 0.64-0.81 of the one input
#: :func:`time_this_pc` times (Magnetic Tile 28.5 ms against 36.2; 8-megapixel parts in 70 tiles 29.3
#: against 45.5) ...
_FIT_INPUT_SHARE = 0.75
#: ... the greedy coreset took this many seconds per 10^9 (candidate x chosen vector) pairs on the reference
#: PC: its pruning depends on the parts (Magnetic Tile 8.6-9.5, bottle 2.4-2.6, 8-megapixel synthetic parts
#: 2.8-2.9), and this is their geometric mean ...
_CORESET_S_PER_GIGA_PAIR = 4.0
#: ... calibration searches the held-out parts (against two banks it clusters first, when they join the bank)
#: in 2.2-3.4 times what their inspections' search is estimated to take ...
_CALIBRATION_SEARCHES = 2.7
#: ... and loading the network (timed for the estimate already) and writing the model take about a second.
_FIT_FIXED_S = 1.0


@dataclass(frozen=True)
class PcSpeed:
    """How fast this PC runs a build's inspection, timed here (:func:`time_this_pc`).

    ``network_ms``: one network input of ``input_size`` px square through the build's network and layers,
    patch features included; ``multiply_factor``: this PC's time for a fixed distance product against the
    reference PC's (2.0: half as fast).
    """

    network_ms: float
    input_size: int
    multiply_factor: float
    #: The share of this PC's cores that other programs kept busy while it was timed (0 to 1): above
    #: :data:`BUSY_SHARE` the times are those of a busy PC, and the estimate says so.
    others_busy: float = 0.0


#: Other programs' share of the cores above which a timing is said to be of a busy PC. On the reference PC
#: a program spinning one of its two cores showed as 44-45% and doubled the timed distance product (the
#: network's time did not change); with nothing else running it showed as 0% (docs/benchmarks.md, "The
#: build's time estimate, timed on the PC").
BUSY_SHARE = 0.25


class _OthersLoad:
    """How busy other programs kept this PC's cores from this object's making to ``share``: the whole PC's
    busy time less this process's own (its network and OpenMP threads), over the wall time of every core."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._started = (time.perf_counter(), self._pc_busy(), self._own())

    @staticmethod
    def _pc_busy() -> float:
        times = psutil.cpu_times()
        # Linux counts guest time in user and nice already; time stolen by other virtual machines is busy
        total = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
        return total - times.idle - getattr(times, "iowait", 0.0)

    def _own(self) -> float:
        times = self._process.cpu_times()
        return times.user + times.system

    def share(self) -> float:
        wall, busy, own = self._started
        elapsed = (time.perf_counter() - wall) * (psutil.cpu_count() or 1)
        others = (self._pc_busy() - busy) - (self._own() - own)
        return float(min(1.0, max(0.0, others / elapsed))) if elapsed > 0 else 0.0


def _typical_ms(run: Any, rounds: int) -> float:
    """The median of ``rounds`` runs after two that warm up (threads, caches, first-call setup): what a run
    takes, where the shortest would promise what parts seldom get."""
    run()
    run()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return 1000.0 * float(np.median(times))


def time_this_pc(config: PatchCoreConfig, weights: Optional[Path] = None, rounds: int = 5,
                 backbone: Optional[FeatureBackbone] = None) -> PcSpeed:
    """Time ``config``'s network on one input of its size and the fixed distance product, on this PC.

    Takes about a second, most of it loading the network (none with ``backbone``: the build's own, loaded
    once for both); raises WeightsMissingError like a build would.
    """
    spec = get_spec(config.backbone)
    network = backbone if backbone is not None else load_backbone(config.backbone, config.layers, weights=weights)
    extractor = PatchFeatureExtractor(network, config)
    side = _preprocessing(config, spec).input_size
    blank = torch.zeros(1, 3, side, side)
    load = _OthersLoad()
    network = _typical_ms(lambda: extractor.extract(blank), rounds)
    rng = np.random.default_rng(0)
    index = faiss.IndexFlatL2(_PROBE_DIM)
    index.add(rng.standard_normal((_PROBE_BANK, _PROBE_DIM), dtype=np.float32))
    patches = rng.standard_normal((_PROBE_PATCHES, _PROBE_DIM), dtype=np.float32)
    product = _typical_ms(lambda: index.search(patches, 1), rounds)
    return PcSpeed(network_ms=network, input_size=side, multiply_factor=product / _PROBE_REFERENCE_MS,
                   others_busy=load.share())


def network_timing_key(config: PatchCoreConfig) -> Tuple[Any, ...]:
    """What :func:`time_this_pc` depends on: builds that agree on it share one timing."""
    spec = get_spec(config.backbone)
    return (config.backbone, resolve_layers(spec, config.layers), _preprocessing(config, spec).input_size,
            config.patch_size, config.aggregation, config.target_dim)


def _preprocessing(config: PatchCoreConfig, spec: Any) -> Preprocessing:
    layers = resolve_layers(spec, config.layers)
    return Preprocessing(resize=config.resize, crop=config.crop, geometry=config.geometry, scale=config.scale,
                         tile=config.tile, overlap=config.overlap, grid_stride=spec.layers[layers[0]].stride)


@dataclass(frozen=True)
class BuildCost:
    """The estimate for one geometry and one folder of good images."""

    description: str
    n_images: int
    patches_per_image: float
    tiles_per_image: float
    bank_vectors: int
    dim: int
    bank_mb: float
    fit_memory_gb: float
    available_gb: float
    ms_per_image: float
    #: The backbone the estimate is for (the automatic choice may have picked it).
    network: str = ""
    #: Its layers, and the patch grid's step in network-input pixels (the first layer's stride).
    layers: Tuple[str, ...] = ()
    grid_stride: int = 0
    #: Whether the held-out images join the bank (``PatchCoreConfig.bank_from_all``).
    bank_from_all: bool = False
    #: Whether the time was timed on this PC (:class:`PcSpeed`) or is the development machines' rough rate.
    timed_here: bool = False
    #: The share of the cores other programs kept busy while this PC was timed (``PcSpeed.others_busy``).
    others_busy: float = 0.0
    #: The build's seconds: the good parts through the network, the memory bank's coreset, the calibration.
    features_s: float = 0.0
    coreset_s: float = 0.0
    calibration_s: float = 0.0

    @property
    def fit_s(self) -> float:
        """The whole build's seconds, loading the network and writing the model included."""
        return _FIT_FIXED_S + self.features_s + self.coreset_s + self.calibration_s

    def _time_basis(self) -> str:
        if not self.timed_here:
            return "rough, for an idle 2-core PC"
        if self.others_busy > BUSY_SHARE:
            return f"timed on this PC while other programs kept {self.others_busy:.0%} of it busy"
        return "timed on this PC, idle"

    def text(self) -> str:
        """Two lines for people, before they build."""
        tiles = f", {self.tiles_per_image:.1f} network inputs" if self.tiles_per_image > 1.05 else ""
        network = f" through {self.network}" if self.network else ""
        if self.layers:
            network += f" ({' + '.join(self.layers)}, a patch every {self.grid_stride} px)"
        # a sentence of its own, in the CLI and after the dialog's image count
        geometry = self.description[:1].upper() + self.description[1:]
        return (f"{geometry}{network}: about {self.patches_per_image:,.0f} patches per image{tiles}\n"
                f"memory bank about {self.bank_vectors:,} x {self.dim} ({self.bank_mb:,.0f} MB"
                f"{', the held-out images in it too' if self.bank_from_all else ''}); the build takes "
                f"{duration_text(self.fit_s)} and needs about {self.fit_memory_gb:.1f} GB of "
                f"{self.available_gb:.1f} GB free; inspection about "
                f"{self.ms_per_image:,.0f} ms per image ({self._time_basis()})")

    @property
    def fits_in_memory(self) -> bool:
        return self.fit_memory_gb <= 0.8 * self.available_gb


def duration_text(seconds: float) -> str:
    """A rough duration for people: "about 45 s", "about 3 min", "about 1.5 h".

    >>> duration_text(3.2), duration_text(44), duration_text(170), duration_text(5400)
    ('about 5 s', 'about 45 s', 'about 3 min', 'about 1.5 h')
    """
    if seconds < 90:
        return f"about {max(5, 5 * round(seconds / 5)):.0f} s"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60):.0f} min"
    return f"about {seconds / 3600:.1f} h"


def _spread(items: Sequence[Any], count: int) -> Sequence[Any]:
    if len(items) <= count:
        return items
    return [items[int(i)] for i in np.linspace(0, len(items) - 1, count)]


def image_sizes(paths: Sequence[Any]) -> Sequence[Tuple[int, int]]:
    """(height, width) of up to a few hundred of ``paths`` (spread over them), from their headers."""
    from .likeness import part_look

    looks = (part_look(path) for path in _spread(list(paths), _SAMPLE))
    return [(look.height, look.width) for look in looks if look is not None]


#: The network for parts seen in tiles when the person chose none. On Magnetic Tile (the whole data set,
#: automatic tiles) EfficientNet-Lite1 gives image AUROC 0.969 and 87.1% right default verdicts against
#: Lite0's 0.961 and 83.5%; on bottle's 224 squeeze Lite0 stays (pixel AUROC 0.977 against Lite1's
#: 0.974). docs/benchmarks.md, "Input geometry".
TILED_PARTS_BACKBONE = "tf_efficientnet_lite1"


def resolved_config(config: PatchCoreConfig, sizes: Sequence[Tuple[int, int]], automatic: bool) -> PatchCoreConfig:
    """``config`` with the automatic geometry for these good-image sizes when ``automatic``."""
    return config.with_changes(**suggest_geometry(sizes)) if automatic else config


#: The layers for parts seen in tiles when the person chose none: the stride-16 and stride-32 blocks of
#: EfficientNet-Lite, scored on the stride-16 grid. On the whole of Magnetic Tile (Lite1, 10% bank)
#: against the stride-8 grid of blocks 2, 4 and 6 with a 1% bank: image AUROC 0.973 against 0.969,
#: pixel 0.820 against 0.818, AUPRO 0.709 against 0.738 (coarser outlines), fit 150 s against 240
#: (docs/benchmarks.md, "The stride-16 grid for tiles").
TILED_PARTS_LAYERS: Tuple[str, ...] = ("blocks.4", "blocks.6")


def with_automatic_backbone(config: PatchCoreConfig) -> PatchCoreConfig:
    """``config`` with the network measured best for its geometry, for a person who chose none: Lite1 for
    parts seen in tiles, Lite0 otherwise (and Lite0 wherever its weights are all this machine has)."""
    backbone = TILED_PARTS_BACKBONE if config.geometry == "tile" else DEFAULT_BACKBONE
    return config.with_changes(backbone=backbone) if weights_available(backbone) else config


def with_automatic_layers(config: PatchCoreConfig) -> PatchCoreConfig:
    """``config`` with :data:`TILED_PARTS_LAYERS` for parts seen in tiles when no layers were chosen and the
    network has them; written into the config, so a model built so keeps them (``None`` means the
    network's own defaults, as every model before this choice was built)."""
    if config.geometry != "tile" or config.layers is not None:
        return config
    if not set(TILED_PARTS_LAYERS) <= set(get_spec(config.backbone).layers):
        return config
    return config.with_changes(layers=TILED_PARTS_LAYERS)


#: Whether the held-out good images join the bank (``bank_from_all``) when the person chose neither way: for
#: parts seen in tiles. On the whole of Magnetic Tile (the automatic tiles, Lite1, 10% bank) image AUROC
#: 0.980 against 0.973 without, default verdicts 90.2% right against 88.5%; on bottle's 224 squeeze
#: nothing to gain (image 1.000 and every verdict right both ways, pixel AUROC no better) for a bank 25%
#: larger, so it stays off there (docs/benchmarks.md, "The held-out images in the bank").
def with_automatic_bank(config: PatchCoreConfig, chosen: Optional[bool] = None) -> PatchCoreConfig:
    """``config`` with the held-out images joining the bank as ``chosen``, or, chosen neither way, for
    parts seen in tiles only."""
    return config.with_changes(bank_from_all=config.geometry == "tile" if chosen is None else bool(chosen))


#: The share of patches kept in the bank for parts seen in tiles when the person chose none (the others keep
#: ``PatchCoreConfig.coreset_ratio``, 10%). With the automatic tiles (0.75x, 320 px) on the whole of Magnetic
#: Tile: image AUROC 0.980 at 5% and at 10%, search 12.5 against 20 ms a part, fit 53 s against 60 s
#: (docs/benchmarks.md, "Tiles at three quarters").
TILED_PARTS_CORESET = 0.05


def automatic_coreset(geometry: str) -> float:
    """The bank share a build of ``geometry`` gets when the person chose none."""
    return TILED_PARTS_CORESET if geometry == "tile" else PatchCoreConfig().coreset_ratio


def with_automatic_choices(config: PatchCoreConfig, backbone_chosen: bool = False,
                           bank_from_all: Optional[bool] = None, coreset: Optional[float] = None) -> PatchCoreConfig:
    """The network (unless a person chose one), then its layers (unless chosen), then whether the held-out
    images join the bank and its share of the patches (``None``: not chosen), that a build of ``config``'s
    geometry gets: the layers depend on the network, so the order is fixed here for the CLI and the window."""
    if not backbone_chosen:
        config = with_automatic_backbone(config)
    config = config.with_changes(coreset_ratio=automatic_coreset(config.geometry) if coreset is None else coreset)
    return with_automatic_bank(with_automatic_layers(config), bank_from_all)


def estimate_build_cost(config: PatchCoreConfig, sizes: Sequence[Tuple[int, int]], n_images: int,
                        free_bytes: Optional[int] = None, speed: Optional[PcSpeed] = None) -> BuildCost:
    """The cost of building ``config`` from ``n_images`` good images of about these ``sizes`` (height, width),
    its time per image timed on this PC when ``speed`` is given (for the same network input size).

    >>> estimate_build_cost(PatchCoreConfig(), [(512, 512)], 209).bank_vectors
    13093
    """
    spec = get_spec(config.backbone)
    layers = resolve_layers(spec, config.layers)
    dim = config.target_dim or sum(spec.layers[name].channels for name in layers)
    prep = _preprocessing(config, spec)
    if speed is not None and speed.input_size != prep.input_size:
        raise ValueError(f"this PC was timed with {speed.input_size} px inputs, not the build's {prep.input_size}")
    placements = [place(size, prep) for size in (sizes or [(prep.input_size, prep.input_size)])]
    patches = float(np.mean([p.grid_hw[0] * p.grid_hw[1] for p in placements]))
    tiles = float(np.mean([len(p.tiles) for p in placements]))
    n_held_out = held_out_count(n_images, config.calibration_fraction)
    n_bank_images = max(1, n_images - n_held_out)
    bank = coreset_size(int(round(n_bank_images * patches)), config.coreset_ratio)
    if config.bank_from_all:  # the coresets of the held-out images join it (patchcore.fit)
        bank += coreset_size(int(round(n_held_out * patches)), config.coreset_ratio)
    # a part's inputs go through the network side by side, so it takes rounds of them, not one after another
    rounds = float(np.mean([-(-len(p.tiles) // inputs_side_by_side()) for p in placements]))
    if speed is None:
        one_input = prep.input_size ** 2 * _NETWORK_MS_PER_PIXEL * _NETWORK_FACTOR.get(config.backbone, 1.0)
    else:
        one_input = speed.network_ms
    network = rounds * one_input
    pixels = float(np.mean([h * w for h, w in sizes])) if sizes else float(prep.input_size ** 2)
    # the search and the rest are products and memory traffic: they follow how fast this PC multiplies
    multiply = 1.0 if speed is None else speed.multiply_factor
    search = patches * bank * dim / 1e9 * _SEARCH_MS_PER_GIGA_PRODUCT * multiply
    rest = (_OTHER_MS + pixels * _OTHER_MS_PER_PIXEL) * multiply
    features_s = n_images * tiles * one_input * _FIT_INPUT_SHARE / 1000.0
    coreset_s = _coreset_s(n_bank_images * patches, config.coreset_ratio) * multiply
    if config.bank_from_all:  # each half of the held-out images gets its coreset (patchcore._held_out_folds)
        coreset_s += 2 * _coreset_s(n_held_out / 2 * patches, config.coreset_ratio) * multiply
    calibration_s = n_held_out * search * _CALIBRATION_SEARCHES / 1000.0
    free = available_memory() if free_bytes is None else free_bytes
    return BuildCost(description=prep.describe(), n_images=n_images, patches_per_image=patches,
                     tiles_per_image=tiles, bank_vectors=bank, dim=dim, bank_mb=bank * dim * 4 / 2**20,
                     fit_memory_gb=feature_memory_need(n_images, patches, dim) / 2**30,
                     available_gb=free / 2**30, ms_per_image=network + search + rest, network=config.backbone,
                     layers=layers, grid_stride=prep.grid_stride, bank_from_all=config.bank_from_all,
                     timed_here=speed is not None, others_busy=0.0 if speed is None else speed.others_busy,
                     features_s=features_s, coreset_s=coreset_s, calibration_s=calibration_s)


def _coreset_s(candidates: float, ratio: float) -> float:
    """Seconds of the greedy coreset choosing ``ratio`` of ``candidates`` vectors on the reference PC."""
    chosen = coreset_size(int(round(candidates)), ratio)
    return candidates * chosen / 1e9 * _CORESET_S_PER_GIGA_PAIR


#: The options that set each geometry's input; the others mean nothing to it.
GEOMETRY_OPTIONS: Dict[str, Tuple[str, ...]] = {"squeeze": ("size",), "pad": ("size",),
                                                "tile": ("scale", "tile", "overlap")}


def options_not_applying(geometry: str, given: Dict[str, Optional[Any]]) -> List[str]:
    """The options of ``given`` (name -> value, None: not given) that ``geometry`` would ignore.

    >>> options_not_applying("tile", {"size": 448, "scale": None, "tile": 256, "overlap": None})
    ['size']
    """
    return [name for name, value in given.items()
            if value is not None and name not in GEOMETRY_OPTIONS.get(geometry, ())]


def geometry_changes(geometry: Optional[str], size: Optional[int], scale: Optional[float], tile: Optional[int],
                     overlap: Optional[int]) -> Dict[str, Any]:
    """Config changes for the geometry options a person gave (None: not given); tiles chosen by name start
    from the automatic choice's scale, side and overlap."""
    changes: Dict[str, Any] = {}
    if geometry:
        changes["geometry"] = geometry
    if geometry == "tile":
        changes.update(SUGGESTED_TILE)
    for name, value in (("resize", size), ("scale", scale), ("tile", tile), ("overlap", overlap)):
        if value is not None:
            changes[name] = value
    return changes
