"""`netspec predict model.onnx IMAGE...` with onnxruntime: no torch on this path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..diagnostics import error

__all__ = ["predict_onnx"]

CLASSES_KEY = "netspec.classes"
REEXPORT = "export the model again: `netspec export SPEC --weights RUN -o MODEL.onnx`"


def predict_onnx(model: Path, images: list[Path]) -> list[dict[str, Any]]:
    import onnx
    import onnxruntime

    from ..images import read_image

    if not model.is_file():
        raise error("P001", f"no such model: {model}")
    try:
        proto = onnx.load(str(model), load_external_data=False)
        session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnx and onnxruntime raise their own types for a bad file
        raise error("P002", f"{model} is not a loadable ONNX model: {exc}") from None
    classes = _classes(model, {entry.key: entry.value for entry in proto.metadata_props})
    feed = session.get_inputs()[0]
    dims = feed.shape
    if len(dims) != 4 or not all(isinstance(d, int) for d in dims[1:]):
        raise error("P003", f"{model} does not take images (its input is {dims})")
    channels, height, width = dims[1:]
    batch = np.stack([read_image(path, (height, width, channels)) for path in images])
    scores = session.run(None, {feed.name: batch.astype(np.float32)})[0].reshape(len(images), -1)
    if classes is not None and len(classes) != scores.shape[1]:
        raise error("P004", f"{model}: the '{CLASSES_KEY}' metadata names {len(classes)} "
                            f"class{'es' if len(classes) != 1 else ''}, but the model scores {scores.shape[1]}",
                    hint=REEXPORT)
    if not np.allclose(scores.sum(axis=1), 1.0, atol=1e-3) or (scores < 0).any():
        exponent = np.exp(scores - scores.max(axis=1, keepdims=True))
        scores = exponent / exponent.sum(axis=1, keepdims=True)
    results = []
    for path, row in zip(images, scores):
        index = int(row.argmax())
        name = classes[index] if classes else str(index)
        results.append({"image": str(path), "class": name, "probability": float(row[index])})
    return results


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
