"""The PyInstaller spec and build script agree with the code, without building (packaging/build.sh builds).

The spec is read as text (PyInstaller is not a test dependency): its literal lists are evaluated,
the files it names must exist, the weights it collects must be where the engine looks, and the
program must import with every module the spec excludes made unimportable.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict

import pytest

from patchcore_gui.core import backbones
from patchcore_gui.core.build_cost import TILED_PARTS_BACKBONE

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
SPEC_TEXT = (PACKAGING / "patchcore.spec").read_text(encoding="utf-8")


def spec_constants() -> Dict[str, Any]:
    """The spec's top-level assignments of plain literals (EXCLUDES, WEIGHTS_PACKAGES, ...)."""
    constants: Dict[str, Any] = {}
    for node in ast.parse(SPEC_TEXT).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return constants


SPEC = spec_constants()


def test_files_the_spec_names_exist():
    named = re.findall(r'PACKAGING / "([^"]+)"', SPEC_TEXT)
    named += [f"../resources/{name}" for name in re.findall(r'"resources" / "([^"]+)"', SPEC_TEXT)]
    assert {"entry_gui.py", "entry_cli.py", "rthook_torchvision_ops.py", "../resources/patchcore.ico"} <= set(named)
    for name in named:
        assert (PACKAGING / name).is_file(), name
    assert (ROOT / "resources" / "patchcore.png").is_file()  # the window icon, collected with resources/


@pytest.mark.parametrize("backbone", [backbones.DEFAULT_BACKBONE, TILED_PARTS_BACKBONE])
def test_the_automatic_backbones_weights_are_collected_where_the_engine_looks(backbone):
    packages = SPEC["WEIGHTS_PACKAGES"]
    found = backbones.get_spec(backbone).find_weights()
    assert found is not None
    # the spec collects PACKAGE/models/*.pth; the engine looks in PACKAGE/models beside PACKAGE/__init__
    assert 'collect_data_files(package, includes=["models/*.pth"])' in SPEC_TEXT
    owner = [p for p in packages if Path(importlib.import_module(p).__file__).parent / "models" == found.parent]
    assert owner, f"{found} is in none of {packages}"
    assert found.match("models/*.pth")


def test_hidden_imports_import():
    for name in SPEC["WEIGHTS_PACKAGES"] + ["faiss", "patchcore_gui.gui.app", "patchcore_gui.cli",
                                           "patchcore_gui.selftest"]:
        importlib.import_module(name)
    for name in re.findall(r'hiddenimports \+= \[([^\]]+)\]', SPEC_TEXT)[0].split(","):
        importlib.import_module(ast.literal_eval(name.strip()))


def test_the_program_imports_without_the_modules_the_spec_excludes(tmp_path):
    """What the frozen program can import, simulated: every excluded module raises ModuleNotFoundError."""
    excludes = SPEC["EXCLUDES"]
    assert {"tkinter", "matplotlib", "scipy", "sklearn", "IPython"} <= set(excludes)
    script = textwrap.dedent(f"""
        import importlib.abc, sys
        EXCLUDES = {excludes!r}
        class Hide:  # a finder that does not find excluded modules, as the frozen importer does not
            def __init__(self, finder):
                self.finder = finder
            def find_spec(self, name, path=None, target=None):
                if any(name == x or name.startswith(x + ".") for x in EXCLUDES):
                    return None
                return self.finder.find_spec(name, path, target)
            def __getattr__(self, attribute):
                return getattr(self.finder, attribute)
        sys.meta_path[:] = [Hide(finder) for finder in sys.meta_path]
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        import pyqtgraph
        from patchcore_gui.gui.main_window import MainWindow
        import patchcore_gui.cli, patchcore_gui.selftest, torchvision
        from patchcore_gui.core.backbones import DEFAULT_BACKBONE, load_backbone
        load_backbone(DEFAULT_BACKBONE)
        window = MainWindow()
        window.close()
        leaked = sorted(m for m in sys.modules if any(m == x or m.startswith(x + ".") for x in EXCLUDES))
        assert not leaked, leaked
        print("imported", len(sys.modules), "modules")
    """)
    # a home of its own: the window it makes opens settings and an inspection record, never the user's
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / ".config"),
               XDG_DATA_HOME=str(tmp_path / ".local" / "share"))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "imported" in done.stdout


def test_the_runtime_hook_declares_only_the_ops_torchvision_registers_unconditionally():
    hook = (PACKAGING / "rthook_torchvision_ops.py").read_text(encoding="utf-8")
    declared = set(re.findall(r'"(\w+)\(Tensor dets', hook))
    assert declared == {"nms", "qnms"}
    meta = Path(importlib.util.find_spec("torchvision").origin).parent / "_meta_registrations.py"
    if meta.is_file():  # torchvision's own list, where this torchvision has the file
        unconditional = set(re.findall(r'register_fake\("torchvision::(\w+)"\)', meta.read_text(encoding="utf-8")))
        assert unconditional <= declared


def test_build_script_and_extra_are_consistent():
    script = (PACKAGING / "build.sh").read_text(encoding="utf-8")
    assert "packaging/patchcore.spec" in script
    assert "'.[package]'" in script
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert any(req.lower().startswith("pyinstaller") for req in extras["package"])
    assert "--self-test" in script and "--version" in script
    # torch and torchvision are installed as a pair that belongs together
    torch = re.search(r"torch==(\d+)\.(\d+)", script)
    vision = re.search(r"torchvision==0\.(\d+)", script)
    assert torch and vision and int(vision.group(1)) == int(torch.group(2)) + 15, "torch 2.N pairs with torchvision 0.(N+15)"


@pytest.mark.skipif(sys.platform == "win32", reason="bash")
def test_build_script_is_valid_bash():
    assert subprocess.run(["bash", "-n", str(PACKAGING / "build.sh")]).returncode == 0
