"""Export's CSV is real CSV, a killed export's temp files are cleaned up, and big photos read quietly."""

import csv
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from carseg_gui.core.export import export_masks
from carseg_gui.core.preprocess import preprocess
from carseg_gui.core.project import RunInfo
from carseg_gui.core.rle import rle_decode
from tests.datasets import BlobModel, make_carvana


def test_names_with_commas_and_quotes_are_quoted(tmp_path: Path) -> None:
    data = make_carvana(tmp_path / "data", cars=1, views=1, test=1)
    odd = data / "test" / 'a,b "c"_01.jpg'
    (data / "test" / "testcar000ab_01.jpg").rename(odd)
    cache = preprocess(data, tmp_path / "project", size=32)
    run = RunInfo("r1", tmp_path / "r1", "finished", {"size": 32}, {})
    sub = tmp_path / "sub.csv"
    export_masks(cache, run, BlobModel(), tmp_path / "out", "test", None, sub)
    with open(sub, newline="") as f:
        (header, row) = list(csv.reader(f))
    assert header == ["img", "rle_mask"] and row[0] == odd.name
    h, w = cv2.imread(str(odd)).shape[:2]
    assert rle_decode(row[1], (h, w)).sum() > 0


def test_a_killed_exports_temp_files_go_on_the_next_run(tmp_path: Path) -> None:
    data = make_carvana(tmp_path / "data", cars=1, views=1, test=1)
    cache = preprocess(data, tmp_path / "project", size=32)
    out = tmp_path / "out"
    out.mkdir()
    left = [out / ".testcar000ab_01.png.k2j4h_x9.tmp", tmp_path / ".sub.csv.8a7sd6f5.tmp"]
    for p in left:
        p.write_bytes(b"\0" * 1000)
    mine = out / ".my notes.tmp"  # not a name this export writes: left alone
    mine.write_text("keep")
    run = RunInfo("r1", tmp_path / "r1", "finished", {"size": 32}, {})
    export_masks(cache, run, BlobModel(), out, "test", "png", tmp_path / "sub.csv")
    assert not any(p.exists() for p in left) and mine.exists()


def test_no_decompression_bomb_warning_on_the_terminal(tmp_path: Path) -> None:
    photo = tmp_path / "big.png"
    cv2.imwrite(str(photo), np.zeros((200, 300, 3), np.uint8))
    code = (
        "import sys, PIL.Image as I\n"
        "from carseg_gui.core.imageio import read_image, image_size\n"
        "I.MAX_IMAGE_PIXELS = 40000  # 60000 px is over it, under twice it: Pillow warns\n"
        "print(image_size(sys.argv[1]), read_image(sys.argv[1])[0].shape)\n"
    )
    r = subprocess.run([sys.executable, "-c", code, str(photo)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "(200, 300)" in r.stdout, r.stderr
    assert "DecompressionBomb" not in r.stderr
