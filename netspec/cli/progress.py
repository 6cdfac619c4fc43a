"""`netspec train`'s progress bar, drawn from the events the training reports (netspec.train.events):
the library says what happened, the command line shows it."""

from __future__ import annotations

import math
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from ..train.events import Event, RunFinished, RunStarted, StepDone

__all__ = ["TrainingProgress"]


class TrainingProgress:
    """epoch x/y, the bar, m/n iterations, loss, accuracy, images (or sequences) per second and the time remaining.

    Pass it as the run's event handler inside a `with` block: the bar appears when the run starts,
    and is taken down when the run finishes or fails. `disable` (--quiet) draws nothing."""

    def __init__(self, console: Console | None = None, disable: bool = False):
        self._progress = Progress(TextColumn("[bold]epoch {task.fields[epoch]}/{task.fields[epochs]}"), BarColumn(),
                                  MofNCompleteColumn(), TextColumn("loss {task.fields[loss]:.4f}"),
                                  TextColumn("acc {task.fields[acc]:5.1f}%"),
                                  TextColumn("{task.fields[speed]:,.0f} {task.fields[unit]}/s"), TimeRemainingColumn(),
                                  console=console, disable=disable, transient=False)
        self._task: TaskID | None = None

    def __enter__(self) -> TrainingProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stop()

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._progress.start()
            self._task = self._progress.add_task("train", total=event.total_steps, completed=event.resumed_at or 0,
                                                 epoch=event.epoch, epochs=event.epochs, loss=0.0, acc=0.0, speed=0.0,
                                                 unit="seq" if event.unit == "sequences" else "img")
        elif isinstance(event, StepDone) and self._task is not None:
            self._progress.update(self._task, completed=event.iteration, epoch=event.epoch, loss=event.loss,
                                  acc=0.0 if math.isnan(event.accuracy) else 100 * event.accuracy,
                                  speed=event.images_per_second)
        elif isinstance(event, RunFinished):
            self._stop()

    def _stop(self) -> None:
        """Take the bar down once (rich prints a closing line each time it stops a bar)."""
        if self._task is not None:
            self._progress.stop()
            self._task = None
