"""The headless commands: ``patchcore fit | predict | evaluate | info | demo | roi | teach | watch | log | threshold | defect-size``, thin over the engine.

Exit status: 0 when every image was read, 1 when some could not be (each named on stderr),
2 when the command could not run at all (bad arguments, unreadable model, missing weights).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import List, Optional, Sequence, TextIO, Tuple

from tqdm import tqdm

from .core.atomic import atomic_write_bytes, atomic_write_text, refuse_unwritable_folder
from .core.backbones import BACKBONES, DEFAULT_BACKBONE, FeatureBackbone, load_backbone
from .core.build_cost import (TILED_PARTS_BACKBONE, TILED_PARTS_CORESET, TILED_PARTS_LAYERS, estimate_build_cost,
                              geometry_changes, image_sizes, options_not_applying, resolved_config, time_this_pc,
                              with_automatic_choices)
from .core.config import PatchCoreConfig
from .core.csv_style import add_excel_option, csv_style_of
from .core.geometry import GEOMETRIES, LARGEST_SQUEEZED_SIDE, SUGGESTED_TILE
from .core.errors import PatchCoreError, WeightsMissingError
from .core.evaluate import evaluate, training_images
from .core.images import find_images, good_part_images, read_image
from .core.likeness import LikenessCheck
from .core.memory_bank import SEARCH_KINDS
from .core.model_file import MODEL_SUFFIX, load_model, save_model
from .core.model_facts import model_facts
from .core.regions import defect_size_text, min_area_px
from .core.overlay import encode_png, inspection_overlay, overlay_targets
from .core.patchcore import HELD_OUT_STAGE, Inspector, fit
from .core.results import ResultRow, ResultsSource, inspection_time, write_results_csv
from .core.synthetic import write_synthetic_set
from .roi_command import add_fit_option, add_roi_command, mask_for
from .core.likeness import describe_good_parts
from .line.watch_command import add_watch_command
from .record.log_command import PartTimer, add_log_command, add_store_options, close_recorder, recorder_for
from .program import main  # noqa: F401  (the tests' entry)
from .program import add_model_argument, command_parser, print_error, run_as_program
from .threshold_command import add_threshold_command
from .teach_command import add_teach_command


class TerminalProgress:
    """The engine's progress as a tqdm bar per stage on stderr, drawn only when stderr is a terminal.

    On a file or a pipe (a batch's log, CI) tqdm draws nothing, so the log holds results and errors
    only. Errors written while a bar is up go through :func:`print_error`, which keeps the bar intact.
    """

    def __init__(self, stream: Optional[TextIO] = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        self._bar: Optional[tqdm] = None
        self._stage = ""

    def __call__(self, done: int, total: int, stage: str) -> None:
        if self._bar is None or stage != self._stage:
            self.close()
            self._stage = stage
            # disable=None: tqdm turns itself off when the stream is not a terminal
            self._bar = tqdm(total=total, desc=stage, file=self.stream, disable=None, dynamic_ncols=True)
        self._bar.total = total
        self._bar.n = done
        self._bar.refresh()
        if done >= total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _config_from(args: argparse.Namespace, good_sizes: Sequence[Tuple[int, int]] = ()) -> PatchCoreConfig:
    """The options as a config; ``--geometry auto`` picks the geometry from the good images' sizes."""
    changes = {"backbone": args.backbone or DEFAULT_BACKBONE}
    if args.layers:
        changes["layers"] = tuple(args.layers.split(","))
    config = PatchCoreConfig().with_changes(**changes)
    automatic = args.geometry == "auto"
    config = resolved_config(config, good_sizes if automatic else (), automatic)
    if args.search:
        config = config.with_changes(search=args.search)
    geometry = None if automatic else args.geometry
    _refuse_options_not_applying(config.geometry if automatic else args.geometry, automatic, args)
    config = config.with_changes(**geometry_changes(geometry, args.size, args.scale, args.tile, args.overlap))
    # layers given are kept
    return with_automatic_choices(config, backbone_chosen=args.backbone is not None, bank_from_all=args.bank_from_all,
                                  coreset=args.coreset)


def _refuse_options_not_applying(geometry: str, automatic: bool, args: argparse.Namespace) -> None:
    """A geometry option the build would ignore is refused, not dropped: the person meant something by it."""
    ignored = options_not_applying(geometry, {"size": args.size, "scale": args.scale, "tile": args.tile,
                                              "overlap": args.overlap})
    if not ignored:
        return
    named = " and ".join(f"--{name}" for name in ignored)
    if automatic:
        seen = ("seen in tiles, the automatic choice for good parts over "
                f"{LARGEST_SQUEEZED_SIDE} px or not square" if geometry == "tile"
                else f"squeezed, the automatic choice for square good parts up to {LARGEST_SQUEEZED_SIDE} px")
        where = f"these parts are {seen}"
    else:
        where = f"--geometry {geometry} does not use {'it' if len(ignored) == 1 else 'them'}"
    wanted = ("--geometry squeeze or pad with --size, or set the tiles with --tile, --overlap and --scale"
              if geometry == "tile" else "--geometry tile with " + ("it" if len(ignored) == 1 else "them"))
    raise PatchCoreError(f"{named} would be ignored: {where}; give {wanted}")


def _network_and_cost(config: PatchCoreConfig, good: Sequence[Path], sizes: Sequence[Tuple[int, int]],
                      weights: Optional[str]) -> Optional[FeatureBackbone]:
    """Say what the build will cost, before it starts (stdout: it is the command's answer to --estimate), its
    time timed on this PC, and give the network it loaded to time it, for the build to use (loaded once). Without
    the network's weights: the rough rate, and None (the build itself then says what is missing)."""
    try:
        backbone: Optional[FeatureBackbone] = load_backbone(config.backbone, config.layers,
                                                            None if weights is None else Path(weights))
    except WeightsMissingError:
        backbone = None
    speed = None if backbone is None else time_this_pc(config, backbone=backbone)
    print(estimate_build_cost(config, sizes, len(good), speed=speed).text(), flush=True)
    return backbone


def _good_images(folder: Path) -> List[Path]:
    images, problems = good_part_images(folder)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    return images


def cmd_fit(args: argparse.Namespace) -> int:
    images = _good_images(Path(args.good_dir))
    defect_size = _defect_size_from(args)  # refused before the fit, not after it
    roi = mask_for(args.roi, describe_good_parts(images)) if args.roi else None  # a bad mask before the long fit
    sizes = image_sizes(images)
    config = _config_from(args, sizes)
    backbone = _network_and_cost(config, images, sizes, args.weights)
    if args.estimate:
        return 0
    result = fit(images, config, weights=args.weights, progress=TerminalProgress(), backbone=backbone,
                 good_folder=str(Path(args.good_dir).resolve()), roi=roi)
    for line in result.skipped:
        print(f"skipped: {line}", file=sys.stderr)
    model = result.model.with_defect_size(*defect_size) if defect_size else result.model
    path = save_model(model, args.output)
    joined = result.seconds.get(HELD_OUT_STAGE)
    print(f"saved {path}: {model.n_good_images} good images, bank {len(model.memory_bank)} of {model.n_patches} "
          f"patches, threshold {model.threshold:.4f} (from {len(model.good_scores)} held-out good images); "
          f"features {result.seconds['features']:.1f} s, coreset {result.seconds['coreset']:.1f} s"
          f"{'' if joined is None else f' + {joined:.1f} s for the held-out images'}; "
          f"search {model.search.describe()}" + (f"; {defect_size_text(model)}" if defect_size else ""))
    if model.threshold_caution:
        print(f"note: {model.threshold_caution}")
    prep = model.preprocessing
    if prep.sample_bits < 16:
        print(f"the good parts' 16-bit files hold {prep.sample_bits}-bit samples: every part is read with "
              f"{prep.white_sample} as white")
    if model.roi is not None:
        print(f"region of interest from '{args.roi.name}': {100 * model.roi.share:.0f}% of the part inspected")
    return 1 if result.skipped else 0


def _defect_size_from(args: argparse.Namespace) -> Optional[Tuple[float, Optional[float]]]:
    """``(min area in pixels, pixel size in mm or None)`` from ``--min-area``/``--min-area-mm2``/``--pixel-size``,
    or None when none is given. An area in mm² needs the pixel size."""
    if args.min_area is None and args.min_area_mm2 is None and args.pixel_size is None:
        return None
    if args.min_area is not None and args.min_area_mm2 is not None:
        raise PatchCoreError("give the minimum defect area once: --min-area (pixels) or --min-area-mm2")
    if args.min_area_mm2 is not None:
        if args.pixel_size is None:
            raise PatchCoreError("--min-area-mm2 needs --pixel-size (millimetres per pixel)")
        return min_area_px(args.min_area_mm2, args.pixel_size), args.pixel_size
    return (args.min_area if args.min_area is not None else 0.0), args.pixel_size


def _add_defect_size_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--min-area", type=float, metavar="PIXELS",
                        help="minimum defect area in image pixels: a part whose every defect region is smaller is OK "
                             "(default 0: every region counts)")
    parser.add_argument("--min-area-mm2", type=float, metavar="MM2", help="the minimum defect area in mm² "
                        "(needs --pixel-size)")
    parser.add_argument("--pixel-size", type=float, metavar="MM",
                        help="millimetres per image pixel, so areas also read in mm²")


