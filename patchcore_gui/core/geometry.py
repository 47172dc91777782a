"""Input geometry: how an image becomes what the network sees, and how maps and masks go back and forth.

Three geometries, stored in the model with :class:`Preprocessing` so inspection repeats the fit:

- ``squeeze`` (the first default, and what every model before geometry was a choice meant): the whole
  image resized to ``resize x resize`` whatever its proportions, or with ``crop`` the shorter side to
  ``resize`` and the centre ``crop x crop`` kept (the reference's 256 -> 224);
- ``pad``: the aspect ratio kept, the longer side to ``resize``, the rest of the square padded;
- ``tile``: the aspect ratio kept, the image scaled by ``scale`` (1.0: its own resolution) and cut
  into ``tile x tile`` network inputs that overlap by ``overlap`` pixels.

All three place the (resized) image on a *canvas* cut into one or more *tiles*; every tile goes
through the network, and the tiles' patch grids are stitched into one grid over the canvas, blended
across each overlap with weights that fall towards each tile's edge, so the stitched grid has no
seams where the network saw no edge. Only the *scored cells*
are kept: with ``pad`` and ``tile`` the cells over the padding are dropped (they hold no part, and
neither the memory bank nor the search pays for them). The anomaly map is made over the scored
cells' box on the canvas (the *map box*) and mapped back onto the original image from there.

Padding is the backbone's mean colour (zero after normalisation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Dict, Optional, Sequence, Tuple

import cv2
import numpy as np

from .errors import refuse_unknown_keys

GEOMETRIES = ("squeeze", "pad", "tile")
#: Tile sides and strides are whole multiples of the deepest layer's stride, so every tile's grids
#: line up with the canvas's (EfficientNet-Lite and WideResNet both end at stride 32).
TILE_MULTIPLE = 32
#: The defaults of the geometry fields: a model file written before they existed means exactly these.
_GEOMETRY_DEFAULTS: Dict[str, Any] = {"geometry": "squeeze", "scale": 1.0, "tile": 224, "overlap": 64, "grid_stride": 8,
                                      "sample_bits": 16}
#: The sample depths a model tells apart in 16-bit files (8: a 16-bit file holding 8-bit values).
SAMPLE_BITS: Tuple[int, ...] = (8, 10, 12, 14, 16)


@dataclass(frozen=True)
class Preprocessing:
    """How an image becomes the network input; stored in the model file so inspection repeats it.

    ``resize``/``crop``: the square side (``squeeze``), the longer side (``pad``); ``tile``,
    ``overlap``, ``scale``: the tiles of ``tile`` geometry. ``mean``/``std`` act on RGB in 0..1.
    ``grid_stride`` is the patch grid's stride in input pixels (the backbone's first layer).
    ``sample_bits``: how many bits of a 16-bit file's samples the good parts used (12 from a 12-bit
    camera: 4095 is white); read_image reads every part of the model so.

    >>> Preprocessing(resize=256, crop=224).input_size
    224
    >>> Preprocessing(geometry="tile", tile=320).input_size
    320
    """

    resize: int = 224
    crop: Optional[int] = None
    mean: Tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: Tuple[float, float, float] = (0.5, 0.5, 0.5)
    geometry: str = "squeeze"
    scale: float = 1.0
    tile: int = 224
    overlap: int = 64
    grid_stride: int = 8
    sample_bits: int = 16

    def __post_init__(self) -> None:
        object.__setattr__(self, "mean", tuple(float(v) for v in self.mean))
        object.__setattr__(self, "std", tuple(float(v) for v in self.std))
        object.__setattr__(self, "scale", float(self.scale))
        if self.resize < 1 or (self.crop is not None and not 1 <= self.crop <= self.resize):
            raise ValueError(f"resize {self.resize} / crop {self.crop} is not usable (need 1 <= crop <= resize)")
        if len(self.mean) != 3 or len(self.std) != 3 or min(abs(v) for v in self.std) == 0.0:
            raise ValueError(f"mean {self.mean} and std {self.std} need 3 values each, std non-zero")
        check_geometry(self.geometry, self.crop, self.scale, self.tile, self.overlap)
        if self.grid_stride < 1:
            raise ValueError(f"grid stride must be positive, not {self.grid_stride}")
        if self.sample_bits not in SAMPLE_BITS:
            raise ValueError(f"sample bits must be one of {', '.join(map(str, SAMPLE_BITS))}, not {self.sample_bits}")

    @property
    def white_sample(self) -> int:
        """The sample value that is white in the good parts' 16-bit files (4095 for 12 bits)."""
        return (1 << self.sample_bits) - 1

    @property
    def input_size(self) -> int:
        """Side of one square network input in pixels (one tile with ``tile`` geometry)."""
        if self.geometry == "tile":
            return self.tile
        return self.resize if self.crop is None else self.crop

    def to_dict(self) -> Dict[str, Any]:
        """The fields as JSON values; geometry fields at their defaults are left out, so a model built as
        before geometry was a choice has the same header as then (and older programs still open it)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["mean"], data["std"] = list(self.mean), list(self.std)
        for name, default in _GEOMETRY_DEFAULTS.items():
            if data[name] == default:
                del data[name]
        return data

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Preprocessing":
        """Rebuild from :meth:`to_dict`; unknown keys (from a newer writer) are refused, not dropped."""
        refuse_unknown_keys(data, (f.name for f in fields(cls)), "preprocessing")
        crop = data.get("crop")
        values = {name: data.get(name, default) for name, default in _GEOMETRY_DEFAULTS.items()}
        return cls(resize=int(data["resize"]), crop=None if crop is None else int(crop),
                   mean=tuple(data["mean"]), std=tuple(data["std"]), geometry=str(values["geometry"]),
                   scale=float(values["scale"]), tile=int(values["tile"]), overlap=int(values["overlap"]),
                   grid_stride=int(values["grid_stride"]), sample_bits=int(values["sample_bits"]))

    def describe(self) -> str:
        """One line for people: ``squeezed to 224 x 224``, ``aspect kept, longer side 320, padded``...;
        the good parts' sample depth after it when they were 16-bit files of fewer bits."""
        if self.sample_bits == 16:
            return self._describe_geometry()
        return (f"{self._describe_geometry()}; {self.sample_bits}-bit samples in 16-bit files "
                f"({self.white_sample} is white)")

    def _describe_geometry(self) -> str:
        if self.geometry == "tile":
            scale = "its own resolution" if self.scale == 1.0 else f"{self.scale:g}x its own resolution"
            return f"aspect kept at {scale}, cut into {self.tile} px tiles overlapping by {self.overlap} px"
        if self.geometry == "pad":
            return f"aspect kept, longer side {self.resize} px, padded to {self.resize} x {self.resize}"
        if self.crop is not None:
            return f"shorter side {self.resize} px, centre {self.crop} x {self.crop} kept"
        return f"squeezed to {self.resize} x {self.resize}"


