"""training-progress.png and confusion.png (matplotlib, no display needed)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..files import write_atomically

__all__ = ["training_progress", "confusion_matrix", "confusion_figure"]


LABELLED_CLASSES = 30
"""Up to this many classes the confusion figure names each class and writes each count; beyond,
it stays a readable size and shows the shading alone."""


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, out: Path) -> None:
    """Atomically, in the format of out's suffix (PNG without one)."""
    try:
        write_atomically(out, lambda stream: figure.savefig(stream, format=out.suffix.lstrip(".").lower() or "png",
                                                            dpi=110))
    finally:
        _pyplot().close(figure)


def training_progress(metrics_csv: Path, out: Path) -> None:
    """MATLAB's training-progress plot: accuracy and loss per iteration, validation as points."""
    with metrics_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return
    plt = _pyplot()
    iterations = np.array([int(r["iteration"]) for r in rows])
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True)

    def series(key: str) -> tuple[np.ndarray, np.ndarray]:
        keep = [i for i, r in enumerate(rows) if r.get(key) not in ("", None)]
        return iterations[keep], np.array([float(rows[i][key]) for i in keep])

    def smooth(values: np.ndarray, factor: float = 0.9) -> np.ndarray:
        """Exponential moving average with bias correction (no edge artefacts)."""
        out, average = np.empty_like(values), 0.0
        for i, value in enumerate(values):
            average = factor * average + (1 - factor) * value
            out[i] = average / (1 - factor ** (i + 1))
        return out

    for axis, key, val_key, label in ((top, "accuracy", "val_accuracy", "accuracy (%)"),
                                      (bottom, "loss", "val_loss", "loss")):
        x, y = series(key)
        if len(x):
            axis.plot(x, y, color="#9ecae1", linewidth=0.8, label="training")
            axis.plot(x, smooth(y), color="#2171b5", linewidth=1.6, label="training (smoothed)")
        vx, vy = series(val_key)
        if len(vx):
            axis.plot(vx, vy, "k--o", markersize=3, linewidth=1, label="validation")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
        if axis.lines:  # regression has no accuracy: an empty panel needs no legend
            axis.legend(loc="best", fontsize=8)
    bottom.set_xlabel("iteration")
    figure.suptitle("Training progress")
    figure.tight_layout()
    _save(figure, out)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def confusion_figure(matrix: np.ndarray, names: list[str], out: Path, title: str) -> None:
    """plotconfusion's layout: counts per cell, row-normalized shading, accuracy in the title."""
    plt = _pyplot()
    labelled = len(names) <= LABELLED_CLASSES
    size = max(4.0, 0.5 * min(len(names), LABELLED_CLASSES) + 2)
    figure, axis = plt.subplots(figsize=(size, size))
    rows = matrix.sum(axis=1, keepdims=True).clip(min=1)
    axis.imshow(matrix / rows, cmap="Blues", vmin=0, vmax=1)
    if labelled:
        for i in range(len(names)):
            for j in range(len(names)):
                if matrix[i, j]:
                    color = "white" if matrix[i, j] / rows[i, 0] > 0.5 else "black"
                    axis.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8, color=color)
        axis.set_xticks(range(len(names)), names, rotation=45 if max(map(len, names)) > 3 else 0)
        axis.set_yticks(range(len(names)), names)
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    axis.set_title(f"{title} — accuracy {100 * accuracy:.2f}%")
    figure.tight_layout()
    _save(figure, out)
