"""Reading, finding and preprocessing images; every file is made here, at test time."""

from __future__ import annotations

import io
import json
import os
import struct
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

from patchcore_gui.core import images
from patchcore_gui.core.errors import ImageReadError
from patchcore_gui.core.images import (IMAGE_SUFFIXES, MAX_PIXELS, Preprocessing, find_images, map_to_original,
                                       preprocess, read_image, sample_bits_of)

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (6, 7, 3), dtype=np.uint8)


def save(image: Image.Image, path: Path, **options) -> Path:
    image.save(path, **options)
    return path


def blocks(height: int = 32, width: int = 48) -> np.ndarray:
    """Four flat quadrants (red, green, blue, white): survives JPEG well enough to check orientation."""
    out = np.zeros((height, width, 3), np.uint8)
    h, w = height // 2, width // 2
    out[:h, :w], out[:h, w:], out[h:, :w], out[h:, w:] = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)
    return out


# --- formats and modes -------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix,options", [(".png", {}), (".bmp", {}), (".tif", {}), (".ppm", {}),
                                            (".tiff", {"compression": "tiff_lzw"}), (".webp", {"lossless": True})])
def test_lossless_rgb_formats_are_exact(tmp_path, suffix, options):
    path = save(Image.fromarray(RGB), tmp_path / f"part{suffix}", **options)
    out = read_image(path)
    assert out.dtype == np.uint8 and out.shape == (6, 7, 3)
    np.testing.assert_array_equal(out, RGB)


def test_jpeg_is_close(tmp_path):
    path = save(Image.fromarray(blocks()), tmp_path / "part.jpg", quality=95, subsampling=0)
    out = read_image(path)
    assert out.shape == (32, 48, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - blocks()).mean() < 3


def test_grey_and_one_bit_become_three_equal_channels(tmp_path):
    grey = RNG.integers(0, 256, (5, 4), dtype=np.uint8)
    out = read_image(save(Image.fromarray(grey), tmp_path / "grey.png"))
    assert out.shape == (5, 4, 3)
    np.testing.assert_array_equal(out, np.repeat(grey[:, :, None], 3, axis=2))
    bits = Image.new("1", (3, 2))
    bits.putpixel((1, 0), 1)
    out = read_image(save(bits, tmp_path / "bits.png"))
    assert out.shape == (2, 3, 3) and out[0, 1].tolist() == [255] * 3 and out[0, 0].tolist() == [0] * 3


def test_alpha_is_composited_on_black(tmp_path):
    rgba = np.array([[[200, 100, 50, 255], [200, 100, 50, 128], [200, 100, 50, 0]]], np.uint8)
    out = read_image(save(Image.fromarray(rgba), tmp_path / "rgba.png"))
    half = [(v * 128 + 127) // 255 for v in (200, 100, 50)]
    assert out[0].tolist() == [[200, 100, 50], half, [0, 0, 0]]
    la = Image.merge("LA", [Image.new("L", (2, 1), 90), Image.fromarray(np.array([[255, 0]], np.uint8))])
    assert read_image(save(la, tmp_path / "la.png"))[0].tolist() == [[90] * 3, [0] * 3]


def test_palette_with_and_without_transparency(tmp_path):
    palette = Image.new("P", (2, 2))
    palette.putpalette([10, 20, 30, 200, 100, 0] + [0] * 762)
    palette.putpixel((1, 1), 1)
    out = read_image(save(palette, tmp_path / "palette.png"))
    assert out[0, 0].tolist() == [10, 20, 30] and out[1, 1].tolist() == [200, 100, 0]
    out = read_image(save(palette, tmp_path / "clear.png", transparency=0))
    assert out[0, 0].tolist() == [0, 0, 0] and out[1, 1].tolist() == [200, 100, 0]


SIXTEEN = np.array([[0, 255, 256, 32896], [65535, 257 * 100, 383, 385]], np.uint16)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path, suffix):
    out = read_image(save(Image.fromarray(SIXTEEN), tmp_path / f"grey16{suffix}"))
    assert out.shape == (2, 4, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[:, :, 0], np.round(SIXTEEN / 257.0).astype(np.uint8))
    assert out[1, 0, 0] == 255 and out[0, 3, 0] == 128


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_rgb_is_scaled_by_257(tmp_path, suffix):
    rgb = np.stack([SIXTEEN, SIXTEEN[::-1], np.full_like(SIXTEEN, 65535)], axis=2)
    path = tmp_path / f"rgb16{suffix}"
    assert cv2.imwrite(str(path), rgb[:, :, ::-1])  # OpenCV writes BGR
    np.testing.assert_array_equal(read_image(path), np.round(rgb / 257.0).astype(np.uint8))