def check_geometry(geometry: str, crop: Optional[int], scale: float, tile: int, overlap: int) -> None:
    """Refuse a geometry that cannot work, with what would (shared by the config and the preprocessing)."""
    if geometry not in GEOMETRIES:
        raise ValueError(f"geometry must be one of {', '.join(GEOMETRIES)}, not {geometry!r}")
    if crop is not None and geometry != "squeeze":
        raise ValueError(f"a centre crop keeps the aspect already; it goes with geometry 'squeeze', not {geometry!r}")
    if geometry == "tile":
        if tile < TILE_MULTIPLE or tile % TILE_MULTIPLE:
            raise ValueError(f"tile side must be a multiple of {TILE_MULTIPLE} pixels, not {tile}")
        if overlap < 0 or overlap % 16 or overlap >= tile // 2 + 1 or (tile - overlap) % TILE_MULTIPLE:
            raise ValueError(f"tile overlap must be 0 or more, below half the tile, with tile - overlap a multiple "
                             f"of {TILE_MULTIPLE} (e.g. 0, 32, 64), not {overlap}")
        if not 0.05 <= scale <= 8.0:
            raise ValueError(f"tile scale must lie in 0.05..8, not {scale}")


@dataclass(frozen=True)
class Placement:
    """Where one original image lies on the canvas, which tiles cut it and which patch cells are scored.

    ``resized_hw``: the image's size on the canvas; ``offset``: canvas position of its top-left corner
    (negative where a centre crop cut it); ``tiles``: the canvas top-left corner of each network input,
    row by row, each ``tile_side`` square; ``cells``: the scored cells ``(row0, row1, col0, col1)`` of
    the canvas's patch grid; ``map_box``: ``(top, left, height, width)`` on the canvas that the
    anomaly map covers.
    """

    original_hw: Tuple[int, int]
    resized_hw: Tuple[int, int]
    offset: Tuple[int, int]
    canvas_hw: Tuple[int, int]
    tile_side: int
    tiles: Tuple[Tuple[int, int], ...]
    tile_rows: int
    tile_cols: int
    stride: int
    cells: Tuple[int, int, int, int]
    map_box: Tuple[int, int, int, int]

    @property
    def grid_hw(self) -> Tuple[int, int]:
        """(h, w) of the scored patch grid: the shape of an inspection's patch scores."""
        return self.cells[1] - self.cells[0], self.cells[3] - self.cells[2]


