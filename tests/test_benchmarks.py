"""Every benchmark script still runs: each once, on small synthetic parts, with the smallest settings it takes.

No number is checked here (speed goals are the benchmarks' own business, docs/benchmarks.md); what is
checked is that a script starts, reaches its answer and exits 0. Scripts broke unseen when the engine
under them changed (bench_window_line.py called bench_line.py's model helper with one argument after it
took two; bench_batch_memory.py waited for progress lines the CLI no longer prints on a pipe).
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List, Sequence, Tuple

import numpy as np
import pytest

from patchcore_gui.core.model_file import save_model

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def model(fitted, tmp_path_factory) -> Path:
    return save_model(fitted.model, tmp_path_factory.mktemp("bench") / "parts.patchcore")


def run(script: str, arguments: Sequence[object], expected: str, timeout: float = 180) -> str:
    """Run ``benchmarks/script`` with ``arguments``; its stdout, once it exited 0 and printed ``expected``."""
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="2")
    command: List[str] = [sys.executable, str(BENCHMARKS / script), *map(str, arguments)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment,
                          cwd=BENCHMARKS.parent)
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stderr[-3000:]}"
    assert expected in done.stdout, f"{script} did not print {expected!r}:\n{done.stdout[-3000:]}"
    return done.stdout


Run = Tuple[str, Sequence[object], str]


def run_two_at_a_time(*runs: Run) -> None:
    """Scripts that need nothing from each other, two at once: most of each one's time is starting Python and
    torch, and they took 4 minutes of the suite one after another."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        for finished in [pool.submit(run, *one) for one in runs]:
            finished.result()


def test_the_inspection_benchmarks_run(model, synthetic_set):
    parts, test_images = synthetic_set.root, str(synthetic_set.root / "test" / "*" / "*.png")
    run_two_at_a_time(
        ("profile_inspection.py", [model, test_images, "--count", 5], "one image"),
        ("bench_build_estimate.py", [model, parts, "--every", 1, "--others", 1], "| parts.patchcore |"),
        ("bench_search.py", [model, test_images, "--count", 4, "--batch", 2], "clustered"),
        ("pixel_auroc_breakdown.py", [model, parts], "of defect pixels"),
        ("bench_side_by_side.py", ["--model", model, "--data", parts, "--count", 4], "two processes:"))


def test_the_line_benchmarks_run(model, synthetic_set, tmp_path):
    parts = synthetic_set.root
    run_two_at_a_time(
        ("bench_line.py", ["--data", parts, "--model", model, "--rates", 4, "--seconds", 2], "| 4 | 2, 1 |"),
        ("bench_window_line.py", ["--data", parts, "--model", model, "--rate", 4, "--seconds", 2, "--drain", 30],
         "inspected_by_end_of_writing"),
        ("bench_line_memory.py", ["--model", model], "given inspector: ready"),
        ("bench_record.py", ["--adds", 20, "--parts", 500, "--no-postgresql", "--folder", tmp_path / "record"],
         "5 parts decided"))


def test_the_build_benchmarks_run(synthetic_set, tmp_path):
    parts = synthetic_set.root
    features = tmp_path / "features.npy"
    np.save(features, np.random.default_rng(0).standard_normal((3000, 64), dtype=np.float32))
    run_two_at_a_time(
        ("sweep_settings.py", [parts, '{"coreset_ratio": 0.25}'], '"image_auroc"'),
        ("bench_fit_estimate.py", [parts / "train" / "good"], f"| {parts / 'train' / 'good'} | "),
        ("bench_geometry.py", [parts, "--variant", "squeeze", "{}", "--cache", tmp_path / "geometry"], "squeeze"),
        ("bench_min_area.py", [parts, "--cache", tmp_path / "regions", "--areas", 0, 50], "| 50 |"),
        ("bench_teaching.py", [parts, "--teach", 1, "--cache", tmp_path / "teach"], "all patches"),
        ("bench_threshold.py", ["--data", parts, "--cache", tmp_path / "threshold", "--sizes", 5, "--draws", 20,
                                "--rates", 10, "--fractions", 0.3], "fit, fraction 0.3"),
        ("bench_fit_memory.py", ["--counts", 10, "--work", tmp_path / "fit"], "10 good images: peak RSS"),
        ("bench_batch_memory.py", ["--count", 20, "--side", 64, "--size", 64, "--work", tmp_path / "batch"],
         "cli: RSS"),
        ("bench_coreset.py", [features, "--plain-centres", 20], "indices equal (the first 20): True"))
    # on bench_geometry.py's cache of the variant's features
    run("bench_bank_from_all.py", [parts, "squeeze", "{}", "--cache", tmp_path / "geometry"], "held-out good scores")


def test_the_benchmarks_on_cached_features_run(model, synthetic_set, tmp_path):
    parts, cache = synthetic_set.root, tmp_path / "index"
    run("index_cache.py", [parts, cache], "train")
    features = cache / f"{parts.name}_224"
    run_two_at_a_time(
        ("bench_roi.py", [parts, cache, "--margins", "0,16"], "still NG"),
        ("bench_index.py", ["growth", features, "--sizes", 2000, "--queries", 2, "--hnsw-max", 2000,
                            "--flat-max", 2000], '"searches"'),
        ("bench_index.py", ["accuracy", features, "--probes", 0.05], "bank of all good images"),
        ("bench_index.py", ["model", model, str(parts / "test" / "*" / "*.png"), "--every", 2], '"recall"'),
        ("bench_teaching_caution.py", [model, parts, "--per-kind", 2], "| cautioned (in use: over 1.5x"))


def test_every_benchmark_script_is_run_here():
    """A new script gets its run above, or is named here with why not."""
    helpers = {"timing.py", "isolated.py"}  # imported by the scripts, run through them
    # on the real data sets only (its categories are fixed), a run of minutes: its parts are the ones above
    real_data_only = {"bench_patchcore.py"}
    source = Path(__file__).read_text()
    scripts = {path.name for path in BENCHMARKS.glob("*.py")}
    missing = sorted(name for name in scripts - helpers - real_data_only if f'"{name}"' not in source)
    assert not missing, f"benchmark scripts no test runs: {missing}"