def test_sixteen_bit_rgba_is_scaled_then_composited(tmp_path):
    bgra = np.zeros((1, 2, 4), np.uint16)
    bgra[0, :, 2] = 65535
    bgra[0, :, 3] = (65535, 0)
    path = tmp_path / "rgba16.png"
    assert cv2.imwrite(str(path), bgra)
    assert read_image(path)[0].tolist() == [[255, 0, 0], [0, 0, 0]]


def write_twelve_bit(pixels: np.ndarray, path: Path) -> Path:
    """``(H, W, 3)`` uint8 RGB written as a 12-bit camera writes it (16-bit PNG of 0..4095); read with 12
    sample bits it gives ``pixels`` back exactly."""
    assert cv2.imwrite(str(path), np.rint(pixels.astype(np.float64) * 4095 / 255).astype(np.uint16)[:, :, ::-1])
    return path


TWELVE = np.array([[0, 16, 2048, 4095], [4095, 1000, 5000, 65535]], np.uint16)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_a_twelve_bit_cameras_samples_are_read_with_4095_as_white(tmp_path, suffix):
    """A 12-bit camera writes 0..4095 into 16-bit files: read as 16-bit they would be 0..16 of 255."""
    path = save(Image.fromarray(TWELVE), tmp_path / f"grey12{suffix}")
    assert read_image(path)[0, :, 0].tolist() == [0, 0, 8, 16]  # what the file means to a 16-bit reader
    out = read_image(path, sample_bits=12)[:, :, 0]
    assert out[0].tolist() == [0, 1, 128, 255]
    # brighter than the model's white (a glint, or another camera setting): white, never wrapped
    assert out[1].tolist() == [255, 62, 255, 255]


