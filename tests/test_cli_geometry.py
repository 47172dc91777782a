"""The CLI's input geometry: the cost said before building, --estimate builds nothing, the geometry reaches the model."""

from __future__ import annotations

import numpy as np
from PIL import Image

from patchcore_gui.cli import main
from patchcore_gui.core.backbones import DEFAULT_BACKBONE
from patchcore_gui.core.build_cost import TILED_PARTS_BACKBONE
from patchcore_gui.core.model_file import load_model
from patchcore_gui.core.synthetic import good_part


def _wide_parts(folder, count=5):
    folder.mkdir()
    rng = np.random.default_rng(3)
    for i in range(count):
        Image.fromarray(np.concatenate([good_part(rng, 64), good_part(rng, 64)], axis=1)).save(folder / f"{i}.png")
    return folder


def test_estimate_says_the_cost_and_builds_nothing(tmp_path, capsys):
    folder = _wide_parts(tmp_path / "good")
    model = tmp_path / "wide.patchcore"
    assert main(["fit", str(folder), "-o", str(model), "--geometry", "pad", "--size", "128", "--estimate"]) == 0
    out = capsys.readouterr().out
    assert "Aspect kept, longer side 128 px" in out and "memory bank about" in out and "ms per image" in out
    assert "ms per image (timed on this PC" in out  # the network was timed here, not a rough rate (idle or busy)
    # without the network's weights the estimate is still said, at the rough rate (the build says what is missing)
    assert main(["fit", str(folder), "-o", str(model), "--geometry", "pad", "--size", "128", "--estimate",
                 "--weights", str(tmp_path / "gone.pth")]) == 0
    assert "ms per image (rough, for an idle 2-core PC)" in capsys.readouterr().out
    assert not model.exists()
    # automatic: these parts are twice as wide as high, so they are tiled, not squeezed, through the
    # network measured best for tiles; a network chosen by hand stays
    assert main(["fit", str(folder), "-o", str(model), "--estimate"]) == 0
    out = capsys.readouterr().out
    assert "tiles" in out and f"through {TILED_PARTS_BACKBONE} (blocks.4 + blocks.6, a patch every 16 px):" in out
    assert main(["fit", str(folder), "-o", str(model), "--estimate", "--backbone", DEFAULT_BACKBONE]) == 0
    assert f"through {DEFAULT_BACKBONE} (blocks.4 + blocks.6, a patch every 16 px):" in capsys.readouterr().out
    assert main(["fit", str(folder), "-o", str(model), "--estimate", "--geometry", "squeeze"]) == 0
    assert f"through {DEFAULT_BACKBONE} (blocks.2 + blocks.4 + blocks.6, a patch every 8 px):" in capsys.readouterr().out
    # layers given by hand are kept for tiles
    assert main(["fit", str(folder), "-o", str(model), "--estimate", "--layers", "blocks.2,blocks.4"]) == 0
    assert "(blocks.2 + blocks.4, a patch every 8 px)" in capsys.readouterr().out


def test_fit_builds_with_the_chosen_geometry_and_predict_follows_it(tmp_path, capsys):
    folder = _wide_parts(tmp_path / "good")
    model_path = tmp_path / "wide.patchcore"
    assert main(["fit", str(folder), "-o", str(model_path), "--geometry", "tile", "--tile", "64", "--overlap", "32",
                 "--coreset", "0.5"]) == 0
    model = load_model(model_path)
    assert (model.preprocessing.geometry, model.preprocessing.tile, model.preprocessing.overlap) == ("tile", 64, 32)
    capsys.readouterr()
    assert main(["predict", str(model_path), str(folder / "0.png"), "--out", str(tmp_path / "overlays")]) == 0
    assert "0.png" in capsys.readouterr().out
    overlay = Image.open(next((tmp_path / "overlays").iterdir()))
    assert overlay.size[0] >= 128  # drawn on the whole part, not on a squeezed square


def test_the_held_out_parts_join_a_tiled_bank_unless_told_not_to_and_info_says_so(tmp_path, capsys):
    folder = _wide_parts(tmp_path / "good")
    joined, alone = tmp_path / "joined.patchcore", tmp_path / "alone.patchcore"
    tiles = ["--geometry", "tile", "--tile", "64", "--overlap", "32", "--coreset", "0.5"]
    assert main(["fit", str(folder), "-o", str(joined), *tiles]) == 0
    assert main(["fit", str(folder), "-o", str(alone), *tiles, "--no-bank-from-all"]) == 0
    assert "note: 1 held-out good part is too few" in capsys.readouterr().out
    with_them, without = load_model(joined), load_model(alone)
    assert with_them.config.bank_from_all and not without.config.bank_from_all
    assert len(with_them.memory_bank) > len(without.memory_bank)
    assert len(with_them.good_scores) == len(without.good_scores) == 1  # still from the held-out image
    capsys.readouterr()
    assert main(["info", str(joined)]) == 0
    assert "  5 (1 held out to calibrate, also in the bank)\n" in capsys.readouterr().out
    assert main(["info", str(alone)]) == 0
    out = capsys.readouterr().out
    assert "  5 (1 held out to calibrate)\n" in out
    assert "note: 1 held-out good part is too few to set a threshold from" in out


def test_a_geometry_that_cannot_work_is_one_line(tmp_path, capsys):
    folder = _wide_parts(tmp_path / "good", count=2)
    assert main(["fit", str(folder), "-o", str(tmp_path / "m.patchcore"), "--geometry", "tile", "--tile", "100"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: tile side must be a multiple of 32") and err.count("\n") == 1


def test_a_geometry_option_the_build_would_ignore_is_refused_in_one_line(tmp_path, capsys):
    """--size once vanished without a word where the automatic choice cut the parts into tiles."""
    wide = _wide_parts(tmp_path / "wide", count=2)
    square = tmp_path / "square"
    square.mkdir()
    for i in range(2):
        Image.fromarray(good_part(np.random.default_rng(i), 64)).save(square / f"{i}.png")
    model = tmp_path / "m.patchcore"
    refused = [
        ([str(wide), "--size", "128"], "error: --size would be ignored: these parts are seen in tiles"),
        ([str(square), "--tile", "64", "--overlap", "32"],
         "error: --tile and --overlap would be ignored: these parts are squeezed"),
        ([str(square), "--geometry", "pad", "--scale", "0.5"],
         "error: --scale would be ignored: --geometry pad does not use it; give --geometry tile with it"),
    ]
    for arguments, error in refused:
        assert main(["fit", *arguments, "-o", str(model), "--estimate"]) == 2, arguments
        err = capsys.readouterr().err
        assert err.startswith(error) and err.count("\n") == 1, err
    # what each geometry uses is still taken
    assert main(["fit", str(wide), "-o", str(model), "--tile", "64", "--overlap", "32", "--estimate"]) == 0
    assert "64 px tiles overlapping by 32 px" in capsys.readouterr().out
    assert main(["fit", str(square), "-o", str(model), "--size", "96", "--estimate"]) == 0
    assert "96 x 96" in capsys.readouterr().out
    assert not model.exists()
