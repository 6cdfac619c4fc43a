"""`netspec predict model.onnx FILE...` with onnxruntime: no torch on this path.

The model's input says what it reads: a batch of images (N×C×H×W), or of sequences (N×C×T)
from CSV files (one sequence each) and time-series archive `.ts` files (one a line)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..diagnostics import error

__all__ = ["predict_onnx"]

CLASSES_KEY = "netspec.classes"
MIN_LENGTH_KEY = "netspec.min_length"
"""A sequence network's metadata: the fewest time steps it takes (sequenceInputLayer's MinLength)."""
REEXPORT = "export the model again: `netspec export SPEC --weights RUN -o MODEL.onnx`"


def predict_onnx(model: Path, files: list[Path]) -> list[dict[str, Any]]:
    """One row per image or sequence (per time step, for a network that classifies each step)."""
    import onnx
    import onnxruntime

    if not model.is_file():
        raise error("P001", f"no such model: {model}")
    try:
        proto = onnx.load(str(model), load_external_data=False)
        session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnx and onnxruntime raise their own types for a bad file
        raise error("P002", f"{model} is not a loadable ONNX model: {exc}") from None
    metadata = {entry.key: entry.value for entry in proto.metadata_props}
    classes = _classes(model, metadata)
    feed = session.get_inputs()[0]
    if len(feed.shape) == 3:
        shortest = metadata.get(MIN_LENGTH_KEY, "")
        names, scores = _score_sequences(model, session, files, int(shortest) if shortest.isdigit() else 1)
    else:
        names, scores = _score_images(model, session, files)
    if classes is not None and len(classes) != scores.shape[1]:
        raise error("P004", f"{model}: the '{CLASSES_KEY}' metadata names {len(classes)} "
                            f"class{'es' if len(classes) != 1 else ''}, but the model scores {scores.shape[1]}",
                    hint=REEXPORT)
    if not np.allclose(scores.sum(axis=1), 1.0, atol=1e-3) or (scores < 0).any():
        exponent = np.exp(scores - scores.max(axis=1, keepdims=True))
        scores = exponent / exponent.sum(axis=1, keepdims=True)
    results = []
    for name, row in zip(names, scores):
        index = int(row.argmax())
        results.append({"image": name, "class": classes[index] if classes else str(index),
                        "probability": float(row[index])})
    return results


def _score_images(model: Path, session, images: list[Path]) -> tuple[list[str], np.ndarray]:
    """The images' names and scores, (images, classes), in one batch."""
    from ..images import read_image

    feed = session.get_inputs()[0]
    dims = feed.shape
    if len(dims) != 4 or not all(isinstance(d, int) for d in dims[1:]):
        raise error("P003", f"{model} takes neither images nor sequences (its input is {dims})")
    channels, height, width = dims[1:]
    batch = np.stack([read_image(path, (height, width, channels)) for path in images])
    scores = session.run(None, {feed.name: batch.astype(np.float32)})[0].reshape(len(images), -1)
    return [str(path) for path in images], scores


def _score_sequences(model: Path, session, files: list[Path], min_length: int) -> tuple[list[str], np.ndarray]:
    """The sequences' names and scores, (rows, classes): each sequence runs alone, at its own
    length (so no padding changes what a recurrent layer sees); a network that classifies every
    time step gives a row per step, named `origin@step` (from 1, as MATLAB counts). Sequences
    shorter than the network's MinLength are refused, as in MATLAB."""
    from ..datasets.sequences import check_sequences, read_sequence_files

    feed = session.get_inputs()[0]
    channels, length = feed.shape[1:]
    produced = session.get_outputs()[0].shape
    per_step = len(produced) == 3 and produced[2] != 1  # (N, classes, T), not a pooled (N, classes, 1)
    dataset = read_sequence_files(files)
    check_sequences(dataset, channels, min_length, what="the model takes")
    names: list[str] = []
    scores: list[np.ndarray] = []
    for sequence, origin in zip(dataset.sequences, dataset.origins):
        if isinstance(length, int) and len(sequence) != length:
            raise error("P005", f"{model} takes sequences of exactly {length} time steps (it was exported at a "
                                f"fixed length); {origin} has {len(sequence)}",
                        hint="export the spec without a fixed sequence length, or give sequences of that length")
        try:
            output = session.run(None, {feed.name: sequence.T[None].astype(np.float32)})[0][0]
        except Exception as exc:  # onnxruntime's own types: a sequence too short for a layer's window
            raise error("P005", f"{model} cannot take {origin} ({len(sequence)} time steps): {exc}",
                        hint="a convolution or pooling without padding needs sequences of its window or "
                             "longer") from None
        if per_step:
            names += [f"{origin}@{step}" for step in range(1, output.shape[1] + 1)]
            scores.append(output.T)
        else:
            names.append(origin)
            scores.append(output.reshape(1, -1))
    return names, np.concatenate(scores)


def _classes(model: Path, metadata: dict[str, str]) -> list[str] | None:
    """The class names `netspec export` stored as JSON (none for an export without --weights)."""
    text = metadata.get(CLASSES_KEY)
    if not text:
        return None
    try:
        classes = json.loads(text)
    except ValueError:
        classes = None
    if not isinstance(classes, list) or not classes or not all(isinstance(name, str) for name in classes):
        raise error("P004", f"{model}: the '{CLASSES_KEY}' metadata is not a JSON list of class names: "
                            f"{text[:80]!r}", hint=REEXPORT)
    return classes
