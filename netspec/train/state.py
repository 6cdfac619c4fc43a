"""A training run's state: what changes from one step to the next, and what `--resume` needs
to continue at the exact iteration with the same data order and random state. The checkpoint
payload is built from it, and restored into it, here and nowhere else."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from ..backends.torch import GraphModule
from ..diagnostics import error

if TYPE_CHECKING:
    from .loop import TrainConfig

__all__ = ["RunState"]


@dataclass
class RunState:
    model: GraphModule
    optimizer: torch.optim.Optimizer
    generator: torch.Generator
    """Draws each epoch's data order (its own stream: augmentation and dropout draw from torch's)."""
    order: Tensor
    """This epoch's order of the training images."""
    epoch: int = 0
    """Epochs finished."""
    iteration: int = 0
    """Mini-batches trained, over the whole run."""
    position: int = 0
    """Mini-batches of this epoch trained."""
    best_loss: float = math.inf
    """The lowest validation loss so far, and the iteration that had it (best.pt)."""
    best_iteration: int = 0
    stale: int = 0
    """Validations in a row without a new best: ValidationPatience stops the run."""
    seen: int = 0
    """Images trained on, over every resume of the run."""
    elapsed: float = 0.0
    """Seconds of training, over every resume of the run."""
    last_loss: float = math.nan
    last_accuracy: float = math.nan
    saved_at: float = -math.inf
    """time.monotonic() when last.pt was last written by this process (not checkpointed)."""

    def payload(self, config: TrainConfig) -> dict[str, Any]:
        """The checkpoint: this state, torch's random state and what the run was made from."""
        return {"network": config.network.model_dump_json(), "classes": config.train.classes,
                "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(), "epoch": self.epoch,
                "iteration": self.iteration, "position": self.position, "order": self.order,
                "generator": self.generator.get_state(), "torch_rng": torch.get_rng_state(),
                "best_loss": self.best_loss, "best_iteration": self.best_iteration, "stale": self.stale,
                "options": config.options.model_dump_json(), "seed": config.seed, "spec": config.spec_text,
                "run": json.dumps(config.extra), "images_seen": self.seen, "seconds": self.elapsed,
                "last_loss": self.last_loss, "last_accuracy": self.last_accuracy}

    def restore(self, saved: dict[str, Any]) -> None:
        """Continue from a checkpoint `payload` wrote (weights, optimizer, counters, random state)."""
        self.model.load_state_dict(saved["model"])
        _restore_optimizer(self.optimizer, saved)
        self.epoch, self.iteration, self.position = saved["epoch"], saved["iteration"], saved["position"]
        self.order = saved["order"]
        self.generator.set_state(saved["generator"])
        torch.set_rng_state(saved["torch_rng"])
        self.best_loss, self.best_iteration, self.stale = saved["best_loss"], saved["best_iteration"], saved["stale"]
        self.seen, self.elapsed = saved.get("images_seen", 0), saved.get("seconds", 0.0)
        self.last_loss, self.last_accuracy = saved.get("last_loss", math.nan), saved.get("last_accuracy", math.nan)


def _restore_optimizer(optimizer: torch.optim.Optimizer, saved: dict[str, Any]) -> None:
    """The checkpoint's optimizer state, refused (C005) unless every buffer fits its parameter:
    torch accepts mismatched buffers here and fails only at the next step."""
    try:
        optimizer.load_state_dict(saved["optimizer"])
        for group in optimizer.param_groups:
            for parameter in group["params"]:
                for buffer in optimizer.state.get(parameter, {}).values():
                    if isinstance(buffer, Tensor) and buffer.dim() and buffer.shape != parameter.shape:
                        raise ValueError(f"a buffer of shape {tuple(buffer.shape)} for a parameter of shape "
                                         f"{tuple(parameter.shape)}")
    except (ValueError, KeyError, TypeError, RuntimeError, IndexError, AttributeError) as exc:
        raise error("C005", f"{saved['path']}: its optimizer state does not fit this network ({exc})",
                    hint="resume from the run's own last.pt, or start a new run") from None
