"""Do these parts look like the good parts the model was built from at all?

A model only knows its own product. Given another one (a bottle model and Magnetic Tile images),
every part scores far above the threshold and is outlined edge to edge, which reads as "all
defective" when it means "wrong model". Three signs, each cheap, say so plainly instead:

- **colour mode**: greyscale parts for a model built from colour parts, or the other way round
  (the mode the file stores, read from its header);
- **proportions**: a width/height ratio outside the good parts' range by more than
  :data:`ASPECT_TOLERANCE`, or a size more than :data:`SCALE_TOLERANCE` times off theirs (the network
  sees every part at one size, so a stretched or much smaller picture of the right part also fails);
- **unlike almost everywhere**: the tenth percentile of the part's patch distances is above
  :data:`FAR_EVERYWHERE` times the map floor (a good part's typical patch distance, kept in every model).
  A defect, however large, leaves most of the part like a good one; another product leaves nothing.
  Measured with the default settings (docs/outputs.md): on a model's own test set (defects
  included) the tenth percentile was at most 1.26 x the floor (bottle) and 1.32 x (Magnetic Tile);
  on the other product at least 3.41 x (tiles under the bottle model) and 2.08 x (bottles under
  the tile model);
- **sample depth**, said only of a part already unlike almost everywhere: a 16-bit file whose samples
  use another depth than the model reads (a 12-bit camera's files for a model built from 8-bit or full
  16-bit parts read almost black; full 16-bit samples for a 12-bit model, almost white). Finding it decodes
  the file again, so it is looked for only where the part is already far.

The image score alone cannot tell the two apart: a bottle model scored its own broken_large parts
2.0-2.3 x the highest held-out good score and Magnetic Tile 2.0-2.8 x, so "nearly all scores beyond
k x the highest held-out score" would call a batch of broken bottles another product.

The colour modes and sizes of the good parts are recorded at fit time (:class:`GoodPartsLook`, in the
model file's header since this was added); older model files have only the third sign.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
from PIL import Image

from .errors import refuse_unknown_keys
from .images import file_sample_bits

if TYPE_CHECKING:  # the model holds a GoodPartsLook, so this module cannot import it at run time
    from .model import PatchCoreModel

PathLike = Union[str, "os.PathLike[str]"]

GREY, COLOUR = "greyscale", "colour"
#: Pillow modes that hold one grey channel (with or without alpha); every other mode counts as colour.
_GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"})
#: A width/height ratio this much (relative) outside the good parts' range is another picture.
ASPECT_TOLERANCE = 0.10
#: A part whose sides are more than this factor smaller or larger than every good part's.
SCALE_TOLERANCE = 2.0
#: Tenth percentile of a part's patch distances / the model's map floor above which the part is
#: unlike the good parts almost everywhere: own products measured <= 1.32, other products >= 2.08;
#: 1.7 leaves about the same factor (1.29 and 1.22) to either side.
FAR_EVERYWHERE = 1.7
#: Which share of the patches must be far: the closest tenth of the part.
_CLOSEST_SHARE = 0.10

# the reasons a part can be unlike the good parts, in the order a message lists them
COLOUR_MODE, PROPORTIONS, FAR, SAMPLE_DEPTH = "colour mode", "proportions", "far everywhere", "sample depth"


@dataclass(frozen=True)
class PartLook:
    """What a part's file says of it before any pixel is decoded: size and colour mode."""

    height: int
    width: int
    colour: str  #: :data:`GREY` or :data:`COLOUR`

    @property
    def aspect(self) -> float:
        return self.width / max(self.height, 1)


def part_look(path: PathLike) -> Optional[PartLook]:
    """Size and colour mode from the image file's header (about 0.1 ms); None if it cannot be opened.

    EXIF orientation is not applied: good parts and inspected parts are read the same way.
    """
    try:
        with Image.open(path) as image:
            width, height = image.size
            mode = image.mode
            if mode in ("P", "PA"):
                palette = np.asarray(image.getpalette() or [], np.int32).reshape(-1, 3)
                grey = len(palette) > 0 and bool((palette == palette[:, :1]).all())
            else:
                grey = mode in _GREY_MODES
    except Exception:  # unreadable files are reported by the inspection itself
        return None
    return PartLook(height=int(height), width=int(width), colour=GREY if grey else COLOUR)


