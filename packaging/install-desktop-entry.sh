#!/usr/bin/env sh
# Install the carseg-gui launcher and icon for the current user (Linux desktops following XDG).
# Superseded by `carseg-gui --install-desktop-entry` (and --uninstall-desktop-entry), which this
# script calls when carseg-gui is on PATH; the copy below is kept for a checkout without it.
set -eu
if command -v carseg-gui >/dev/null && carseg-gui --help 2>/dev/null | grep -q -- --install-desktop-entry; then
    exec carseg-gui --install-desktop-entry
fi
here=$(cd "$(dirname "$0")" && pwd)
resources="$here/../resources"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
for size in 16 24 32 48 64 128 256; do
    dir="$data/icons/hicolor/${size}x${size}/apps"
    mkdir -p "$dir"
    cp "$resources/carseg-gui-$size.png" "$dir/carseg-gui.png"
done
mkdir -p "$data/icons/hicolor/scalable/apps" "$data/applications"
cp "$resources/carseg-gui.svg" "$data/icons/hicolor/scalable/apps/carseg-gui.svg"
exe=$(command -v carseg-gui || true)
if [ -n "$exe" ]; then
    # An absolute path, so the launcher works even when the venv's bin/ is not on the desktop's PATH.
    sed -e "s|^Exec=carseg-gui|Exec=$exe|" -e "s|^TryExec=carseg-gui|TryExec=$exe|" \
        "$here/carseg-gui.desktop" > "$data/applications/carseg-gui.desktop"
else
    echo "carseg-gui is not on PATH: the launcher will look for it there when started" >&2
    cp "$here/carseg-gui.desktop" "$data/applications/carseg-gui.desktop"
fi
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q "$data/icons/hicolor" 2>/dev/null || true
echo "installed: $data/applications/carseg-gui.desktop"
