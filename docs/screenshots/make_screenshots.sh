#!/usr/bin/env bash
# Regenerate the README's screenshots (1280x800) from the built-in sample, offscreen.
#   bash docs/screenshots/make_screenshots.sh        (from the repository root, venv in .venv)
# The sample lives in the user's data folder; a trained run there makes the viewer show predictions
# (the first call trains one with the recipe, about a minute on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/../.."
export QT_QPA_PLATFORM=offscreen
PY=${PY:-.venv/bin/python}
GUI=${GUI:-.venv/bin/carseg-gui}
OUT=docs/screenshots
SAMPLE=$("$PY" -c "
from PySide6.QtWidgets import QApplication
from carseg_gui.qt.app import APPLICATION, ORGANIZATION, user_data_folder
app = QApplication([]); app.setOrganizationName(ORGANIZATION); app.setApplicationName(APPLICATION)
print(user_data_folder() / 'sample')")
"$GUI" --sample --screenshot "$OUT/main-window.png" --tab training   # generates the sample once
if ! ls "$SAMPLE/.carseg/runs"/*/model.keras >/dev/null 2>&1; then
  .venv/bin/carseg train "$SAMPLE"
fi
"$GUI" --sample --screenshot "$OUT/main-window.png" --tab training
"$GUI" --sample --screenshot "$OUT/viewer.png" --tab viewer
"$GUI" --sample --screenshot "$OUT/export.png" --tab export
"$PY" "$OUT/make_editor_screenshot.py"
"$PY" "$OUT/make_training_screenshot.py" "$OUT/training.png"   # a run in progress, on a temporary sample
if ! ls "$SAMPLE/.carseg/refiner_runs"/*/model.keras >/dev/null 2>&1; then
  .venv/bin/carseg train-refiner "$SAMPLE" --epochs 12   # the smart click's refiner, a few minutes
fi
"$PY" "$OUT/make_annotate_screenshots.py" "$SAMPLE" "$OUT"
echo "screenshots written to $OUT"
