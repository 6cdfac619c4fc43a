"""Build netspec's built-in dataset: a class-balanced subset of the real MNIST.

    python scripts/make_builtin_mnist.py ../shared/data/mnist

It ships inside the package (netspec/datasets/mnist_subset.npz) so that
`netspec train specs/mnist_matlab.net` works offline on a fresh machine. The first
600 training images of each digit and the first 100 test images of each digit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from netspec.train.data import read_mnist  # noqa: E402

TRAIN_PER_CLASS, TEST_PER_CLASS = 600, 100


def balanced(images: np.ndarray, labels: np.ndarray, per_class: int) -> tuple[np.ndarray, np.ndarray]:
    keep = np.concatenate([np.flatnonzero(labels == digit)[:per_class] for digit in range(10)])
    keep.sort()
    return images[keep], labels[keep]


def main() -> None:
    source = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "mnist")
    train_x, train_y = balanced(*read_mnist(source, "train"), TRAIN_PER_CLASS)
    test_x, test_y = balanced(*read_mnist(source, "t10k"), TEST_PER_CLASS)
    out = ROOT / "netspec" / "datasets" / "mnist_subset.npz"
    np.savez_compressed(out, train_images=train_x, train_labels=train_y, test_images=test_x, test_labels=test_y)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB): {len(train_y)} train, {len(test_y)} test images")


if __name__ == "__main__":
    main()