def test_sample_bits_apply_to_sixteen_bit_rgb_and_not_to_eight_bit_files(tmp_path):
    rgb = np.stack([TWELVE[:1], TWELVE[:1] // 4, np.full_like(TWELVE[:1], 1023)], axis=2)
    path = tmp_path / "rgb10.png"
    assert cv2.imwrite(str(path), rgb[:, :, ::-1])  # OpenCV writes BGR
    assert read_image(path, sample_bits=12)[0, 2].tolist() == [128, 32, 64]
    eight = save(Image.fromarray(np.array([[0, 255]], np.uint8)), tmp_path / "grey8.png")
    assert read_image(eight, sample_bits=10)[0, :, 0].tolist() == [0, 255]


def test_sample_bits_of_the_good_parts(tmp_path):
    def grey16(name, largest):
        return save(Image.fromarray(np.array([[0, largest]], np.uint16)), tmp_path / name)

    eight = save(Image.fromarray(np.array([[0, 255]], np.uint8)), tmp_path / "eight.png")
    assert sample_bits_of([eight]) == 16  # no 16-bit file: the model reads 16-bit files at full range
    assert sample_bits_of([grey16("a.png", 4000), grey16("b.tif", 3000), eight]) == 12
    assert sample_bits_of([grey16("c.png", 1023)]) == 10 and sample_bits_of([grey16("d.png", 1024)]) == 12
    assert sample_bits_of([grey16("e.png", 255)]) == 8
    assert sample_bits_of([grey16("f.png", 4000), grey16("g.png", 40000)]) == 16
    bgr = np.full((2, 2, 3), 9000, np.uint16)
    assert cv2.imwrite(str(tmp_path / "rgb14.png"), bgr)
    assert sample_bits_of([tmp_path / "rgb14.png"]) == 14
    # unreadable and missing files are the build's to report, not this question's
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    assert sample_bits_of([tmp_path / "broken.png", tmp_path / "missing.png", grey16("h.png", 4095)]) == 12


def test_float_and_int32_grey(tmp_path):
    unit = np.array([[0.0, 0.25], [1.0, 0.5]], np.float32)
    out = read_image(save(Image.fromarray(unit), tmp_path / "unit.tif"))
    assert out[:, :, 0].tolist() == [[0, 64], [255, 128]]
    wide = np.array([[-10.0, 0.0], [90.0, 40.0]], np.float32)  # outside 0..1: stretched min..max
    assert read_image(save(Image.fromarray(wide), tmp_path / "wide.tif"))[:, :, 0].tolist() == [[0, 26], [255, 128]]
    ints = np.array([[0, 65535]], np.int32)
    assert read_image(save(Image.fromarray(ints), tmp_path / "ints.tif"))[0, :, 0].tolist() == [0, 255]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow(tmp_path, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = save(Image.fromarray(RGB), tmp_path / "oriented.png", exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    np.testing.assert_array_equal(read_image(path), expected)


def test_exif_orientation_six_turns_a_jpeg_clockwise(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    path = save(Image.fromarray(blocks(32, 48)), tmp_path / "camera.jpg", exif=exif, quality=95)
    out = read_image(path)
    assert out.shape == (48, 32, 3)
    # turned clockwise: the top-left red quadrant is now top-right, the blue bottom-left now top-left
    assert out[4, 28].argmax() == 0 and out[4, 4].tolist() == pytest.approx([0, 0, 255], abs=8)


def test_exif_orientation_also_turns_sixteen_bit_rgb_which_opencv_decodes(tmp_path):
    rgb = np.stack([SIXTEEN, SIXTEEN[::-1], np.full_like(SIXTEEN, 65535)], axis=2)
    png = cv2.imencode(".png", rgb[:, :, ::-1])[1].tobytes()
    exif = Image.Exif()
    exif[0x0112] = 6
    tiff = exif.tobytes()[len(b"Exif\x00\x00"):]  # an eXIf chunk holds the TIFF block without the JPEG prefix
    chunk = struct.pack(">I", len(tiff)) + b"eXIf" + tiff + struct.pack(">I", zlib.crc32(b"eXIf" + tiff))
    at = png.index(b"IDAT") - 4
    path = tmp_path / "rgb16_turned.png"
    path.write_bytes(png[:at] + chunk + png[at:])
    np.testing.assert_array_equal(read_image(path), np.rot90(np.round(rgb / 257.0).astype(np.uint8), -1))


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    path = save(Image.new("CMYK", (16, 16), (255, 0, 0, 0)), tmp_path / "cmyk.jpg", quality=95)
    out = read_image(path)
    assert out.shape == (16, 16, 3) and out[8, 8].tolist() == pytest.approx([0, 255, 255], abs=4)


def test_animated_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (4, 4), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    path = save(frames[0], tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    out = read_image(path)
    assert out.shape == (4, 4, 3) and out[0, 0].tolist() == [255, 0, 0]


def test_non_ascii_path_tiny_image_and_content_over_suffix(tmp_path):
    folder = tmp_path / "Prüfung"
    folder.mkdir()
    path = save(Image.fromarray(RGB), folder / "prüfteil_部品.png")
    np.testing.assert_array_equal(read_image(str(path)), RGB)
    assert read_image(save(Image.new("RGB", (1, 1), (1, 2, 3)), tmp_path / "dot.png")).tolist() == [[[1, 2, 3]]]
    disguised = tmp_path / "part.dat"
    disguised.write_bytes(path.read_bytes())
    np.testing.assert_array_equal(read_image(disguised), RGB)


# --- failures ----------------------------------------------------------------------------------------

def png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size in its header and holds (almost) no pixel data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


NOISE = Image.fromarray(RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8))


def failure(path: Path) -> str:
    with pytest.raises(ImageReadError) as raised:
        read_image(path)
    message = str(raised.value)
    assert Path(path).name in message and "\n" not in message
    return message


@pytest.mark.parametrize("name,content,words", [
    ("three.png", b"abc", "not an image (3 bytes"),
    ("notes.png", b"these are notes, not pixels\n" * 5, "not an image"),
    ("empty.png", b"", "empty"),
    ("half.png", encoded(NOISE, "PNG")[:2000], "truncated"),
    ("half.jpg", encoded(NOISE, "JPEG")[:1500], "truncated"),
    ("half.tif", encoded(NOISE, "TIFF")[:3000], "truncated"),
    ("huge.png", png_header(20000, 20000), "too large (20000 x 20000 pixels; at most 67,108,864"),
    ("large.png", png_header(8193, 8192), "too large (8193 x 8192"),
])
def test_bad_files_give_one_line_naming_the_file(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    assert words in failure(path)


def test_a_large_image_is_refused_by_its_size_without_a_warning(tmp_path):
    """10000 x 10000 is over our limit and over Pillow's warning level: one line from us, no warning on stderr."""
    path = tmp_path / "big.png"
    path.write_bytes(png_header(10000, 10000))
    with warnings.catch_warnings(record=True) as caught:  # the filters in force, pytest's and the engine's
        assert "too large (10000 x 10000 pixels; at most 67,108,864 pixels" in failure(path)
    assert [str(w.message) for w in caught] == []


def test_corrupt_png_data(tmp_path, capfd):
    data = bytearray(encoded(NOISE, "PNG"))
    start = data.index(b"IDAT") + 4
    data[start:start + 64] = b"\xff" * 64  # the zlib stream's header and first block
    path = tmp_path / "corrupt.png"
    path.write_bytes(bytes(data))
    assert "damaged" in failure(path)
    assert capfd.readouterr().err == ""  # our line only


def test_missing_folder_and_unreadable(tmp_path, monkeypatch):
    assert "no such file" in failure(tmp_path / "gone.png")
    (tmp_path / "folder.png").mkdir()
    assert "folder" in failure(tmp_path / "folder.png")
    path = save(Image.fromarray(RGB), tmp_path / "locked.png")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))
    monkeypatch.setattr(images.Image, "open", refuse)
    assert "permission denied" in failure(path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_permission_denied_for_real(tmp_path):
    path = save(Image.fromarray(RGB), tmp_path / "locked.png")
    path.chmod(0)
    try:
        assert "permission denied" in failure(path)
    finally:
        path.chmod(0o644)


def test_limit_is_checked_from_the_header():
    assert MAX_PIXELS == 8192 * 8192


SEEDS = [encoded(NOISE.resize((8, 8)), fmt) for fmt in ("PNG", "JPEG", "BMP", "TIFF", "GIF", "WEBP")]
SEEDS.append(png_header(4, 4))
SEEDS.append(encoded(Image.fromarray(SIXTEEN), "PNG"))


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's own complaints about the garbage
def test_random_and_mutated_bytes_never_escape_as_other_errors(tmp_path):
    edits = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8)
    mutated = st.tuples(st.sampled_from(SEEDS), edits, st.integers(1, 10_000))

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.one_of(st.binary(max_size=512), mutated))
    def check(case):
        if isinstance(case, bytes):
            data = case
        else:
            seed, edits, keep = case
            buffer = bytearray(seed)
            for position, value in edits:
                buffer[position % len(buffer)] = value
            data = bytes(buffer[:keep])
        path = tmp_path / "fuzz.img"
        path.write_bytes(data)
        try:
            out = read_image(path)
        except ImageReadError as error:
            assert str(error).startswith("cannot read 'fuzz.img': ") and "\n" not in str(error)
        else:
            assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3

    check()


# --- finding images ----------------------------------------------------------------------------------

def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_find_images_recurses_filters_and_sorts_naturally(tmp_path):
    for name in ("a/part_10.png", "a/part_2.png", "a/c/deep.tiff", "b/x.jpg", "B.PNG", "notes.txt",
                 ".hidden.png", ".cache/y.png", "a/._part_2.png"):
        touch(tmp_path / name)
    found, problems = find_images([tmp_path])
    assert problems == []
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a/c/deep.tiff", "a/part_2.png", "a/part_10.png", "b/x.jpg", "B.PNG"]


def test_explicit_files_are_kept_and_inputs_keep_their_order(tmp_path):
    folder = tmp_path / "good"
    touch(folder / "1.png")
    odd = touch(tmp_path / "scan.raw")
    hidden = touch(tmp_path / ".secret.png")
    found, problems = find_images([odd, folder, str(hidden), folder / "1.png", tmp_path / "missing"])
    assert found == [odd, folder / "1.png", hidden]  # the second mention of 1.png is dropped
    assert len(problems) == 1 and "missing" in problems[0] and "does not exist" in problems[0]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_symlink_loop_is_reported_not_followed(tmp_path):
    touch(tmp_path / "root" / "a" / "1.png")
    touch(tmp_path / "root" / "2.png")
    os.symlink(tmp_path / "root" / "a", tmp_path / "root" / "a" / "again")
    os.symlink(tmp_path / "root", tmp_path / "root" / "a" / "up")
    os.symlink(tmp_path / "nowhere.png", tmp_path / "root" / "dead.png")
    found, problems = find_images([tmp_path / "root"])
    assert [p.relative_to(tmp_path / "root").as_posix() for p in found] == ["2.png", "a/1.png"]
    assert sorted(p for p in problems if "(a loop)" in p) == [
        f"'{tmp_path / 'root' / 'a' / 'again'}' links back to a folder it is inside (a loop); not followed",
        f"'{tmp_path / 'root' / 'a' / 'up'}' links back to a folder it is inside (a loop); not followed"]
    assert problems[0] == f"'{tmp_path / 'root' / 'dead.png'}' is a broken link" and len(problems) == 3


def test_suffixes():
    assert {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"} <= IMAGE_SUFFIXES
    assert all(s == s.lower() and s.startswith(".") for s in IMAGE_SUFFIXES)


# --- preprocessing and the way back ------------------------------------------------------------------

def test_preprocessing_round_trips_through_json():
    for prep in (Preprocessing(), Preprocessing(256, 224, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
                 Preprocessing(sample_bits=12)):
        again = Preprocessing.from_dict(json.loads(json.dumps(prep.to_dict())))
        assert again == prep
    # a model of 8-bit parts writes no depth, so programs from before the depth still open it
    assert "sample_bits" not in Preprocessing().to_dict()
    assert Preprocessing(sample_bits=12).to_dict()["sample_bits"] == 12
    assert Preprocessing(sample_bits=12).describe() == ("squeezed to 224 x 224; 12-bit samples in 16-bit files "
                                                        "(4095 is white)")
    with pytest.raises(ValueError, match="sample bits must be one of 8, 10, 12, 14, 16, not 11"):
        Preprocessing(sample_bits=11)
    assert Preprocessing(256, 224).input_size == 224 and Preprocessing(320).input_size == 320
    with pytest.raises(ValueError, match="preprocessing 'interpolation'"):
        Preprocessing.from_dict({**Preprocessing().to_dict(), "interpolation": "cubic"})
    with pytest.raises(ValueError):
        Preprocessing(resize=200, crop=224)
    with pytest.raises(ValueError):
        Preprocessing(std=(0.5, 0.0, 0.5))


@pytest.mark.parametrize("shape", [(100, 300), (300, 100), (1, 1), (10, 1000), (1000, 10), (40, 40)])
@pytest.mark.parametrize("prep", [Preprocessing(64), Preprocessing(72, 64)])
def test_preprocess_shape_and_type(shape, prep):
    out = preprocess(RNG.integers(0, 256, (*shape, 3), dtype=np.uint8), prep)
    assert out.shape == (3, 64, 64) and out.dtype == np.float32 and out.flags.c_contiguous


def test_preprocess_normalises_per_channel():
    image = np.zeros((20, 30, 3), np.uint8)
    image[..., 0] = 255
    out = preprocess(image, Preprocessing(16))
    np.testing.assert_allclose(out[0], 1.0, atol=1e-6)
    np.testing.assert_allclose(out[1:], -1.0, atol=1e-6)
    imagenet = Preprocessing(16, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    out = preprocess(np.full((8, 8, 3), 128, np.uint8), imagenet)
    np.testing.assert_allclose(out[:, 0, 0], (128 / 255 - np.array(imagenet.mean)) / np.array(imagenet.std), atol=1e-5)
    with pytest.raises(ValueError):
        preprocess(np.zeros((8, 8), np.uint8), imagenet)


def test_crop_keeps_the_centre_and_no_crop_keeps_everything():
    image = np.zeros((100, 300, 3), np.uint8)
    image[:, :100, 0] = 255
    image[:, 100:200, 1] = 255
    image[:, 200:, 2] = 255
    cropped = preprocess(image, Preprocessing(32, 32))
    assert (cropped[1] > 0.99).all() and (cropped[[0, 2]] < -0.99).all()
    whole = preprocess(image, Preprocessing(32))
    assert whole[0, :, 0].min() > 0.99 and whole[2, :, -1].min() > 0.99


def test_map_back_without_crop_is_bilinear_like_opencv():
    score_map = RNG.random((32, 32)).astype(np.float32)
    for hw in ((64, 96), (20, 13), (32, 32), (1, 1)):
        out = map_to_original(score_map, hw, Preprocessing(32))
        assert out.shape == hw and out.dtype == np.float32
        np.testing.assert_allclose(out, cv2.resize(score_map, hw[::-1], interpolation=cv2.INTER_LINEAR), atol=1e-5)


@pytest.mark.parametrize("prep", [Preprocessing(64), Preprocessing(64, 32), Preprocessing(80, 56)])
@pytest.mark.parametrize("hw,dot", [((100, 200), (40, 90)), ((240, 120), (130, 50)), ((90, 90), (45, 40))])
def test_a_peak_lands_where_the_defect_was(prep, hw, dot):
    """Preprocess an image with a bright dot, put a peak where the network saw it, map it back."""
    image = np.zeros((*hw, 3), np.uint8)
    image[dot[0] - 2:dot[0] + 3, dot[1] - 2:dot[1] + 3] = 255
    seen = preprocess(image, prep)[0]
    peak = np.unravel_index(np.argmax(seen), seen.shape)
    score_map = np.zeros((prep.input_size,) * 2, np.float32)
    score_map[peak] = 1.0
    back = map_to_original(score_map, hw, prep)
    assert back.shape == hw and back.dtype == np.float32
    found = np.unravel_index(np.argmax(back), hw)
    tolerance = 1.5 * max(hw) / prep.resize + 1
    assert abs(found[0] - dot[0]) <= tolerance and abs(found[1] - dot[1]) <= tolerance


def test_outside_the_crop_gets_the_map_minimum():
    score_map = np.full((32, 32), 2.0, np.float32)
    score_map[0, 0] = 0.5
    back = map_to_original(score_map, (100, 200), Preprocessing(64, 32))
    # resized to 64 x 128, crop box rows 16..48, cols 48..80 -> original rows 25..75, cols 75..125
    assert back[50, 5] == 0.5 and back[50, 195] == 0.5 and back[5, 100] == 0.5 and back[95, 100] == 0.5
    assert back[50, 100] == 2.0 and back[30:70, 80:120].min() >= 0.5
