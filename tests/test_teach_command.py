"""``patchcore teach``: run in-process through ``main`` as a script would call it."""

import pytest

from patchcore_gui.cli import main
from patchcore_gui.core.model_file import load_model, save_model
from patchcore_gui.core.patchcore import Inspector
from patchcore_gui.core.teaching import FAR_ABOVE_THRESHOLD


@pytest.fixture(scope="module")
def rejected_good(fitted, backbone, synthetic_set):
    """Two parts the model rejects, which a person says are good."""
    inspector = Inspector(fitted.model, backbone=backbone)
    paths = [r.path for r in inspector.inspect_paths(synthetic_set.test_defective)
             if r.inspection.score > fitted.model.threshold]
    return paths[:2]


@pytest.fixture
def model_file(fitted, tmp_path):
    return save_model(fitted.model, tmp_path / "line3.patchcore")


def test_teach_adds_prints_per_image_and_saves_in_place(model_file, rejected_good, fitted, capsys):
    assert main(["teach", str(model_file), str(rejected_good[0])]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{rejected_good[0].name}: added ") and " of 784 patches; score " in out[0]
    before, after = (float(x) for x in out[0].split("score ")[1].split(" (")[0].split(" -> "))
    assert before > fitted.model.threshold >= after
    assert out[1].startswith(f"saved {model_file}: 1 teaching(s)")
    model = load_model(model_file)
    assert [t.file for t in model.teachings] == [rejected_good[0].name]
    assert len(model.bank_vectors()) > len(model.memory_bank)


def test_a_bad_image_is_one_line_and_the_rest_are_taught(model_file, rejected_good, tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG broken")
    assert main(["teach", str(model_file), str(bad), str(rejected_good[0])]) == 1
    captured = capsys.readouterr()
    errors = [line for line in captured.err.strip().splitlines() if not line.startswith("warning: ")]
    assert len(errors) == 1 and errors[0].startswith("error: ") and "bad.png" in errors[0]
    assert [t.file for t in load_model(model_file).teachings] == [rejected_good[0].name]


def test_a_part_far_above_the_threshold_is_taught_with_a_caution_and_its_undo(model_file, rejected_good, fitted,
                                                                             capsys):
    """The wrong file named (a defective part): taught as asked, and said, with the command that undoes it."""
    assert main(["teach", str(model_file), str(rejected_good[0])]) == 0
    assert main(["teach", str(model_file), str(rejected_good[1])]) == 0
    captured = capsys.readouterr()
    scores = [float(line.split("score ")[1].split(" -> ")[0]) for line in captured.out.splitlines() if " -> " in line]
    assert all(score > FAR_ABOVE_THRESHOLD * fitted.model.threshold for score in scores)  # the synthetic defects
    cautions = captured.err.strip().splitlines()
    ratio = scores[1] / fitted.model.threshold
    assert len(cautions) == 2 and cautions[1].startswith(f"warning: {rejected_good[1].name} scored {ratio:.1f}x the "
                                                         f"threshold, and ")
    assert cautions[1].endswith(f"undo its teaching (patchcore teach {model_file} --undo 2)")


def test_list_and_undo_give_back_the_fitted_bank(model_file, rejected_good, fitted, tmp_path, capsys):
    assert main(["teach", str(model_file), str(rejected_good[0])]) == 0
    assert main(["teach", str(model_file), str(rejected_good[1])]) == 0
    capsys.readouterr()
    assert main(["teach", str(model_file), "--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[0] for line in listed] == ["1", "2"]
    assert listed[0].split("  ")[2] == rejected_good[0].name and listed[1].endswith(" patches")
    assert main(["teach", str(model_file), "--undo", "1"]) == 0
    assert capsys.readouterr().out.startswith(f"undid teaching 1: {rejected_good[0].name} (")
    assert [t.file for t in load_model(model_file).teachings] == [rejected_good[1].name]
    assert main(["teach", str(model_file), "--undo"]) == 0
    model = load_model(model_file)
    assert model.teachings == () and model.bank_vectors().tobytes() == fitted.model.memory_bank.tobytes()
    assert main(["teach", str(model_file), "--undo"]) == 2
    assert capsys.readouterr().err.strip() == "error: the model has no teachings to undo"
    assert main(["teach", str(model_file), "--list"]) == 0
    assert capsys.readouterr().out.strip() == "line3.patchcore: no teachings"


def test_output_elsewhere_leaves_the_model_alone_and_mixing_is_refused(model_file, rejected_good, tmp_path, capsys):
    original = model_file.read_bytes()
    taught = tmp_path / "taught.patchcore"
    assert main(["teach", str(model_file), str(rejected_good[0]), "-o", str(taught)]) == 0
    assert model_file.read_bytes() == original and len(load_model(taught).teachings) == 1
    assert main(["teach", str(model_file), str(rejected_good[0]), "--list"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["teach", str(tmp_path / "missing.patchcore"), str(rejected_good[0])]) == 2
    assert "missing.patchcore" in capsys.readouterr().err
