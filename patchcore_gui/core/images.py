"""Reading images from disk (how they then meet the network, and maps go back: geometry.py).

Every image becomes ``(H, W, 3) uint8`` RGB whatever its file held; every failure becomes one
:class:`ImageReadError` line that names the file. Decisions, in one place:

- alpha (RGBA, LA, palette with transparency) is composited on black, so what hides under a
  transparent pixel never reaches the network and cut-outs look alike whatever their encoder left there;
- 16-bit samples are scaled by 1/257 with rounding (65535 -> 255), never clipped; 32-bit integer
  and float grey samples likewise when they lie in 0..65535 or 0..1, otherwise stretched min..max
  (float RGB TIFF, which Pillow cannot open, is refused);
- a camera of 10, 12 or 14 bits writes its samples into 16-bit files unscaled (a 12-bit one's white is
  4095, which 1/257 would make 16 of 255: a black picture of 17 grey levels). A model knows the depth of
  its good parts (:func:`sample_bits_of`, ``Preprocessing.sample_bits``) and reads its parts with
  ``read_image(path, sample_bits)``: white is ``2**bits - 1``, and a brighter sample (a glint past the
  good parts' brightest) is white too;
- EXIF orientation is applied; animated files give their first frame; CMYK is converted by Pillow;
- images over :data:`MAX_PIXELS` are refused from their header, before any pixel is decoded
  (this replaces Pillow's own decompression-bomb guard, which names no size).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from .atomic import PathLike
from .errors import DatasetError, ImageReadError
from .geometry import SAMPLE_BITS
from .progress import CancelToken
# How an image becomes the network input and how maps go back live in geometry.py; these names
# stay importable from here, where callers first found them.
from .geometry import (Placement, Preprocessing, map_to_original, network_inputs, original_to_grid,  # noqa: F401
                       original_to_input, place, preprocess)

IMAGE_SUFFIXES: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp"})
#: 8192 x 8192. Below Pillow's own decompression-bomb warning (~89 Mpx), so a refused image is
#: refused by us with its size; an RGB image this large already takes 200 MB decoded.
MAX_PIXELS: int = 8192 * 8192
# No plugin that shells out (EPS) or that a line camera never writes: content decides, not suffix.
# (A camera's multi-picture JPEG opens through the JPEG plugin, as its first picture.)
_FORMATS = ("PNG", "JPEG", "BMP", "DIB", "TIFF", "GIF", "WEBP", "PPM")
_ROWS = 1024  # rows per chunk in whole-image integer arithmetic, to bound temporary memory
# Pillow's own decompression-bomb guard warns on stderr over ~89 Mpx and refuses over ~179 Mpx in
# Image.open, without the size. MAX_PIXELS is stricter and checked from the header before any pixel
# is decoded, so it replaces that guard: one line with the size, no warning. (Process-wide, as
# Pillow's setting is; every image this program reads comes through read_image.)
Image.MAX_IMAGE_PIXELS = None


def _fail(name: str, problem: str) -> ImageReadError:
    return ImageReadError(f"cannot read '{name}': {problem}")


def _rescale(values: np.ndarray, sample_bits: int = 16) -> np.ndarray:
    """Any (H, W[, C]) integer or float samples -> uint8 of the same shape (rules in the module doc)."""
    if values.dtype == np.uint8:
        return values
    out = np.empty(values.shape, np.uint8)
    if values.dtype.kind == "f":
        values = np.nan_to_num(values.astype(np.float32, copy=False), nan=0.0, posinf=0.0, neginf=0.0)
        low, high = float(values.min()), float(values.max())
        if low < 0.0 or high > 1.0:
            values = (values - low) / (high - low if high > low else 1.0)
        np.rint(values * 255.0, out=out, casting="unsafe")
        return out
    low, high = int(values.min()), int(values.max())
    stretch = low < 0 or high > 65535
    white = (1 << sample_bits) - 1
    for start in range(0, len(values), _ROWS):
        part = values[start:start + _ROWS].astype(np.int64)
        if stretch:
            part = (part - low) * 255 // max(high - low, 1)
        else:  # round(v * 255 / white) for integers, without floats (16 bits: round(v / 257))
            part = np.minimum((part * 255 + white // 2) // white, 255)
        out[start:start + _ROWS] = part
    return out


def _to_rgb(pixels: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 2|3|4) RGB-ordered uint8 -> (H, W, 3) uint8, alpha composited on black."""
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    colour, alpha = (pixels[:, :, :-1], pixels[:, :, -1]) if pixels.shape[2] in (2, 4) else (pixels, None)
    if colour.shape[2] == 1:
        colour = np.repeat(colour, 3, axis=2)
    if alpha is None:
        return np.ascontiguousarray(colour)
    out = np.empty(colour.shape, np.uint8)
    for start in range(0, len(out), _ROWS):
        rows = slice(start, start + _ROWS)
        out[rows] = (colour[rows].astype(np.uint16) * alpha[rows, :, None] + 127) // 255
    return out


