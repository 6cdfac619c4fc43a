"""Checkpoints: everything needed to predict, evaluate, fine-tune or resume, in one file.

Written atomically (temp file + rename) so a kill never leaves a broken checkpoint, and
read with `torch.load(..., weights_only=True)`: the IR travels as JSON text, not pickle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ValidationError

from ..analysis.context import Context
from ..diagnostics import NetspecError, error
from ..files import write_atomically
from ..ir import ClassificationLayer, Network, TrainingOptions

__all__ = ["save", "load", "resolve", "FORMAT", "network_of", "model_of"]

FORMAT = "netspec-checkpoint/1"


def save(path: Path, payload: dict[str, Any]) -> None:
    write_atomically(path, lambda stream: torch.save({"format": FORMAT, **payload}, stream))


def resolve(path: Path, prefer: str | None = None) -> Path:
    """A run folder means the checkpoint its OutputNetwork option names (best-validation-loss
    -> best.pt, last-iteration -> last.pt), or `prefer`; a file is itself."""
    if path.is_dir():
        if prefer is None:
            prefer = "last"
            options = path / "options.json"
            if options.is_file() and "best-validation-loss" in options.read_text(encoding="utf-8"):
                prefer = "best"
        for name in (f"{prefer}.pt", "best.pt", "last.pt"):
            if (path / name).is_file():
                return path / name
        raise error("C001", f"{path} has no checkpoint (best.pt or last.pt)",
                    hint="pass a run folder written by `netspec train`, or a .pt checkpoint")
    if not path.is_file():
        raise error("C001", f"no such checkpoint or run folder: {path}")
    return path


def load(path: Path, prefer: str | None = None) -> dict[str, Any]:
    """A checkpoint whose every entry is what netspec wrote there (see `_validate`)."""
    path = resolve(path, prefer)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file
        raise error("C002", f"{path} is not a readable netspec checkpoint: {exc}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise error("C002", f"{path} is not a netspec checkpoint",
                    hint="checkpoints are written by `netspec train` (best.pt, last.pt)")
    _validate(path, payload)
    payload["path"] = str(path)
    return payload


ENTRIES: dict[str, type | tuple[type, ...]] = {
    "network": str, "classes": list, "model": dict, "options": str, "optimizer": dict, "epoch": int,
    "iteration": int, "position": int, "order": torch.Tensor, "generator": torch.Tensor,
    "torch_rng": torch.Tensor, "best_loss": (int, float), "best_iteration": int, "stale": int,
}
"""The entries every checkpoint holds, and their types: `netspec train` writes them all, and
predicting, evaluating, exporting, fine-tuning and resuming read them without further checks."""
OPTIONAL_ENTRIES: dict[str, type] = {"spec": str, "run": str, "seed": int}
"""Entries `--resume` reads where present (older checkpoints lack them); 'run' is a JSON object."""
NOT_AS_WRITTEN = "the file was not written by `netspec train`, or was changed since; train again"


def _validate(path: Path, payload: dict[str, Any]) -> None:
    """Refuse, naming the file, a checkpoint that loads but holds the wrong things: a missing or
    mistyped entry (C003), a network that is not one (C004), or weights that do not fit it (C005)."""
    present = {key: kind for key, kind in OPTIONAL_ENTRIES.items() if key in payload}
    for key, kind in {**ENTRIES, **present}.items():
        if not isinstance(payload.get(key), kind):
            found = "missing" if key not in payload else f"a {type(payload[key]).__name__}"
            raise error("C003", f"{path}: the checkpoint's '{key}' entry is {found}", hint=NOT_AS_WRITTEN)
    try:
        run = json.loads(payload.get("run", "{}"))
    except ValueError:
        run = None
    if not isinstance(run, dict):
        raise error("C003", f"{path}: the checkpoint's 'run' entry is not a JSON object", hint=NOT_AS_WRITTEN)
    classes, weights = payload["classes"], payload["model"]
    if not classes or not all(isinstance(name, str) for name in classes):
        raise error("C003", f"{path}: the checkpoint's class list must hold one or more class names, "
                    f"not {classes[:6]!r}", hint=NOT_AS_WRITTEN)
    wrong = next((key for key, value in weights.items() if not isinstance(value, torch.Tensor)), None)
    if wrong is not None:
        raise error("C003", f"{path}: the checkpoint's weight '{wrong}' is a {type(weights[wrong]).__name__}, "
                    "not a tensor", hint=NOT_AS_WRITTEN)
    network = _parsed(path, payload, "network", Network)
    _parsed(path, payload, "options", TrainingOptions)
    _check_weights(path, network, payload)


def _parsed(path: Path, payload: dict[str, Any], key: str, model: type[BaseModel]) -> Any:
    """An entry that holds a pydantic model as JSON text, parsed."""
    try:
        return model.model_validate_json(payload[key])
    except ValidationError as exc:  # for text that is not JSON as for a wrong value
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise error("C004", f"{path}: the checkpoint's '{key}' entry is not a valid {model.__name__}: "
                            f"{where + ': ' if where else ''}{first['msg']}", hint=NOT_AS_WRITTEN) from None


def _check_weights(path: Path, network: Network, payload: dict[str, Any]) -> None:
    """The weights have the lowered network's every key at its shape, and one class name per output.
    The module is built on the meta device: shapes only, nothing allocated."""
    from ..analysis.limits import check_buildable
    from ..backends.torch import to_torch

    try:
        context = check_buildable(network)
        with torch.device("meta"):
            expected = {key: tuple(value.shape) for key, value in to_torch(network, seed=None).state_dict().items()}
    except NetspecError as exc:
        raise NetspecError([d.with_note(f"the network is the one saved in {path}") for d in exc.diagnostics]) \
            from None
    weights = {key: tuple(value.shape) for key, value in payload["model"].items()}
    missing, extra = sorted(expected.keys() - weights.keys()), sorted(weights.keys() - expected.keys())
    misshapen = [key for key in expected if key in weights and weights[key] != expected[key]]
    if missing or extra or misshapen:
        details = [f"'{key}' is {list(weights[key])}, the network's is {list(expected[key])}" for key in misshapen]
        details += [f"'{key}' is missing" for key in missing] + [f"'{key}' is not in the network" for key in extra]
        raise error("C005", f"{path}: the checkpoint's weights do not fit its network: {details[0]}",
                    notes=details[1:6], hint=NOT_AS_WRITTEN)
    outputs, names = _class_outputs(context), len(payload["classes"])
    if outputs is not None and outputs != names:
        raise error("C003", f"{path}: the network scores {outputs} outputs but the checkpoint names {names} "
                    f"class{'es' if names != 1 else ''}", hint=NOT_AS_WRITTEN)


def _class_outputs(context: Context) -> int | None:
    """How many class scores a classification network ends with (None for other networks)."""
    for name in context.order:
        if isinstance(context.layers[name], ClassificationLayer):
            edge = context.sources(name)[0]
            shape = context.output_shape(edge) if edge is not None else None
            return shape.numel if shape is not None and isinstance(shape.numel, int) else None
    return None


def network_of(payload: dict[str, Any]) -> Network:
    return Network.model_validate_json(payload["network"])


def model_of(payload: dict[str, Any]):
    """(network, the lowered module with the checkpoint's weights in eval mode)."""
    from ..backends.torch import to_torch

    network = network_of(payload)
    model = to_torch(network, seed=None)
    model.load_state_dict(payload["model"])
    return network, model.eval()
