"""Training data: the built-in MNIST subset, MNIST IDX folders and labelled image folders.

Every source becomes uint8 images (N, C, H, W) at the input layer's size and channel
count (the course's `ReadFcn = @(loc)imresize(imread(loc),inputSize)`), plus integer
labels and class names. Pixel values stay 0..255 as MATLAB feeds them; the input
layer's normalization ('zerocenter' by default) does the rest.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..diagnostics import Diagnostic, Severity, error
from ..images import fit_images, read_image

__all__ = ["Dataset", "load_source", "read_mnist", "split_per_label", "IMAGE_SUFFIXES", "BUILTIN",
           "validation_warning"]

BUILTIN = "builtin"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".pgm", ".ppm"}


@dataclass
class Dataset:
    images: np.ndarray  # uint8 (N, C, H, W)
    labels: np.ndarray  # int64 (N,)
    classes: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> "Dataset":
        return Dataset(self.images[index], self.labels[index], self.classes)


def _idx_file(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        path = folder / name
        if path.is_file():
            return path
    raise error("D001", f"{folder} has no {stem}[.gz]",
                hint="an mnist:DIR folder holds train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                     "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (gz or raw)")


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:  # type: ignore[operator]
            data = handle.read()
    except (OSError, EOFError) as exc:
        raise error("D002", f"cannot read {path}: {exc}", hint="the file may be truncated or not gzip") from None
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise error("D002", f"{path} is not an IDX file of unsigned bytes")
    dims = data[3]
    shape = struct.unpack(f">{dims}I", data[4:4 + 4 * dims])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims)
    if body.size != int(np.prod(shape)):
        raise error("D002", f"{path} is truncated: expected {int(np.prod(shape)):,} values, found {body.size:,}")
    return body.reshape(shape)


def read_mnist(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """`split` is 'train' or 't10k'; images (N, 28, 28) uint8, labels (N,) uint8."""
    images = _read_idx(_idx_file(folder, f"{split}-images-idx3-ubyte"))
    labels = _read_idx(_idx_file(folder, f"{split}-labels-idx1-ubyte"))
    if len(images) != len(labels):
        raise error("D003", f"{folder}: {len(images)} {split} images but {len(labels)} labels")
    return images, labels


def _folder(folder: Path, size: tuple[int, int, int]) -> Dataset:
    """imageDatastore(folder, 'IncludeSubfolders', true, 'LabelSource', 'foldernames')."""
    if not folder.is_dir():
        raise error("D006", f"no such data folder: {folder}",
                    hint="--data takes an image folder with one sub-folder per class, mnist:DIR, or builtin")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise error("D007", f"{folder} has no sub-folders: the sub-folder names are the labels",
                    hint=f"put each class's images in its own folder, e.g. {folder}/cat/*.png, {folder}/dog/*.png")
    images, labels = [], []
    for label, name in enumerate(classes):
        files = sorted(p for p in (folder / name).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise error("D008", f"the class folder {folder / name} has no images",
                        hint=f"supported files: {', '.join(sorted(IMAGE_SUFFIXES))}")
        for path in files:
            images.append(read_image(path, size))
            labels.append(label)
    return Dataset(np.stack(images), np.asarray(labels, dtype=np.int64), classes)


def split_per_label(dataset: Dataset, fraction: float, seed: int) -> tuple[Dataset, Dataset]:
    """splitEachLabel(ds, fraction, 'randomized'): the same share of every class goes to training
    (fraction 1 keeps everything for training)."""
    if not 0 < fraction <= 1:
        raise error("D010", f"the training share must be in (0, 1], got {fraction}",
                    hint="--split 0.8 trains on 80% of each class and validates on the rest")
    if fraction == 1:
        return dataset, dataset.subset(np.arange(0))
    rng = np.random.default_rng(seed)
    train_index, val_index = [], []
    for label in range(len(dataset.classes)):
        members = np.flatnonzero(dataset.labels == label)
        rng.shuffle(members)
        cut = int(round(len(members) * fraction))
        cut = min(max(cut, 1), len(members) - 1) if len(members) > 1 else len(members)
        train_index.append(members[:cut])
        val_index.append(members[cut:])
    return (dataset.subset(np.sort(np.concatenate(train_index))),
            dataset.subset(np.sort(np.concatenate(val_index))))


def validation_warning(validation: Dataset, fraction: float) -> Diagnostic | None:
    """A warning when a split meant to hold out validation images leaves a class without one
    (a class of a single image trains on it): validation is then off, or blind to that class."""
    if fraction == 1:
        return None
    counts = np.bincount(validation.labels, minlength=len(validation.classes))
    missing = [name for name, count in zip(validation.classes, counts) if count == 0]
    hint = ("a class gives validation an image only when it has 2 or more; add images, or --split 1 "
            "to train on everything without validation")
    if len(missing) == len(validation.classes):
        return Diagnostic(severity=Severity.warning, code="W301", hint=hint,
                          message=f"--split {fraction} holds out no image: validation is off")
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5:,} more" if len(missing) > 5 else "")
        return Diagnostic(severity=Severity.warning, code="W302", hint=hint,
                          message=f"--split {fraction} holds out no image of {len(missing):,} of "
                                  f"{len(validation.classes):,} classes ({shown}): validation does not see them")
    return None


def _mnist_dataset(images: np.ndarray, labels: np.ndarray, size: tuple[int, int, int]) -> Dataset:
    return Dataset(fit_images(images, size), labels.astype(np.int64), [str(d) for d in range(10)])


def load_source(source: str, size: tuple[int, int, int], *, split: float = 0.8,
                seed: int = 0) -> tuple[Dataset, Dataset, Dataset | None]:
    """(training, validation, test-or-None) for `--data SOURCE`.

    builtin: the MNIST subset shipped with netspec (6,000 train / 1,000 test images);
    mnist:DIR: the IDX files (the t10k files are the test set);
    DIR: an image folder labelled by sub-folder, split per label.
    The validation set is a per-label share of the training data.
    """
    if source == BUILTIN:
        with resources.files("netspec.datasets").joinpath("mnist_subset.npz").open("rb") as handle:
            data = np.load(handle)
            train = _mnist_dataset(data["train_images"], data["train_labels"], size)
            test = _mnist_dataset(data["test_images"], data["test_labels"], size)
    elif source.startswith("mnist:"):
        folder = Path(source[len("mnist:"):]).expanduser()
        if not folder.is_dir():
            raise error("D006", f"no such MNIST folder: {folder}", hint="mnist:DIR names a folder of IDX files")
        train = _mnist_dataset(*read_mnist(folder, "train"), size)
        test = _mnist_dataset(*read_mnist(folder, "t10k"), size)
    else:
        everything = _folder(Path(source).expanduser(), size)
        train, test = everything, None
    training, validation = split_per_label(train, split, seed)
    return training, validation, test
