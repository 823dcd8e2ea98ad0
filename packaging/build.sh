#!/usr/bin/env bash
# Build the self-contained one-folder bundle dist/carseg-gui/ (Python, Qt, TensorFlow, the app).
#
#   bash packaging/build.sh
#
# Idempotent, and works from a clean clone: it creates the virtual environment if it is missing
# (or reuses it), installs the project (editable, so an existing development venv keeps working)
# and PyInstaller into it, then runs PyInstaller on packaging/carseg-gui.spec.
#
# Environment:
#   VENV=DIR            virtual environment to use or create (default: .venv in the repository)
#   PYTHON=EXE          interpreter that creates it (default: python3; it needs its shared
#                       libpython, e.g. Debian's libpython3.X package, or pyenv built with
#                       PYTHON_CONFIGURE_OPTS=--enable-shared)
#   DISTPATH=DIR        where the bundle goes (default: dist/)
#   WORKPATH=DIR        PyInstaller's work folder (default: build/pyinstaller/)
#   SKIP_INSTALL=1      do not touch the venv (offline rebuilds)
#   CLEAN=1             drop PyInstaller's cache and work folder first
#   CARSEG_BUNDLE_TRIM=0  build without the size trims (see packaging/README.md)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
venv=${VENV:-$root/.venv}
distpath=${DISTPATH:-$root/dist}
workpath=${WORKPATH:-$root/build/pyinstaller}
pyinstaller_req='pyinstaller>=6.11,<7'  # 6.11: the TensorFlow hook's symlink suppression

vpython() { [ -x "$venv/bin/python" ] && echo "$venv/bin/python" || echo "$venv/Scripts/python.exe"; }  # Windows: Git Bash
if [ ! -x "$(vpython)" ]; then
    echo "build.sh: creating $venv"
    "${PYTHON:-python3}" -m venv "$venv"
    "$(vpython)" -m pip install --quiet --upgrade pip
fi
py=$(vpython)

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
    echo "build.sh: installing the project and PyInstaller into $venv"
    if grep -Eq '^bundle *= *\[' "$root/pyproject.toml"; then
        "$py" -m pip install --quiet -e "$root[bundle]"  # the project's own pin of PyInstaller
    else
        "$py" -m pip install --quiet -e "$root" "$pyinstaller_req"
    fi
fi

clean=()
if [ "${CLEAN:-0}" = 1 ]; then
    clean=(--clean)
    rm -rf "$workpath"
fi

start=$(date +%s)
"$py" -m PyInstaller --noconfirm "${clean[@]}" --log-level "${LOG_LEVEL:-WARN}" \
    --distpath "$distpath" --workpath "$workpath" "$root/packaging/carseg-gui.spec"
end=$(date +%s)

bundle="$distpath/carseg-gui"
exe=""
[ -f "$bundle/carseg-gui.exe" ] && exe=.exe
[ -x "$bundle/carseg-gui$exe" ] && [ -x "$bundle/carseg$exe" ] || { echo "build.sh: no executables in $bundle" >&2; exit 1; }
echo "build.sh: built $bundle in $((end - start)) s ($(du -sh "$bundle" | cut -f1))"
echo "build.sh: run $bundle/carseg-gui (desktop app) or $bundle/carseg (command line)"
