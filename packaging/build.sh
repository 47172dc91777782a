#!/usr/bin/env bash
# Build the line-PC package and prove it works: a virtual environment of its own with torch for the
# CPU, PyInstaller over packaging/patchcore.spec, then the built program's checks with no network,
# no Python and an empty home folder.
#
#   bash packaging/build.sh            # reuses build/package-venv when it is there
#   bash packaging/build.sh --fresh    # makes the build environment again first
#
# Result: dist/patchcore-inspector/ (the folder to copy) and dist/patchcore-inspector-VERSION-linux-x86_64.tar.gz.
# Settings (environment): PATCHCORE_TORCH (default torch==2.13.0), PATCHCORE_TORCHVISION (default
# torchvision==0.28.0), PATCHCORE_TORCH_INDEX (a pip index with CPU builds, e.g.
# https://download.pytorch.org/whl/cpu, where the machine's pip does not find one by itself).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=build/package-venv
DIST=dist/patchcore-inspector
TORCH=${PATCHCORE_TORCH:-torch==2.13.0}
TORCHVISION=${PATCHCORE_TORCHVISION:-torchvision==0.28.0}
INDEX_ARGS=()
if [[ -n "${PATCHCORE_TORCH_INDEX:-}" ]]; then INDEX_ARGS=(--index-url "$PATCHCORE_TORCH_INDEX"); fi
step() { echo; echo "== $*"; }
now() { date +%s; }
t0=$(now)
if [[ "${1:-}" == "--fresh" ]]; then rm -rf "$VENV"; fi

step "build environment ($VENV)"
if [[ ! -x "$VENV/bin/pyinstaller" ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet "${INDEX_ARGS[@]}" "$TORCH" "$TORCHVISION"
fi
# the project itself every time (the working tree as it is now), with PyInstaller
"$VENV/bin/python" -m pip install --quiet '.[package]'
if ! "$VENV/bin/python" -c "import sys, torch; sys.exit(1 if torch.version.cuda else 0)"; then
    echo "torch in $VENV is a CUDA build: the package would carry several GB of CUDA libraries that a line" >&2
    echo "PC without a GPU never uses. Set PATCHCORE_TORCH_INDEX to an index with CPU builds, then --fresh." >&2
    exit 1
fi
"$VENV/bin/python" -c "import torch, torchvision; print('torch', torch.__version__, '| torchvision', torchvision.__version__)" 2>/dev/null \
    || "$VENV/bin/python" -c "import torch; print('torch', torch.__version__, '| torchvision without its native ops (see packaging/README.md)')"
t1=$(now)

# the folder carries the X libraries Qt's X11 plugin links (PyInstaller collects what it finds here), so
# this machine must have them all; libxcb, libGL and libEGL stay the line PC's own (README, line PC)
missing=$("$VENV/bin/python" -c "from patchcore_gui.gui.desktop_libraries import install_hint, missing_libraries, xcb_plugin; m = missing_libraries(xcb_plugin()); print(install_hint(m) if m else '')")
if [[ -n "$missing" ]]; then
    echo "this build machine lacks libraries of Qt's X11 plugin, so the package could not carry them: $missing" >&2
    exit 1
fi

step "PyInstaller"
"$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller packaging/patchcore.spec
t2=$(now)

step "checks of the built program (no network, empty home, no Python on PATH)"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
isolate=()
if unshare -n true 2>/dev/null; then isolate=(unshare -n)
elif unshare -rn true 2>/dev/null; then isolate=(unshare -rn)
else echo "(unshare is not available here: the checks run with the network as it is)"
fi
frozen() { env -i PATH=/usr/bin:/bin HOME="$scratch" LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen "${isolate[@]}" "$@"; }
expected=$("$VENV/bin/python" -c "from importlib.metadata import version; print(version('patchcore-inspector'))")
got=$(frozen "$DIST/patchcore-gui" --version)
[[ "$got" == "patchcore-gui $expected" ]] || { echo "--version printed '$got', expected 'patchcore-gui $expected'" >&2; exit 1; }
echo "$got"
# with DISPLAY set, as on a desktop, a library missing for the window fails it (nothing connects to it)
frozen env DISPLAY=:0 "$DIST/patchcore-gui" --self-test
frozen "$DIST/patchcore" --help > /dev/null && echo "patchcore --help: ok"
frozen "$DIST/patchcore" demo --out "$scratch/demo" > "$scratch/demo.log" 2>&1 && echo "patchcore demo: ok ($(ls "$scratch/demo" | wc -l) files)"
# the window starts and keeps running (offscreen) until it is stopped
set +e; frozen timeout 20 "$DIST/patchcore-gui" > "$scratch/gui.log" 2>&1; rc=$?; set -e
[[ $rc == 124 ]] || { echo "the window exited with $rc before 20 s:" >&2; cat "$scratch/gui.log" >&2; exit 1; }
echo "patchcore-gui: window up for 20 s"
# the window on a real X server through Qt's xcb platform, with the folder's X libraries and the system's
if command -v xvfb-run > /dev/null; then
    xvfb-run -a -s "-screen 0 1600x1000x24" "$VENV/bin/python" packaging/x_window_check.py \
        --home "$scratch" --shot build/x11-window.png -- "${isolate[@]}" "$DIST/patchcore-gui"
else
    echo "(xvfb-run is not installed: the window on a real X server is not checked; apt-get install xvfb xauth)"
fi
t3=$(now)

step "archive"
version_file="dist/patchcore-inspector-$expected-linux-$(uname -m).tar.gz"
tar -C dist -cf - patchcore-inspector | gzip -1 > "$version_file"
t4=$(now)

step "summary"
echo "build environment $((t1 - t0)) s, PyInstaller $((t2 - t1)) s, checks $((t3 - t2)) s, archive $((t4 - t3)) s, total $((t4 - t0)) s"
echo "folder  $(du -sh "$DIST" | cut -f1)  ($(find "$DIST" -type f | wc -l) files)  $DIST"
echo "archive $(du -sh "$version_file" | cut -f1)  $version_file"
echo "largest parts:"
du -sh "$DIST"/_internal/* | sort -h | tail -8