def _torchvision_short_side(height: int, width: int, side: int) -> Tuple[int, int]:
    """torchvision's Resize(int): the shorter side exactly, the longer one truncated."""
    if height <= width:
        return side, max(side, int(side * width / height))
    return max(side, int(side * height / width)), side


def _tiles_along(length: int, tile: int, step: int) -> int:
    return 1 if length <= tile else math.ceil((length - tile) / step) + 1


def place(original_hw: Tuple[int, int], prep: Preprocessing) -> Placement:
    """The :class:`Placement` of an image of ``original_hw`` (height, width) under ``prep``.

    >>> place((300, 600), Preprocessing(geometry="pad", resize=320)).grid_hw
    (20, 40)
    """
    height, width = max(1, int(original_hw[0])), max(1, int(original_hw[1]))
    stride = prep.grid_stride
    if prep.geometry == "squeeze":
        side = prep.input_size
        if prep.crop is None:
            resized, offset = (prep.resize, prep.resize), (0, 0)
        else:
            resized = _torchvision_short_side(height, width, prep.resize)
            offset = (-int(round((resized[0] - side) / 2.0)), -int(round((resized[1] - side) / 2.0)))
        cells = -(-side // stride)
        return Placement((height, width), resized, offset, (side, side), side, ((0, 0),), 1, 1, stride,
                         (0, cells, 0, cells), (0, 0, side, side))
    if prep.geometry == "pad":
        factor = prep.resize / max(height, width)
        side, step = prep.resize, prep.resize
    else:
        factor = prep.scale
        side, step = prep.tile, prep.tile - prep.overlap
    resized = (max(1, int(round(height * factor))), max(1, int(round(width * factor))))
    rows, cols = _tiles_along(resized[0], side, step), _tiles_along(resized[1], side, step)
    canvas = ((rows - 1) * step + side, (cols - 1) * step + side)
    offset = ((canvas[0] - resized[0]) // 2, (canvas[1] - resized[1]) // 2)
    tiles = tuple((r * step, c * step) for r in range(rows) for c in range(cols))
    cells = (offset[0] // stride, -(-(offset[0] + resized[0]) // stride),
             offset[1] // stride, -(-(offset[1] + resized[1]) // stride))
    box = (cells[0] * stride, cells[2] * stride, (cells[1] - cells[0]) * stride, (cells[3] - cells[2]) * stride)
    return Placement((height, width), resized, offset, canvas, side, tiles, rows, cols, stride, cells, box)


def _resize(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Area averaging along an axis that shrinks, bilinear along one that grows (one axis at a time if mixed)."""
    h, w = pixels.shape[:2]
    if (height, width) == (h, w):
        return pixels
    if (height <= h) == (width <= w):
        method = cv2.INTER_AREA if height <= h else cv2.INTER_LINEAR
        return cv2.resize(pixels, (width, height), interpolation=method)
    if height < h:
        pixels = cv2.resize(pixels, (w, height), interpolation=cv2.INTER_AREA)
        return cv2.resize(pixels, (width, height), interpolation=cv2.INTER_LINEAR)
    pixels = cv2.resize(pixels, (width, h), interpolation=cv2.INTER_AREA)
    return cv2.resize(pixels, (width, height), interpolation=cv2.INTER_LINEAR)


def _on_canvas(values: np.ndarray, placement: Placement, fill: float) -> np.ndarray:
    """``(rh, rw[, C])`` resized pixels -> ``(Hc, Wc[, C])`` canvas: placed at the offset, cut where cropped."""
    canvas = np.full((*placement.canvas_hw, *values.shape[2:]), fill, values.dtype)
    top, left = placement.offset
    src_top, src_left = max(0, -top), max(0, -left)
    dst_top, dst_left = max(0, top), max(0, left)
    h = min(values.shape[0] - src_top, placement.canvas_hw[0] - dst_top)
    w = min(values.shape[1] - src_left, placement.canvas_hw[1] - dst_left)
    canvas[dst_top:dst_top + h, dst_left:dst_left + w] = values[src_top:src_top + h, src_left:src_left + w]
    return canvas


def network_inputs(image: np.ndarray, prep: Preprocessing) -> Tuple[np.ndarray, Placement]:
    """``(H, W, 3)`` uint8 RGB -> ``(n_tiles, 3, T, T)`` float32 network inputs, ``(x / 255 - mean) / std``,
    and the image's :class:`Placement`.

    >>> network_inputs(np.zeros((300, 500, 3), np.uint8), Preprocessing(geometry="tile", tile=224))[0].shape
    (6, 3, 224, 224)
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 image, not {image.shape} {image.dtype}")
    placement = place(image.shape[:2], prep)
    scale = np.float32(1.0 / 255.0) / np.asarray(prep.std, np.float32)
    shift = np.asarray(prep.mean, np.float32) / np.asarray(prep.std, np.float32)
    resized = _resize(image, *placement.resized_hw).astype(np.float32) * scale - shift
    canvas = _on_canvas(resized, placement, 0.0).transpose(2, 0, 1)
    side = placement.tile_side
    tiles = np.stack([canvas[:, top:top + side, left:left + side] for top, left in placement.tiles])
    return np.ascontiguousarray(tiles), placement


def preprocess(image: np.ndarray, prep: Preprocessing) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB -> ``(3, S, S)`` float32: the one network input of a single-input geometry.

    >>> preprocess(np.zeros((480, 640, 3), np.uint8), Preprocessing(resize=256, crop=224)).shape
    (3, 224, 224)
    """
    tiles, _ = network_inputs(image, prep)
    if len(tiles) != 1:
        raise ValueError(f"this image is cut into {len(tiles)} tiles; use network_inputs for tiled geometry")
    return tiles[0]


def _ramp(count: int, index: int, tile_cells: int, overlap_cells: int) -> np.ndarray:
    """Weights of tile ``index`` of ``count`` along one axis over its ``tile_cells`` cells: 1 inside,
    falling linearly across each overlap it shares with a neighbour, so the tiles' weights add up to 1."""
    weights = np.ones(tile_cells, np.float32)
    if overlap_cells:
        rise = (np.arange(overlap_cells, dtype=np.float32) + 0.5) / overlap_cells
        if index > 0:
            weights[:overlap_cells] = rise
        if index < count - 1:
            weights[tile_cells - overlap_cells:] = rise[::-1]
    return weights


def stitch(tile_grids: np.ndarray, placement: Placement) -> np.ndarray:
    """``(n_tiles, t, t, D)`` patch grids of one image's tiles -> ``(h, w, D)`` over its scored cells.

    Where tiles overlap, their features are blended with weights that fall linearly towards each
    tile's edge (where the network saw its zero padding), so the grid changes smoothly from one tile
    to the next and a map made from it shows no seam. With one tile this is just its scored cells.
    """
    if len(tile_grids) != len(placement.tiles):
        raise ValueError(f"{len(tile_grids)} tile grids for {len(placement.tiles)} tiles")
    row0, row1, col0, col1 = placement.cells
    if len(tile_grids) == 1:
        return tile_grids[0, row0:row1, col0:col1]
    # tiles are TILE_MULTIPLE-aligned, so their grids sit on the canvas grid exactly
    tile_cells = tile_grids.shape[1]
    step = placement.tiles[1][1] if placement.tile_cols > 1 else placement.tiles[placement.tile_cols][0]
    step_cells = int(round(step * tile_cells / placement.tile_side))
    overlap_cells = tile_cells - step_cells
    out = np.zeros((row1 - row0, col1 - col0, tile_grids.shape[3]), np.float32)
    for index, grid in enumerate(tile_grids):
        r, c = divmod(index, placement.tile_cols)
        top, left = r * step_cells, c * step_cells
        # the part of this tile inside the scored cells, in tile and in output coordinates
        t0, t1 = max(row0, top) - top, min(row1, top + tile_cells) - top
        l0, l1 = max(col0, left) - left, min(col1, left + tile_cells) - left
        if t0 >= t1 or l0 >= l1:
            continue
        weight = (_ramp(placement.tile_rows, r, tile_cells, overlap_cells)[t0:t1, None]
                  * _ramp(placement.tile_cols, c, tile_cells, overlap_cells)[None, l0:l1])
        out[top + t0 - row0:top + t1 - row0, left + l0 - col0:left + l1 - col0] += grid[t0:t1, l0:l1] * weight[..., None]
    return out


def map_box_size(grid_hw: Tuple[int, int], prep: Preprocessing) -> Tuple[int, int]:
    """(height, width) in input pixels of the map made from a scored grid of ``grid_hw``."""
    if prep.geometry == "squeeze":
        return prep.input_size, prep.input_size
    return grid_hw[0] * prep.grid_stride, grid_hw[1] * prep.grid_stride


def _axis(n_out: int, n_resized: int, offset: int, n_map: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bilinear taps along one axis: original pixel i -> map coordinate, pixel centres aligned.

    ``offset``: the map box's start minus the resized image's start, on the canvas.
    """
    u = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_resized / n_out) - 0.5 - offset
    inside = (u >= -0.5) & (u <= n_map - 0.5)
    u = np.clip(u, 0.0, n_map - 1)
    low = np.floor(u).astype(np.intp)
    high = np.minimum(low + 1, n_map - 1)
    return low, high, (u - low).astype(np.float32), inside


def map_to_original(score_map: np.ndarray, original_hw: Tuple[int, int], prep: Preprocessing) -> np.ndarray:
    """A map over the map box (the network input, for ``squeeze``), back onto the original image.

    ``(h, w)`` float32 -> ``(H, W)`` float32, bilinear (same pixel-centre convention as
    ``cv2.resize``). With a crop, the map fills the crop's box and the rest, which the network never
    saw, gets the map's minimum.

    >>> map_to_original(np.zeros((224, 224), np.float32), (480, 640), Preprocessing(256, 224)).shape
    (480, 640)
    """
    height, width = int(original_hw[0]), int(original_hw[1])
    values = np.asarray(score_map, np.float32)
    placement = place((height, width), prep)
    (rh, rw), (top, left) = placement.resized_hw, placement.offset
    box_top, box_left = placement.map_box[:2]
    r0, r1, rf, r_in = _axis(height, rh, box_top - top, values.shape[0])
    c0, c1, cf, c_in = _axis(width, rw, box_left - left, values.shape[1])
    rows = values[r0] * (1.0 - rf)[:, None] + values[r1] * rf[:, None]  # (H, w)
    out = rows[:, c0] * (1.0 - cf) + rows[:, c1] * cf  # (H, W)
    if prep.crop is not None and not (r_in.all() and c_in.all()):
        out[~(r_in[:, None] & c_in[None, :])] = values.min()
    return out


def original_to_input(mask: np.ndarray, prep: Preprocessing) -> np.ndarray:
    """The inverse of :func:`map_to_original`: an ``(H, W)`` mask or map on the original image ->
    ``(h, w)`` float32 over the map box (what the network saw of each of its pixels; 0 where it is padding).

    A bool mask becomes the covered share of each map pixel (area averaging where the image shrinks).
    """
    values = np.asarray(mask, np.float32)
    placement = place(values.shape[:2], prep)
    canvas = _on_canvas(_resize(values, *placement.resized_hw), placement, 0.0)
    top, left, height, width = placement.map_box
    box = np.zeros((height, width), np.float32)
    h, w = min(height, canvas.shape[0] - top), min(width, canvas.shape[1] - left)
    box[:h, :w] = canvas[top:top + h, left:left + w]
    return box


def original_to_grid(mask: np.ndarray, prep: Preprocessing) -> np.ndarray:
    """An ``(H, W)`` mask on the original image -> ``(h, w)`` float32 share of each scored patch cell it
    covers: the shape of an inspection's ``patch_scores`` (so a region of interest can select patches).

    >>> original_to_grid(np.ones((300, 600), bool), Preprocessing(geometry="pad", resize=320)).shape
    (20, 40)
    """
    box = original_to_input(mask, prep)
    grid_hw = place(np.shape(mask)[:2], prep).grid_hw
    return cv2.resize(box, (grid_hw[1], grid_hw[0]), interpolation=cv2.INTER_AREA)


#: The largest square part the automatic choice squeezes to 224 px. Up to this side a patch of the squeeze
#: (a stride-8 cell, 1/28 of the part) covers no more of the part than a patch of the automatic tiles (a
#: stride-16 cell at 0.75x: 21 px); past it the squeeze's patches grow coarser and small defects fade in
#: them. Synthetic discs with a 3 px scratch: at 512 px the squeeze ranked as the tiles did (image AUROC
#: 0.94 against 0.92), at 768 and 1,024 px it missed 20-75% of the scratches the tiles found; bottle (512
#: px) keeps the squeeze's 1.000 / 0.977 at a quarter of the tiles' time (docs/benchmarks.md, "Large square
#: parts").
LARGEST_SQUEEZED_SIDE = 600


def suggest_geometry(sizes: Sequence[Tuple[int, int]]) -> Dict[str, Any]:
    """The automatic geometry for good parts of these (height, width) sizes, as config changes.

    Square parts up to :data:`LARGEST_SQUEEZED_SIDE` keep the 224 squeeze (bottle: image AUROC 1.000);
    larger ones, and parts of other or varying proportions, keep their aspect and are seen in tiles at
    three quarters of their own resolution (:data:`SUGGESTED_TILE`); the measurements behind the choice
    are in docs/benchmarks.md ("Input geometry", "Tiles at three quarters", "Large square parts").
    """
    if not sizes:
        return {"geometry": "squeeze"}
    square = all(0.9 <= w / max(h, 1) <= 1.1 for h, w in sizes)
    if square and all(max(h, w) <= LARGEST_SQUEEZED_SIDE for h, w in sizes):
        return {"geometry": "squeeze"}
    return dict(SUGGESTED_TILE)


#: The keep-aspect choice for parts that are not square (measured on Magnetic Tile; docs/benchmarks.md,
#: "Input geometry" and "Tiles at three quarters"). Three quarters of the parts' own resolution in 320 px
#: tiles ranks Magnetic Tile as their own resolution in 384 px tiles did (image AUROC 0.980 both), in 55
#: instead of 99 ms a part on average; a defect's outline is coarser (AUPRO 0.63 against 0.71). Tiles are
#: scored on a stride-16 grid (build_cost.TILED_PARTS_LAYERS), the bank keeps 5% (build_cost.TILED_PARTS_CORESET).
SUGGESTED_TILE: Dict[str, Any] = {"geometry": "tile", "scale": 0.75, "tile": 320, "overlap": 64}
