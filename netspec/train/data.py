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

from ..diagnostics import error

__all__ = ["Dataset", "load_source", "read_mnist", "fit_images", "split_per_label", "IMAGE_SUFFIXES",
           "BUILTIN", "read_image"]

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


def read_image(path: Path) -> np.ndarray:
    """An image file as uint8 (H, W, C)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            array = np.asarray(image.convert("RGB" if image.mode not in ("L", "I;16", "I", "F") else "L"))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise error("D004", f"cannot read image {path}: {exc}",
                    hint="remove the file, or convert it to PNG or JPEG") from None
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    return array[:, :, None] if array.ndim == 2 else array


def fit_images(images: np.ndarray, size: tuple[int, int, int]) -> np.ndarray:
    """(N, H, W[, C]) uint8 -> (N, C, h, w) at the input layer's size: resize, then gray <-> RGB."""
    from PIL import Image

    height, width, channels = size
    if images.ndim == 3:
        images = images[:, :, :, None]
    out = np.empty((len(images), channels, height, width), dtype=np.uint8)
    for i, image in enumerate(images):
        if image.shape[:2] != (height, width):
            mode = "L" if image.shape[2] == 1 else "RGB"
            resized = Image.fromarray(image[:, :, 0] if mode == "L" else image, mode).resize(
                (width, height), Image.BILINEAR)
            image = np.asarray(resized)
            image = image[:, :, None] if image.ndim == 2 else image
        if image.shape[2] != channels:
            if channels == 1:
                image = np.round(image[:, :, :3] @ np.array([0.2989, 0.5870, 0.1140]))[:, :, None].astype(np.uint8)
            elif image.shape[2] == 1:
                image = np.repeat(image, channels, axis=2)
            else:
                raise error("D005", f"cannot convert {image.shape[2]}-channel images to {channels} channels")
        out[i] = image.transpose(2, 0, 1)
    return out


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
            images.append(fit_images(read_image(path)[None], size)[0])
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
