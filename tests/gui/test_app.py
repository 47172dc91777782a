"""The entry point answers --version without starting Qt."""

from patchcore_gui.gui.app import main, parse_args


def test_version_is_printed_without_a_window(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip().startswith("patchcore-gui ")


def test_model_and_images_are_positional():
    args = parse_args(["line3.patchcore", "a.png", "folder"])
    assert args.inputs == ["line3.patchcore", "a.png", "folder"] and not args.self_test
