"""``patchcore threshold``: set by false-reject rate or by score, the review band, and what they rest on."""

import csv

import numpy as np
import pytest

from patchcore_gui.cli import main
from patchcore_gui.core.calibration import threshold_for_reject_rate
from patchcore_gui.core.model_file import load_model, save_model


@pytest.fixture
def model_file(fitted, tmp_path):
    return save_model(fitted.model, tmp_path / "parts.patchcore")


def test_plain_command_says_the_threshold_and_what_it_rests_on(model_file, fitted, capsys):
    assert main(["threshold", str(model_file)]) == 0
    out = capsys.readouterr().out
    n = len(fitted.model.good_scores)
    assert f"threshold {fitted.model.threshold:.4f}" in out and f"learned from {n} held-out good parts" in out
    assert "review band: none" in out and "1 in  1,000: threshold" in out and "(extrapolated)" in out


def test_reject_at_most_sets_the_engine_threshold_and_says_it_extrapolates(model_file, fitted, tmp_path, capsys):
    target = tmp_path / "strict.patchcore"
    assert main(["threshold", str(model_file), "--reject-at-most", "1/1000", "-o", str(target)]) == 0
    out = capsys.readouterr().out
    expected = threshold_for_reject_rate(fitted.model.good_scores, 0.001).threshold
    assert load_model(target).threshold == pytest.approx(expected)
    assert load_model(model_file).threshold == fitted.model.threshold  # -o: the original stays
    assert "Extrapolated: 1 in 1,000 is rarer than 1 in the" in out and f"saved {target}" in out


def test_a_review_band_from_a_rate_then_predict_gives_review_verdicts_and_csv(model_file, fitted, synthetic_set,
                                                                              tmp_path, capsys):
    scores = np.sort(np.asarray(fitted.model.good_scores))
    assert main(["threshold", str(model_file), "--set", str(float(scores[-1]) * 2), "--review-from",
                 str(float(scores[0]))]) == 0  # everything good above the best held-out part is REVIEW
    model = load_model(model_file)
    assert model.review_from == pytest.approx(float(scores[0]))
    capsys.readouterr()
    table = tmp_path / "results.csv"
    assert main(["predict", str(model_file), *map(str, synthetic_set.test_good), "--csv", str(table)]) == 0
    verdicts = [line.split("\t")[3] for line in capsys.readouterr().out.strip().splitlines()]
    assert "REVIEW" in verdicts and "NG" not in verdicts
    rows = list(csv.DictReader(table.open()))
    assert [r["verdict"] for r in rows] == verdicts and {r["review_from"] for r in rows} == {f"{scores[0]:.6f}"}

    assert main(["threshold", str(model_file), "--review-from", "1/2"]) == 0  # a rate: half of good parts
    assert load_model(model_file).review_from == pytest.approx(
        threshold_for_reject_rate(model.good_scores, 0.5).threshold)
    assert main(["threshold", str(model_file), "--no-review"]) == 0
    assert load_model(model_file).review_from is None


def test_bad_rates_and_a_band_above_the_threshold_are_one_line(model_file, fitted, capsys):
    with pytest.raises(SystemExit):
        main(["threshold", str(model_file), "--reject-at-most", "1/0"])
    assert "is not a rate" in capsys.readouterr().err
    assert main(["threshold", str(model_file), "--review-from", str(fitted.model.threshold + 1)]) == 2
    assert "at or below the threshold" in capsys.readouterr().err
    assert main(["threshold", str(model_file), "--review-from", "soon"]) == 2
    assert "neither a score nor a rate" in capsys.readouterr().err
