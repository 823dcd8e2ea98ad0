"""File names that are not valid UTF-8 (old Windows shares, camera cards): read, never a crash.

Python holds such a name as a surrogate escape (the byte 0xE9 becomes ``\\udce9``); OpenCV's binding
segfaults on it, so these run in a fresh interpreter, where a crash is a return code, not a dead test run.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.datasets import make_carvana

LATIN1 = os.fsdecode(b"caf\xe9")  # 'caf\udce9'

CODE = """
import sys, json
from pathlib import Path
import numpy as np
from carseg_gui.core.preprocess import preprocess
cache = preprocess(Path(sys.argv[1]), Path(sys.argv[2]), size=32)
keys = [r["key"] for r in cache.rows]
i = keys.index(sys.argv[3])
j = keys.index("train/car000abcdef_01.jpg")  # the same bytes under an ASCII name
np.save(sys.argv[4], np.asarray(cache.images()[[i, j]]))
print(json.dumps({"labelled": cache.rows[i]["labelled"], "problems": cache.problems}))
"""


@pytest.fixture
def data(tmp_path: Path) -> Path:
    if sys.platform != "linux":
        pytest.skip("only Linux file systems keep names that are not UTF-8")
    root = make_carvana(tmp_path / "data", cars=2, views=2, test=1)
    stem = "car000abcdef_01"
    shutil.copy(root / "train" / f"{stem}.jpg", root / "train" / f"{LATIN1}_01.jpg")
    shutil.copy(root / "train_masks" / f"{stem}_mask.gif", root / "train_masks" / f"{LATIN1}_01_mask.gif")
    return root


def test_non_utf8_names_are_preprocessed_not_a_segfault(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "row.npy"
    key = os.fsencode(f"train/{LATIN1}_01.jpg")
    r = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", CODE, data, tmp_path / "p", key, out],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert '"labelled": true' in r.stdout
    rows = np.load(out)
    assert rows[0].std() > 10 and np.array_equal(rows[0], rows[1])