def _orient(pixels: np.ndarray, source: Image.Image) -> np.ndarray:
    """(H, W, 3) decoded from ``source``, turned as its EXIF orientation says (Pillow's ``exif_transpose``).

    Applied to the decoded pixels rather than to ``source``, because 16-bit colour is decoded by
    OpenCV, which ignores the orientation.
    """
    try:
        orientation = source.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # a damaged EXIF block must not make a good image unreadable
        return pixels
    if orientation == 1:
        return pixels
    decoded = Image.fromarray(pixels)
    decoded.getexif()[ExifTags.Base.Orientation] = orientation
    return np.asarray(ImageOps.exif_transpose(decoded))


def _raw_mode(image: Image.Image) -> str:
    try:
        args = image.tile[0].args
        return str(args if isinstance(args, str) else args[0])
    except Exception:  # tiles are a plugin detail; without them we only lose the 16-bit shortcut
        return ""


def _decode_with_opencv(path: Path, name: str) -> np.ndarray:
    """For 16-bit RGB(A), which Pillow would reduce to its high byte (the size is already checked): its
    samples, RGB(A) ordered."""
    pixels = cv2.imdecode(np.fromfile(str(path), dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise _fail(name, "damaged or unsupported image data")
    if pixels.ndim == 3 and pixels.shape[2] in (3, 4):
        pixels = pixels[:, :, [2, 1, 0, 3][: pixels.shape[2]]]  # BGR(A) -> RGB(A)
    return pixels


def _wide_samples(image: Image.Image, raw_mode: str) -> bool:
    """Whether the file holds samples wider than 8 bits (16-bit grey or colour, 32-bit integer, float)."""
    return image.mode in ("I", "F") or image.mode.startswith("I;16") or ";16" in raw_mode


def _samples(image: Image.Image, raw_mode: str, path: Path, name: str) -> np.ndarray:
    """A loaded Pillow image (``raw_mode`` read before loading, which forgets it) -> its samples as the file
    holds them, (H, W[, C]) RGB-ordered, before any scaling to 8 bits."""
    mode = image.mode
    if mode in ("RGB", "RGBA", "LA") and ";16" in raw_mode:
        return _decode_with_opencv(path, name)  # Pillow would keep only the high byte
    if mode == "P" or mode == "PA":
        image = image.convert("RGBA" if mode == "PA" or "transparency" in image.info else "RGB")
    elif mode in ("1", "CMYK", "YCbCr", "HSV", "RGBX"):
        image = image.convert("L" if mode == "1" else "RGB")
    elif mode in ("La", "RGBa"):
        image = image.convert(mode.upper())
    elif mode not in ("L", "LA", "RGB", "RGBA", "I", "F") and not mode.startswith("I;16"):
        raise _fail(name, f"unsupported colour mode {mode}")
    return np.asarray(image)


def _too_large(width: int, height: int) -> str:
    return f"too large ({width} x {height} pixels; at most {MAX_PIXELS:,} pixels, e.g. 8192 x 8192, are read)"


def read_image(path: PathLike, sample_bits: int = 16) -> np.ndarray:
    """Read any supported image file as RGB.

    ``path`` -> ``(H, W, 3)`` uint8; 16-bit samples with ``sample_bits`` significant bits (the model's
    :attr:`Preprocessing.sample_bits`; module doc). Raises :class:`ImageReadError` (one line naming the file) for
    anything else: missing, a folder, empty, not an image, truncated or damaged, too large, unreadable.

    >>> read_image("part_017.png").shape  # doctest: +SKIP
    (512, 512, 3)
    """
    path = Path(path)
    name = path.name or str(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise _fail(name, "is a folder, not an image file")
        if info.st_size == 0:
            raise _fail(name, "empty file (0 bytes)")
        try:
            with Image.open(path, formats=_FORMATS) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise _fail(name, _too_large(width, height))
                raw_mode = _raw_mode(image)
                image.load()  # before EXIF: Pillow's PNG reader loads for it and would swallow errors
                return _orient(_to_rgb(_rescale(_samples(image, raw_mode, path, name), sample_bits)), image)
        except UnidentifiedImageError:
            raise _fail(name, f"not an image ({info.st_size:,} bytes; PNG, JPEG, BMP, TIFF, GIF and WebP are read)"
                        ) from None
    except ImageReadError:
        raise
    except FileNotFoundError:
        raise _fail(name, "no such file") from None
    except PermissionError:
        raise _fail(name, "permission denied") from None
    except IsADirectoryError:
        raise _fail(name, "is a folder, not an image file") from None
    except Image.DecompressionBombError:  # only if someone set Pillow's limit again (see above)
        raise _fail(name, f"too large (at most {MAX_PIXELS:,} pixels, e.g. 8192 x 8192, are read)") from None
    except MemoryError:
        raise _fail(name, "not enough memory to decode it") from None
    except Exception as exc:  # every decoder failure, whatever the plugin raises, becomes one line
        cause = " ".join(str(exc).split()) or type(exc).__name__
        raise _fail(name, f"truncated or damaged ({cause})") from None


def _largest_sample(path: Path) -> Optional[int]:
    """The largest integer sample of a file of 16-bit samples (alpha aside); None for 8-bit, float or
    stretched samples, and for a file that cannot be read (the build reports those itself)."""
    try:
        with Image.open(path, formats=_FORMATS) as image:
            raw_mode = _raw_mode(image)
            if not _wide_samples(image, raw_mode) or image.mode == "F":
                return None
            width, height = image.size
            if width * height > MAX_PIXELS:
                return None
            image.load()
            samples = _samples(image, raw_mode, path, path.name)
    except Exception:
        return None
    if samples.ndim == 3 and samples.shape[2] in (2, 4):
        samples = samples[:, :, :-1]  # alpha is no brightness
    if samples.dtype.kind not in "iu" or samples.size == 0 or int(samples.min()) < 0:
        return None
    largest = int(samples.max())
    return largest if largest <= 65535 else None


def _bits_holding(largest: int) -> int:
    return next(bits for bits in SAMPLE_BITS if largest < 1 << bits)


def file_sample_bits(path: PathLike) -> Optional[int]:
    """How many bits one file's 16-bit samples use (12 for a 12-bit camera's); None for a file of 8-bit, float
    or stretched samples, or one that cannot be read. Decodes the file: for a part already found unlike."""
    largest = _largest_sample(Path(path))
    return None if largest is None else _bits_holding(largest)


def sample_bits_of(paths: Sequence[PathLike], cancel: Optional[CancelToken] = None) -> int:
    """The sample depth of the good parts' 16-bit files: the fewest of :data:`SAMPLE_BITS` that hold the
    largest sample of every one (12 for a 12-bit camera's 0..4095); 16 when none holds 16-bit samples.

    Only files whose header says 16-bit are decoded (8-bit ones cost a header read, about 0.1 ms).
    """
    largest = -1
    for path in paths:
        if cancel is not None:
            cancel.raise_if_cancelled()
        sample = _largest_sample(Path(path))
        if sample is not None:
            largest = max(largest, sample)
    return 16 if largest < 0 else _bits_holding(largest)


def _natural_key(relative: Path) -> Tuple[Any, ...]:
    """part_2 before part_10, per path component, case-insensitively (the exact name breaks ties)."""
    return tuple(tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", part.casefold()))
                 for part in relative.parts), str(relative)


class InputProblem(str):
    """A one-line problem met while looking for images: the message, which also knows its ``path``.

    >>> problem = InputProblem("missing/", "does not exist")
    >>> problem, problem.path
    ("'missing/' does not exist", PosixPath('missing'))
    """

    path: Path

    def __new__(cls, path: PathLike, problem: str) -> "InputProblem":
        self = super().__new__(cls, f"'{path}' {problem}")
        self.path = Path(path)
        return self


def _walk(folder: Path, problems: List[InputProblem]) -> List[Path]:
    """Image files under ``folder``, following folder links but never around a loop."""
    found: List[Path] = []
    stack: List[Tuple[Path, Tuple[Tuple[int, int], ...]]] = []
    top = folder.stat()
    stack.append((folder, ((top.st_dev, top.st_ino),)))
    while stack:
        current, ancestors = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError as exc:
            problems.append(InputProblem(current, f"cannot be listed: {exc.strerror or exc}"))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue  # hidden files and folders, macOS '._' twins included
            path = Path(entry.path)
            try:
                if entry.is_dir():
                    info = entry.stat()
                    key = (info.st_dev, info.st_ino)
                    if key in ancestors:
                        problems.append(InputProblem(path, "links back to a folder it is inside (a loop); not followed"))
                    else:
                        stack.append((path, ancestors + (key,)))
                elif path.suffix.lower() in IMAGE_SUFFIXES:
                    if entry.is_file():
                        found.append(path)
                    elif entry.is_symlink():
                        problems.append(InputProblem(path, "is a broken link"))
            except OSError as exc:
                problems.append(InputProblem(path, f"cannot be looked at: {exc.strerror or exc}"))
    return sorted(found, key=lambda p: _natural_key(p.relative_to(folder)))


def find_images(inputs: Sequence[PathLike]) -> Tuple[List[Path], List[InputProblem]]:
    """Image paths from files and folders given by a person, and one line per problem met.

    Folders are searched recursively (hidden entries skipped, files filtered by
    :data:`IMAGE_SUFFIXES`, naturally sorted); files named explicitly are kept whatever their
    suffix, so :func:`read_image` can say what is wrong with them. Inputs keep their order; a file
    reached twice is listed once.

    >>> find_images(["good/", "extra.png", "missing/"])  # doctest: +SKIP
    ([PosixPath('good/001.png'), PosixPath('good/002.png'), PosixPath('extra.png')], ["'missing/' does not exist"])
    """
    images: List[Path] = []
    problems: List[InputProblem] = []
    seen = set()
    for given in inputs:
        path = Path(given)
        try:
            if path.is_dir():
                found = _walk(path, problems)
            elif path.is_file():
                found = [path]
            elif path.is_symlink():
                problems.append(InputProblem(given, "is a broken link"))
                continue
            elif os.path.exists(path):
                problems.append(InputProblem(given, "is neither a file nor a folder"))
                continue
            else:
                problems.append(InputProblem(given, "does not exist"))
                continue
        except OSError as exc:
            problems.append(InputProblem(given, f"cannot be looked at: {exc.strerror or exc}"))
            continue
        for image in found:
            key = os.path.realpath(image)
            if key not in seen:
                seen.add(key)
                images.append(image)
    return images, problems


#: Folders that hold anything but good parts, by name (any case), as layouts people build from have them:
#: MVTec AD's defect masks, and the line's own sorted verdicts (``sorted/<date>/NG/``).
NOT_GOOD_PART_FOLDERS = {"ground_truth": "defect masks", "ng": "parts the line sorted NG",
                         "review": "parts the line sorted for review", "error": "unreadable parts the line sorted"}


def good_part_images(folder: PathLike) -> Tuple[List[Path], List[InputProblem]]:
    """The images of a good-parts folder, its subfolders too, and the files skipped.

    :class:`DatasetError` when there are none, and when defective parts would be built in as good ones: a data
    set's root in the MVTec layout (its test parts and masks), a folder with ``good`` beside other kinds (a
    data set's ``test``), or one holding the line's NG, REVIEW or ERROR sorting. Said before a build, not
    found in its misses.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"good-parts folder '{folder}' does not exist or is not a folder")
    kinds = sorted(entry.name for entry in folder.iterdir() if entry.is_dir() and not entry.name.startswith("."))
    if (folder / "train" / "good").is_dir() and ("test" in kinds or "ground_truth" in kinds):
        raise DatasetError(f"'{folder}' is a data set in the MVTec layout: its test parts and defect masks would "
                           f"be built in as good parts; build from '{folder / 'train' / 'good'}' (patchcore "
                           f"evaluate measures the whole data set)")
    if "good" in kinds and len(kinds) > 1:
        others = [kind for kind in kinds if kind != "good"]
        raise DatasetError(f"'{folder}' holds 'good' beside {', '.join(others[:4])}{', ...' if len(others) > 4 else ''}"
                           f": they would be built in as good parts; build from '{folder / 'good'}'")
    images, problems = find_images([folder])
    for image in images:
        for part in image.relative_to(folder).parts[:-1]:
            what = NOT_GOOD_PART_FOLDERS.get(part.lower())
            if what is not None:
                inside = image.parent.relative_to(folder)
                raise DatasetError(f"'{folder}' holds {what} ({inside}{os.sep}): they would be built in as good "
                                   f"parts; build from a folder of good parts only")
    if not images:
        raise DatasetError(f"'{folder}' holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return images, problems
