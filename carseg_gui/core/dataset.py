"""Find the images and masks of a dataset folder, pair them, and list what is wrong.

Two layouts are read:

* Carvana: ``train/*.jpg`` with ``train_masks/<stem>_mask.gif`` and optional ``test/*.jpg``
  (``train_images/`` + ``train_masks/`` + ``test_images/`` is accepted too);
* generic: ``images/`` + ``masks/`` paired by stem, masks optionally named ``<stem>_mask.*``.

Scanning looks at names and headers only; decoding happens in preprocessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .imageio import IMAGE_EXTENSIONS
from .jobs import InputError

# Carvana file names are <12 hex chars of car id>_<two-digit view>.
_CARVANA_NAME = re.compile(r"^(?P<car>[0-9a-zA-Z]+)_(?P<view>\d{2})$")
_LAYOUTS: dict[str, list[tuple[str, str, str | None]]] = {
    "carvana": [("train", "train_masks", "test"), ("train_images", "train_masks", "test_images")],
    "generic": [("images", "masks", None)],
}


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{Path(self.path).name}: {self.reason}"


@dataclass(frozen=True)
class Record:
    """One image of the dataset: ``key`` is its path relative to the dataset root (unique, stable)."""

    key: str
    image: Path
    mask: Path | None
    split: str  # "train" (labelled) or "test" (unlabelled)
    car: str | None = None
    view: str | None = None

    @property
    def stem(self) -> str:
        return self.image.stem

    @property
    def labelled(self) -> bool:
        return self.mask is not None


@dataclass
class Dataset:
    root: Path
    layout: str
    records: list[Record]
    problems: list[Problem] = field(default_factory=list)

    @property
    def labelled(self) -> list[Record]:
        return [r for r in self.records if r.labelled]

    @property
    def unlabelled(self) -> list[Record]:
        return [r for r in self.records if not r.labelled]

    def summary(self) -> str:
        return (
            f"{self.layout} layout: {len(self.labelled)} labelled, {len(self.unlabelled)} unlabelled, "
            f"{len(self.problems)} problem(s)"
        )


def _find_layout(root: Path) -> tuple[str, Path, Path | None, Path | None]:
    for layout, candidates in _LAYOUTS.items():
        for images, masks, test in candidates:
            if (root / images).is_dir():
                mask_dir = root / masks if (root / masks).is_dir() else None
                test_dir = root / test if test and (root / test).is_dir() else None
                return layout, root / images, mask_dir, test_dir
    raise InputError(f"{root}: no dataset found (expected train/ + train_masks/ [+ test/], or images/ + masks/)")


def require_dataset(root: Path) -> None:
    """InputError unless ``root`` is a folder in a layout this app reads: checked before anything is written
    for it (the project folder, a lock), so a mistyped path or a folder of other files is left untouched."""
    root = Path(root)
    if not root.exists():
        raise InputError(f"{root}: no such folder")
    if not root.is_dir():
        raise InputError(f"{root}: not a folder")
    _find_layout(root)


def _is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _mask_stem(path: Path) -> str:
    stem = path.stem
    return stem[: -len("_mask")] if stem.endswith("_mask") else stem


def scan(root: Path) -> Dataset:
    """Pair images with masks. Raises InputError only when there is no dataset at all.

    Paths are absolute (the root is resolved): the cache keeps them, and a command run later from
    another working folder must read the same files, not fail or find another folder's."""
    root = Path(root).resolve()
    require_dataset(root)
    layout, image_dir, mask_dir, test_dir = _find_layout(root)
    problems: list[Problem] = []

    masks: dict[str, Path] = {}
    if mask_dir is not None:
        for path in _files(mask_dir):
            if not _is_image_name(path):
                problems.append(Problem(str(path), "not an image file (ignored)"))
                continue
            stem = _mask_stem(path)
            if stem in masks:
                problems.append(Problem(str(path), f"second mask for {stem} (kept {masks[stem].name})"))
                continue
            masks[stem] = path

    records: list[Record] = []
    for folder, split in ((image_dir, "train"), (test_dir, "test")):
        if folder is None:
            continue
        for path in _files(folder):
            if not _is_image_name(path):
                problems.append(Problem(str(path), "not an image file (ignored)"))
                continue
            mask = masks.pop(path.stem, None) if split == "train" else None
            if split == "train" and mask is None:
                problems.append(Problem(str(path), "no mask found; treated as unlabelled"))
            records.append(_record(root, path, mask, "train" if mask is not None else "test"))

    for stem, path in masks.items():
        problems.append(Problem(str(path), f"mask without an image (no {stem}.* in {image_dir.name}/)"))
    if not records:
        raise InputError(f"{root}: no images found in {image_dir.relative_to(root)}/")
    return Dataset(root=root, layout=layout, records=records, problems=problems)


def _record(root: Path, image: Path, mask: Path | None, split: str) -> Record:
    match = _CARVANA_NAME.match(image.stem)
    car, view = (match["car"], match["view"]) if match else (None, None)
    return Record(key=str(image.relative_to(root)), image=image, mask=mask, split=split, car=car, view=view)
