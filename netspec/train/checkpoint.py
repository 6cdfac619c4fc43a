"""Checkpoints: everything needed to predict, evaluate, fine-tune or resume, in one file.

Written atomically (temp file + rename) so a kill never leaves a broken checkpoint, and
read with `torch.load(..., weights_only=True)`: the IR travels as JSON text, not pickle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..diagnostics import error
from ..files import write_atomically
from ..ir import Network

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
    path = resolve(path, prefer)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file
        raise error("C002", f"{path} is not a readable netspec checkpoint: {exc}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise error("C002", f"{path} is not a netspec checkpoint",
                    hint="checkpoints are written by `netspec train` (best.pt, last.pt)")
    payload["path"] = str(path)
    return payload


def network_of(payload: dict[str, Any]) -> Network:
    return Network.model_validate_json(payload["network"])


def model_of(payload: dict[str, Any]):
    """(network, the lowered module with the checkpoint's weights in eval mode)."""
    from ..backends.torch import to_torch

    network = network_of(payload)
    model = to_torch(network, seed=None)
    model.load_state_dict(payload["model"])
    return network, model.eval()