@dataclass(frozen=True)
class GoodPartsLook:
    """The sizes, proportions and colour modes of the good parts a model was built from."""

    height: Tuple[int, int]  #: (smallest, largest)
    width: Tuple[int, int]
    aspect: Tuple[float, float]  #: width / height, (smallest, largest)
    colours: Tuple[str, ...]  #: the colour modes seen, sorted

    @classmethod
    def of(cls, looks: Iterable[Optional[PartLook]]) -> Optional["GoodPartsLook"]:
        known = [look for look in looks if look is not None]
        if not known:
            return None
        heights, widths = [look.height for look in known], [look.width for look in known]
        aspects = [look.aspect for look in known]
        return cls(height=(min(heights), max(heights)), width=(min(widths), max(widths)),
                   aspect=(min(aspects), max(aspects)), colours=tuple(sorted({look.colour for look in known})))

    def size_text(self) -> str:
        """``512 x 512``, or ``113-599 x 122-600`` (width x height) when the good parts differ."""
        def span(values: Tuple[int, int]) -> str:
            return str(values[0]) if values[0] == values[1] else f"{values[0]}-{values[1]}"
        return f"{span(self.width)} x {span(self.height)}"

    def to_dict(self) -> Dict[str, Any]:
        return {"height": list(self.height), "width": list(self.width), "aspect": list(self.aspect),
                "colours": list(self.colours)}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "GoodPartsLook":
        refuse_unknown_keys(data, ("height", "width", "aspect", "colours"), "good parts' look")
        colours = tuple(str(c) for c in data["colours"])
        if not set(colours) <= {GREY, COLOUR}:
            raise ValueError(f"unknown colour modes {colours}")
        return cls(height=(int(data["height"][0]), int(data["height"][1])),
                   width=(int(data["width"][0]), int(data["width"][1])),
                   aspect=(float(data["aspect"][0]), float(data["aspect"][1])), colours=colours)


def describe_good_parts(paths: Sequence[PathLike]) -> Optional[GoodPartsLook]:
    """What :func:`fit` records of its good images (headers only: 209 bottle images in about 20 ms)."""
    return GoodPartsLook.of(part_look(path) for path in paths)


def unlike_reasons(model: "PatchCoreModel", look: Optional[PartLook], patch_scores: Optional[np.ndarray]
                   ) -> Tuple[str, ...]:
    """Why one part does not look like the model's good parts: some of :data:`COLOUR_MODE`,
    :data:`PROPORTIONS`, :data:`FAR`; empty when it does (or when nothing is known to compare)."""
    reasons: List[str] = []
    good = model.good_parts
    if good is not None and look is not None:
        if look.colour not in good.colours:
            reasons.append(COLOUR_MODE)
        low, high = good.aspect
        off_aspect = not low / (1 + ASPECT_TOLERANCE) <= look.aspect <= high * (1 + ASPECT_TOLERANCE)
        side, good_low, good_high = max(look.height, look.width), max(good.height[0], good.width[0]), \
            max(good.height[1], good.width[1])
        off_scale = not good_low / SCALE_TOLERANCE <= side <= good_high * SCALE_TOLERANCE
        if off_aspect or off_scale:
            reasons.append(PROPORTIONS)
    if patch_scores is not None and np.size(patch_scores) and model.map_scale.floor > 0:
        closest = float(np.quantile(np.asarray(patch_scores, np.float64), _CLOSEST_SHARE))
        if closest > FAR_EVERYWHERE * model.map_scale.floor:
            reasons.append(FAR)
    return tuple(reasons)


@dataclass(frozen=True)
class Unlikeness:
    """Why one part does not look like the model's good parts (no reasons: it does), with what a message
    names: the part's colour mode, and the bits its 16-bit samples use where the model reads another depth."""

    reasons: Tuple[str, ...] = ()
    colour: Optional[str] = None
    sample_bits: Optional[int] = None


