"""What a training run reports as it goes. The library says what happened; whoever runs it decides
what to show (the command line draws a progress bar, a test collects the events, a notebook may
plot them). Only the lead process of a multi-process run reports. No torch here: a consumer of
events need not load it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["RunStarted", "StepDone", "ValidationDone", "CheckpointSaved", "RunFinished", "Event", "EventHandler",
           "ignore"]


@dataclass(frozen=True)
class RunStarted:
    total_steps: int
    """Iterations of the whole run: epochs × steps per epoch."""
    epochs: int
    steps_per_epoch: int
    epoch: int
    """The epoch the run starts (or resumes) in, counted from 1."""
    resumed_at: int | None
    """The iterations a resumed run had done already; None for a new run."""
    unit: str = "images"
    """What the run trains on and counts: images, or sequences."""


@dataclass(frozen=True)
class StepDone:
    epoch: int
    """Counted from 1, as in metrics.csv."""
    iteration: int
    loss: float
    """The mini-batch's training loss."""
    accuracy: float
    """The mini-batch's accuracy, 0 to 1; NaN for regression."""
    images_per_second: float
    """Over the whole run, resumes included."""


@dataclass(frozen=True)
class ValidationDone:
    iteration: int
    loss: float
    accuracy: float
    """0 to 1; NaN for regression."""
    best: bool
    """The lowest validation loss so far (best.pt is saved next)."""


@dataclass(frozen=True)
class CheckpointSaved:
    path: Path
    iteration: int
    """The iteration whose state the checkpoint holds."""


@dataclass(frozen=True)
class RunFinished:
    summary: dict[str, Any]
    """A copy of what `train` returns."""


Event = RunStarted | StepDone | ValidationDone | CheckpointSaved | RunFinished
EventHandler = Callable[[Event], None]


def ignore(event: Event) -> None:
    """The default handler: a run started from code draws nothing."""
