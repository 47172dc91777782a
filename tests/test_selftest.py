import io
from dataclasses import replace
import subprocess
import sys

from patchcore_gui.core import backbones
from patchcore_gui.selftest import run_self_test


def test_self_test_passes_on_a_working_installation():
    out = io.StringIO()
    assert run_self_test(out) == 0
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines[:6]] == [
        "ok   load the default backbone", "ok   build a memory bank", "ok   save and reload the model",
        "ok   inspect a good and a defective part", "ok   inspect in the line's worker processes",
        "ok   record a part in an inspection store"]
    assert lines[-1].startswith("self-test passed")


def test_self_test_says_what_failed_when_the_weights_are_missing(monkeypatch):
    spec = backbones.get_spec(backbones.DEFAULT_BACKBONE)
    monkeypatch.setitem(backbones.BACKBONES, spec.name, replace(spec, find_weights=lambda: None))
    out = io.StringIO()
    assert run_self_test(out) == 1
    assert out.getvalue().startswith("FAIL load the default backbone: WeightsMissingError: no ImageNet weights")


def test_version_and_self_test_flags_need_no_display():
    version = subprocess.run([sys.executable, "-m", "patchcore_gui.gui.app", "--version"], capture_output=True,
                             text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert version.returncode == 0 and version.stdout.startswith("patchcore-gui ")