def cmd_defect_size(args: argparse.Namespace) -> int:
    """Set (or, without options, show) a model's minimum defect area, in place and without a rebuild."""
    model = load_model(args.model)
    defect_size = _defect_size_from(args)
    if defect_size is not None:
        pixel_size = defect_size[1] if args.pixel_size is not None else model.pixel_size_mm
        model = model.with_defect_size(defect_size[0], pixel_size)
        save_model(model, args.model)
    print(f"{Path(args.model).name}: {defect_size_text(model)}" + (" (saved)" if defect_size is not None else ""))
    return 0


def _refuse_outputs_it_cannot_write(overlays: Optional[Path], csv: Optional[Path]) -> None:
    """Said before a long batch, not after it (the table) or at every image (the overlays)."""
    if csv is not None and csv.is_dir():
        raise PatchCoreError(f"--csv {csv} is a folder: name the table's file")
    for what, folder in (("overlays", overlays), ("table", None if csv is None else csv.parent)):
        if folder is not None:
            refuse_unwritable_folder(folder, what)


def cmd_predict(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    out = Path(args.out) if args.out else None
    _refuse_outputs_it_cannot_write(out, Path(args.csv) if args.csv else None)
    images, problems = find_images(args.inputs)
    inspector = Inspector(model, weights=args.weights)
    review = model.review_from
    rows: List[ResultRow] = [ResultRow(str(problem.path), None, model.threshold, problem, inspection_time(), review)
                             for problem in problems]
    for problem in problems:
        print_error(str(problem))
    progress = TerminalProgress() if len(images) > 1 else None
    targets = dict(zip(images, overlay_targets(images)))
    likeness = LikenessCheck(model)
    overlays_failed = False
    recorder = recorder_for(args, args.model, model.threshold,  # --log: a result it cannot record stops the batch
                            review_from=model.review_from, min_defect_area=model.min_defect_area)
    # the same files given again (a batch run twice) are the same inspections: the record counts each part once
    recorded_before = 0
    for problem in problems if recorder else ():
        recorded_before += recorder.record(problem.path, None, error=str(problem), alike_again=False) is None
    part_ms = PartTimer()
    for result in inspector.inspect_paths(images, progress=progress):
        regions = result.inspection.defect_regions(model).regions if result.inspection else None
        if recorder:
            recorded_before += recorder.record(
                result.path, result.inspection.score if result.inspection else None, error=result.error,
                inspection_ms=part_ms(), regions=regions, alike_again=False) is None
        if result.inspection is None or regions is None:
            rows.append(ResultRow(str(result.path), None, model.threshold, result.error or "", inspection_time(), review))
            print_error(str(result.error))
            continue
        row = ResultRow.inspected(str(result.path), result.inspection.score, model, regions, inspection_time())
        rows.append(row)
        tqdm.write(row.line())  # like print, but clears the progress bar first when both go to one terminal
        likeness.add_file(result.path, result.inspection.patch_scores)
        if out is not None:
            try:  # the file is read again: it may have gone since, or the disk may be full
                target = targets[result.path]
                pixels = read_image(result.path, model.preprocessing.sample_bits)
                overlay = inspection_overlay(pixels, result.inspection, model, part=target.part)
                atomic_write_bytes(out / target.file, encode_png(overlay))
            except PatchCoreError as exc:
                overlays_failed = True
                print_error(f"no overlay for '{result.path.name}': {exc}")
    close_recorder(recorder)
    if recorded_before:
        print(f"{recorded_before:,} of {len(rows):,} part{'' if len(rows) == 1 else 's'} "
              f"{'was' if recorded_before == 1 else 'were'} recorded at this station before, with this model, threshold, "
              "verdict and score: not recorded again", file=sys.stderr)
    if args.csv:
        write_results_csv(args.csv, rows, ResultsSource.of(model, args.model), csv_style_of(args))
    warning = likeness.warning()
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return 1 if overlays_failed or any(row.score is None for row in rows) or not rows else 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    defect_size = _defect_size_from(args)
    train = training_images(Path(args.category_dir))  # a folder not in the layout is said before any estimate
    sizes = image_sizes(train)
    config = _config_from(args, sizes)
    backbone = _network_and_cost(config, train, sizes, args.weights)
    report = evaluate(args.category_dir, config, weights=args.weights, progress=TerminalProgress(),
                      min_defect_area=defect_size[0] if defect_size else 0.0, backbone=backbone).report
    for line in report.skipped:
        print(f"skipped: {line}", file=sys.stderr)
    fmt = lambda value: "n/a" if value is None else f"{value:.4f}"  # noqa: E731
    print(f"{report.category}: image AUROC {fmt(report.image_auroc)}  pixel AUROC {fmt(report.pixel_auroc)}  "
          f"AUPRO {fmt(report.aupro)}")
    print(f"  fit {report.fit_seconds:.1f} s ({report.n_train} good images, bank {report.bank_size}), "
          f"inspect {report.predict_ms_per_image:.1f} ms/image ({report.n_test} test images)")
    print(f"  search {report.search}")
    if report.min_defect_area > 0:
        print(f"  minimum defect area {report.min_defect_area:g} px: verdicts judge the largest defect region")
    print(f"  default threshold {report.threshold:.4f}: accuracy {report.default_threshold_accuracy:.3f}, "
          f"false rejects {report.false_reject_rate:.1%} of good parts, misses {report.miss_rate:.1%} of defective "
          f"parts; F1-optimal threshold {report.f1_threshold:.4f} (F1 {report.f1:.3f})")
    for defect, value in report.per_defect_auroc.items():
        pixel = report.per_defect_pixel_auroc.get(defect)
        print(f"  {defect}: image AUROC {value:.4f}" + ("" if pixel is None else f", pixel AUROC {pixel:.4f}"))
    if args.json:
        atomic_write_text(args.json, json.dumps(report.to_dict(), indent=2))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    facts = model_facts(model, decimals=4)
    width = max(len(name) for name in facts)
    print(args.model)
    for name, value in facts.items():
        print(f"  {name.lower():<{width}}  {value}")
    if model.threshold_caution:
        print(f"  note: {model.threshold_caution}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    started = time.perf_counter()
    print(f"writing synthetic parts to {out / 'data'}")
    data = write_synthetic_set(out / "data", seed=args.seed)
    evaluation = evaluate(data.root, PatchCoreConfig(), progress=TerminalProgress())
    report, model = evaluation.report, evaluation.model
    model_path = save_model(model, out / f"demo{MODEL_SUFFIX}")
    lines = ["# PatchCore Inspector demo", "",
             f"Synthetic parts: {len(data.train_good)} good for training, {len(data.test_good)} good and "
             f"{len(data.test_defective)} defective for testing.", "",
             f"Image AUROC {report.image_auroc:.3f}, pixel AUROC {report.pixel_auroc:.3f}, AUPRO {report.aupro:.3f}.",
             f"Model: `{model_path.name}`, threshold {model.threshold:.4f} (learned from good parts only).", "",
             "| image | score | verdict | overlay |", "|---|---|---|---|"]
    correct = 0
    for item, inspection in evaluation.inspected:
        verdict = inspection.verdict(model)
        expected = "NG" if item.anomalous else "OK"
        correct += verdict == expected
        overlay = inspection_overlay(read_image(item.path, model.preprocessing.sample_bits), inspection, model,
                                     part=f"{item.defect}/{item.path.name}")
        name = f"{item.defect}_{item.path.stem}.png"
        atomic_write_bytes(out / "overlays" / name, encode_png(overlay))
        lines.append(f"| {item.defect}/{item.path.name} | {inspection.score:.4f} | {verdict} (expected {expected}) | "
                     f"![](overlays/{name}) |")
    total = len(evaluation.inspected)
    lines += ["", f"{correct} of {total} verdicts as expected with the default threshold."]
    atomic_write_text(out / "report.md", "\n".join(lines) + "\n")
    print(f"image AUROC {report.image_auroc:.3f}, pixel AUROC {report.pixel_auroc:.3f}; {correct}/{total} verdicts "
          f"as expected; report {out / 'report.md'}, model {model_path} ({time.perf_counter() - started:.0f} s)")
    return 0


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    defaults = PatchCoreConfig()
    parser.add_argument("--backbone", choices=sorted(BACKBONES),
                        help=f"feature extractor (default {DEFAULT_BACKBONE}; {TILED_PARTS_BACKBONE} for parts seen "
                             f"in tiles)")
    parser.add_argument("--weights", type=Path, help="backbone weights file (for wide_resnet50_2 without a cache)")
    parser.add_argument("--coreset", type=float,
                        help=f"share of patches kept in the memory bank (default {defaults.coreset_ratio}; "
                             f"{TILED_PARTS_CORESET} for parts seen in tiles)")
    parser.add_argument("--layers", help="comma-separated backbone layers (default: the backbone's, for EfficientNet-Lite "
                                         f"strides 8, 16 and 32; {','.join(TILED_PARTS_LAYERS)} for parts seen in tiles)")
    parser.add_argument("--size", type=int, help=f"network input size in pixels: the square's side with "
                        f"--geometry squeeze, the longer side with pad (default {defaults.resize}); refused for "
                        f"parts seen in tiles, whose size is --tile's")
    parser.add_argument("--geometry", default="auto", choices=("auto",) + GEOMETRIES,
                        help="how images meet the network: squeeze (whole image to a square, aspect lost), pad "
                             "(aspect kept, padded square), tile (aspect kept, near its own resolution, cut into "
                             "overlapping tiles); auto (default): squeeze for square good parts up to "
                             f"{LARGEST_SQUEEZED_SIDE} px, tile otherwise")
    parser.add_argument("--tile", type=int, help=f"tile side in pixels with --geometry tile (a multiple of 32; "
                        f"automatic choice {SUGGESTED_TILE['tile']})")
    parser.add_argument("--overlap", type=int, help=f"tile overlap in pixels (automatic choice {SUGGESTED_TILE['overlap']})")
    parser.add_argument("--scale", type=float, help=f"image scale before tiling (automatic choice "
                        f"{SUGGESTED_TILE['scale']}; 1.0: the image's own resolution, finer outlines, slower)")
    parser.add_argument("--search", choices=SEARCH_KINDS,
                        help=f"nearest-neighbour search of the bank (default {defaults.search}); ivf is approximate: "
                             f"faster on large banks, may miss a patch's true nearest neighbour")
    parser.add_argument("--bank-from-all", action=argparse.BooleanOptionalAction, default=None,
                        help="whether the good images held out to learn the threshold also join the bank "
                             "(default: for parts seen in tiles; each half of them is scored for the threshold "
                             "against the bank holding the other half)")


def build_parser() -> argparse.ArgumentParser:
    parser, sub = command_parser()

    p = sub.add_parser("fit", help="build a model from a folder of good parts")
    p.add_argument("good_dir", help="folder of images of good parts (subfolders too)")
    p.add_argument("-o", "--output", required=True, help=f"model file to write (e.g. line3{MODEL_SUFFIX})")
    _add_model_options(p)
    _add_defect_size_options(p)
    add_fit_option(p)
    p.add_argument("--estimate", action="store_true", help="say what the build would cost (bank, memory, time "
                   "per image) and stop")
    p.set_defaults(run=cmd_fit)

    p = sub.add_parser("predict", help="inspect images with a model")
    add_model_argument(p)
    p.add_argument("inputs", nargs="+", metavar="IMAGE_OR_DIR", help="images, or folders of them, to inspect")
    p.add_argument("--out", help="folder for heatmap overlays")
    p.add_argument("--csv", help="write the results as CSV")
    add_excel_option(p)
    p.add_argument("--weights", type=Path, help="backbone weights file, if not where the model found it")
    add_store_options(p)
    p.set_defaults(run=cmd_predict)

    p = sub.add_parser("evaluate", help="fit on CATEGORY/train/good, measure on CATEGORY/test (MVTec layout)")
    p.add_argument("category_dir", help="a folder in the MVTec AD layout: train/good, test/KIND, ground_truth/KIND")
    p.add_argument("--json", help="write the measurements as JSON")
    _add_model_options(p)
    _add_defect_size_options(p)
    p.set_defaults(run=cmd_evaluate)

    p = sub.add_parser("defect-size", help="set a model's minimum defect area (no rebuild); without options, show it",
                       description="A part whose every defect region is smaller than the minimum defect area is OK. "
                                   "The model file is rewritten in place (atomically).")
    add_model_argument(p)
    _add_defect_size_options(p)
    p.set_defaults(run=cmd_defect_size)
    p = sub.add_parser("info", help="say what a model file holds and how it searches its bank")
    add_model_argument(p)
    p.set_defaults(run=cmd_info)

    p = sub.add_parser("demo", help="make synthetic parts, fit, inspect and write a report (no data needed)")
    p.add_argument("--out", default="patchcore-demo", help="output folder (default ./patchcore-demo)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=cmd_demo)

    add_watch_command(sub)
    add_roi_command(sub)
    add_log_command(sub)
    add_threshold_command(sub)
    add_teach_command(sub)
    return parser


if __name__ == "__main__":
    run_as_program()
