#!/usr/bin/env bash
# Build the bundle and check that it works without the project's virtual environment.
#
#   bash packaging/smoke-test.sh             # build (packaging/build.sh), then test
#   bash packaging/smoke-test.sh --no-build  # test the bundle already in $DISTPATH (default dist/)
#
# Checks, each with its wall time:
#   1. carseg-gui --version and carseg --version; carseg-gui with no arguments keeps running
#   2. carseg-gui --screenshot FILE --sample, offscreen, twice: the first run generates the sample
#      and preprocesses it, the second only starts and shows it (the start-up time). The PNG must be
#      valid, about 1280x800 and not blank (packaging/check_png.py).
#   3. TensorFlow inside the bundle: carseg sample (32 images), carseg train --epochs 1 --size 32,
#      the same with --preset best --xla on (BatchNorm, augmentation, XLA's JIT), carseg predict
#      (masks written), then carseg-gui on the trained dataset, whose viewer loads the run's model
#      in the GUI executable.
# The bundle runs with a scrubbed environment (env -i, a fresh HOME). Where mount namespaces are
# available (root, or unprivileged user namespaces), the venv and the Python installation it was
# built from are also hidden behind empty folders, so a stray dependency on them fails the test.
# KEEP=1 keeps the work folder (screenshots, sample, run) for a look.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-$root/.venv}
bundle=${DISTPATH:-$root/dist}/carseg-gui

if [ "${1:-}" != "--no-build" ]; then
    bash "$root/packaging/build.sh"
fi
[ -x "$bundle/carseg-gui" ] || { echo "smoke-test: no bundle at $bundle (build it first)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/carseg-smoke.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
    echo "smoke-test: work folder $work (kept)"
else
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/home"

# A Python for the PNG check (outside the bundle): the venv's, else any python3.
checkpy=python3
[ -x "$venv/bin/python" ] && checkpy="$venv/bin/python"

# Folders to hide from the bundle: the venv and the interpreter installation behind it.
hide=()
if [ -d "$venv" ]; then
    hide+=("$(cd "$venv" && pwd -P)")
    base=$("$venv/bin/python" -c 'import sys; print(sys.base_prefix)' 2>/dev/null || true)
    [ -n "$base" ] && [ -d "$base" ] && [ "$base" != / ] && [ "$base" != /usr ] && hide+=("$(cd "$base" && pwd -P)")
fi
isolate=()
if [ "${#hide[@]}" -gt 0 ] && [ "${NO_ISOLATE:-0}" != 1 ]; then
    if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
        isolate=(unshare -m)
    elif unshare -rm true 2>/dev/null; then
        isolate=(unshare -rm)
    fi
fi
if [ "${#isolate[@]}" -gt 0 ]; then
    echo "smoke-test: hiding ${hide[*]} from the bundle"
else
    echo "smoke-test: no mount namespace here: the bundle runs with a scrubbed environment only"
fi

# run CMD...: the bundle in a clean environment (and namespace); the screen is offscreen.
run() {
    local mounts=""
    for d in "${hide[@]}"; do mounts+="mount -t tmpfs -o size=1m,mode=755 none '$d' && "; done
    local envs=(env -i "PATH=/usr/bin:/bin" "HOME=$work/home" "LANG=C.UTF-8" "QT_QPA_PLATFORM=offscreen"
        "TMPDIR=$work" "XDG_RUNTIME_DIR=$work")
    if [ "${#isolate[@]}" -gt 0 ]; then
        "${isolate[@]}" sh -c "${mounts}exec \"\$@\"" sh "${envs[@]}" "$@"
    else
        "${envs[@]}" "$@"
    fi
}

# step NAME CMD...: run, time, and stop at the first failure.
step() {
    local name=$1 t0 t1 rc=0
    shift
    t0=$(date +%s.%N)
    run "$@" >"$work/$name.log" 2>&1 || rc=$?
    t1=$(date +%s.%N)
    awk -v n="$name" -v a="$t0" -v b="$t1" -v rc="$rc" 'BEGIN { printf "smoke-test: %-16s %6.2f s  rc=%d\n", n, b - a, rc }'
    if [ "$rc" != 0 ]; then
        echo "smoke-test: FAILED: $name ($*)" >&2
        tail -n 30 "$work/$name.log" >&2
        exit 1
    fi
}

step version-gui "$bundle/carseg-gui" --version
step version-cli "$bundle/carseg" --version
grep -q "carseg-gui " "$work/version-gui.log" && grep -q "carseg " "$work/version-cli.log"

# No arguments: the desktop app starts and keeps running (until timeout stops it).
t0=$(date +%s.%N)
rc=0
timeout 8 bash -c "$(declare -f run); $(declare -p work hide isolate); run \"\$@\"" run "$bundle/carseg-gui" \
    >"$work/no-args.log" 2>&1 || rc=$?
if [ "$rc" != 124 ] || grep -q "Traceback" "$work/no-args.log"; then
    echo "smoke-test: FAILED: carseg-gui with no arguments exited (rc=$rc) instead of showing its window" >&2
    tail -n 30 "$work/no-args.log" >&2
    exit 1
fi
echo "smoke-test: no-args           still running after 8 s (stopped)"

step screenshot-1st "$bundle/carseg-gui" --screenshot "$work/first.png" --sample
"$checkpy" "$root/packaging/check_png.py" "$work/first.png"
step screenshot-2nd "$bundle/carseg-gui" --screenshot "$work/second.png" --sample
"$checkpy" "$root/packaging/check_png.py" "$work/second.png"

step cli-sample "$bundle/carseg" sample "$work/data" --count 32
step cli-train "$bundle/carseg" train "$work/data" --epochs 1 --size 32
grep -E "^epoch 1/1 " "$work/cli-train.log"
ls "$work"/data/.carseg/runs/*/ >/dev/null
# The other training path: BatchNorm, augmentation, Dice loss, and XLA's JIT (which must still
# find its runtime symbols in the stripped libtensorflow_cc).
step cli-train-xla "$bundle/carseg" train "$work/data" --epochs 1 --size 32 --preset best --xla on
if grep -h "AutoGraph could not transform" "$work"/cli-train*.log; then
    echo "smoke-test: FAILED: AutoGraph cannot read the app's source in the bundle" >&2
    exit 1
fi
step cli-predict "$bundle/carseg" predict "$work/data" --out "$work/masks"
n=$(find "$work/masks" -name '*.png' | wc -l)
[ "$n" -gt 0 ] || { echo "smoke-test: FAILED: carseg predict wrote no masks" >&2; exit 1; }
echo "smoke-test: carseg predict wrote $n masks"
step screenshot-run "$bundle/carseg-gui" "$work/data" --tab viewer --screenshot "$work/trained.png"
"$checkpy" "$root/packaging/check_png.py" "$work/trained.png"

echo "smoke-test: passed ($(du -sh "$bundle" | cut -f1) in $bundle)"