def unlikeness_of_file(model: "PatchCoreModel", path: PathLike, patch_scores: Optional[np.ndarray]) -> Unlikeness:
    """:func:`unlike_reasons` of the part in ``path`` (its header read), and :data:`SAMPLE_DEPTH` where it
    is far everywhere because its samples are of another depth than the model reads."""
    look = part_look(path)
    reasons = unlike_reasons(model, look, patch_scores)
    bits = None
    if FAR in reasons:
        found = file_sample_bits(path)
        if found is not None and found != model.preprocessing.sample_bits:
            reasons, bits = reasons + (SAMPLE_DEPTH,), found
    return Unlikeness(reasons, None if look is None else look.colour, bits)


class LikenessCheck:
    """Counts, over a batch, the parts unlike the model's good parts and why; one line for people.

    >>> check = LikenessCheck(model)                                        # doctest: +SKIP
    >>> check.add(part_look(path), inspection.patch_scores)                 # doctest: +SKIP
    ('colour mode', 'far everywhere')
    >>> check.warning()                                                     # doctest: +SKIP
    '1 of 1 parts do not look like the good parts this model was built from (...): is it the model for these parts?'
    """

    def __init__(self, model: "PatchCoreModel") -> None:
        self.model = model
        self.checked = 0
        self.unlike = 0
        self.reasons: Counter = Counter()
        self.colours_seen: Counter = Counter()
        self.bits_seen: Counter = Counter()

    def add(self, look: Optional[PartLook], patch_scores: Optional[np.ndarray]) -> Tuple[str, ...]:
        reasons = unlike_reasons(self.model, look, patch_scores)
        return self.count(Unlikeness(reasons, None if look is None else look.colour))

    def add_file(self, path: PathLike, patch_scores: Optional[np.ndarray]) -> Tuple[str, ...]:
        return self.count(unlikeness_of_file(self.model, path, patch_scores))

    def count(self, part: Unlikeness) -> Tuple[str, ...]:
        """Count one part judged already (:func:`unlikeness_of_file`); its reasons."""
        self.checked += 1
        if part.reasons:
            self.unlike += 1
            self.reasons.update(part.reasons)
            if COLOUR_MODE in part.reasons and part.colour is not None:
                self.colours_seen[part.colour] += 1
            if SAMPLE_DEPTH in part.reasons and part.sample_bits is not None:
                self.bits_seen[part.sample_bits] += 1
        return part.reasons

    def why(self) -> str:
        """What the unlike parts counted have against the good parts, in a few words each (empty: none)."""
        good = self.model.good_parts
        why = []
        if self.reasons[COLOUR_MODE] and good is not None:
            seen = " or ".join(sorted(self.colours_seen))
            why.append(f"{self.reasons[COLOUR_MODE]} {seen} where the good parts are {' and '.join(good.colours)}")
        if self.reasons[PROPORTIONS] and good is not None:
            why.append(f"{self.reasons[PROPORTIONS]} of other proportions or size than the good parts' "
                       f"{good.size_text()}")
        if self.reasons[FAR]:
            why.append(f"{self.reasons[FAR]} unlike any good part almost all over")
        if self.bits_seen:
            seen = " or ".join(f"{bits}-bit" for bits in sorted(self.bits_seen))
            reads = self.model.preprocessing.sample_bits
            how = "almost black" if max(self.bits_seen) < reads else "almost white"
            why.append(f"{sum(self.bits_seen.values())} with {seen} samples in 16-bit files where the model reads "
                       f"{reads}-bit samples, so they look {how}: build the model from this camera's files")
        return "; ".join(why)

    def warning(self) -> Optional[str]:
        """None when every part looks like the good parts, else one line: how many do not, and why."""
        if not self.unlike:
            return None
        return (f"{self.unlike} of {self.checked} parts do not look like the good parts this model was built from "
                f"({self.why()}): is it the model for these parts?")


def likeness_warning(model: "PatchCoreModel", parts: Iterable[Tuple[Path, Optional[np.ndarray]]]) -> Optional[str]:
    """:meth:`LikenessCheck.warning` for ``(path, patch scores)`` pairs: the call for a finished batch."""
    check = LikenessCheck(model)
    for path, patch_scores in parts:
        check.add_file(path, patch_scores)
    return check.warning()
