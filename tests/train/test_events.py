"""What a training run reports (netspec.train.events), and the command line's bar drawn from it."""

from __future__ import annotations

import dataclasses
import io
import math

import pytest
from rich.console import Console

from netspec.language import load_file
from netspec.cli.progress import TrainingProgress
from netspec.train import checkpoint as checkpoint_module
from netspec.train.data import load_source
from netspec.train.events import CheckpointSaved, RunFinished, RunStarted, StepDone, ValidationDone
from netspec.train.loop import TrainConfig, train
from netspec.train.run import resolve_options

from .conftest import ONE_EPOCH, load_ckpt, netspec, read_rows, write_spec

# 2 classes x 20 images, split 0.8: 32 training images; batch 5 -> 6 iterations per epoch
EPOCHS, BATCH, FREQUENCY, PER_EPOCH = 3, 5, 4, 6
OPTIONS = (f"'sgdm', 'MaxEpochs',{EPOCHS}, 'MiniBatchSize',{BATCH}, 'InitialLearnRate',1e-3, "
           f"'ValidationFrequency',{FREQUENCY}")


def _train(root, folder2, out, resume=None) -> tuple[list, dict]:
    """Train the tiny spec with `train` itself (checkpointing every FREQUENCY iterations, as the CLI
    does); (the events it reported, the summary it returned)."""
    spec = write_spec(root / "tiny.net", options=OPTIONS)
    network = load_file(spec).network
    training, validation, _ = load_source(str(folder2), (8, 8, 1), split=0.8, seed=0)
    events: list = []
    summary = train(TrainConfig(network=network, options=resolve_options(network, {}), train=training,
                                validation=validation, out=out, spec_text=spec.read_text(), resume=resume,
                                checkpoint_every=FREQUENCY, on_event=events.append))
    return events, summary


@pytest.fixture(scope="module")
def reference(tmp_path_factory, folder2):
    root = tmp_path_factory.mktemp("events")
    events, summary = _train(root, folder2, root / "run")
    return events, summary, root / "run"


def _percent(fraction: float) -> str:
    return "" if math.isnan(fraction) else f"{100 * fraction:.4g}"


def test_a_run_reports_its_events_in_order(reference):
    events, summary, run = reference
    total = EPOCHS * PER_EPOCH
    assert events[0] == RunStarted(total_steps=total, epochs=EPOCHS, steps_per_epoch=PER_EPOCH, epoch=1,
                                   resumed_at=None)
    assert isinstance(events[-1], RunFinished)
    assert events[-1].summary == summary and events[-1].summary is not summary
    assert summary["iterations"] == total

    steps = [e for e in events if isinstance(e, StepDone)]
    assert [e.iteration for e in steps] == list(range(1, total + 1))
    assert [e.epoch for e in steps] == [1] * PER_EPOCH + [2] * PER_EPOCH + [3] * PER_EPOCH
    assert all(e.images_per_second > 0 for e in steps)
    rows = read_rows(run)
    assert [f"{e.loss:.6g}" for e in steps] == [r["loss"] for r in rows]
    assert [_percent(e.accuracy) for e in steps] == [r["accuracy"] for r in rows]
    assert steps[-1].loss == summary["final_loss"] and steps[-1].accuracy == summary["final_accuracy"]

    validations = [e for e in events if isinstance(e, ValidationDone)]
    assert [e.iteration for e in validations] == [4, 8, 12, 16, 18]
    assert [f"{e.loss:.6g}" for e in validations] == [r["val_loss"] for r in rows if r["val_loss"]]
    assert [_percent(e.accuracy) for e in validations] == [r["val_accuracy"] for r in rows if r["val_loss"]]
    assert [e.best for e in validations] == [e.loss < min([math.inf, *(v.loss for v in validations[:i])])
                                             for i, e in enumerate(validations)]
    best = [e for e in validations if e.best]
    assert best[-1].iteration == summary["best_iteration"] and best[-1].loss == summary["best_validation_loss"]

    # each iteration: the step, its validation, best.pt when it improved, then last.pt every FREQUENCY
    # iterations and at each epoch's end; the finishing saves last.pt once more
    expected = [("RunStarted", None)]
    for iteration in range(1, total + 1):
        expected.append(("StepDone", iteration))
        validation = next((e for e in validations if e.iteration == iteration), None)
        if validation is not None:
            expected.append(("ValidationDone", iteration))
            if validation.best:
                expected.append(("best.pt", iteration))
        if iteration % FREQUENCY == 0:
            expected.append(("last.pt", iteration))
        if iteration % PER_EPOCH == 0:
            expected.append(("last.pt", iteration))
    expected += [("last.pt", total), ("RunFinished", None)]

    def label(event):
        if isinstance(event, CheckpointSaved):
            return event.path.name, event.iteration
        return type(event).__name__, getattr(event, "iteration", None)

    assert [label(e) for e in events] == expected
    assert all(e.path.parent == run for e in events if isinstance(e, CheckpointSaved))
    assert load_ckpt(run / "last.pt")["iteration"] == total
    assert load_ckpt(run / "best.pt")["iteration"] == best[-1].iteration


class _Cut(BaseException):
    """A kill right after last.pt is written at iteration 8."""


def test_a_resumed_run_reports_where_it_resumed(reference, tmp_path, folder2, monkeypatch):
    real = checkpoint_module.save

    def save(path, payload):
        real(path, payload)
        if path.name == "last.pt" and payload["iteration"] == 8:
            raise _Cut

    monkeypatch.setattr(checkpoint_module, "save", save)
    with pytest.raises(_Cut):
        _train(tmp_path, folder2, tmp_path / "cut")
    monkeypatch.setattr(checkpoint_module, "save", real)
    events, summary = _train(tmp_path, folder2, tmp_path / "cut",
                             resume=checkpoint_module.load(tmp_path / "cut", prefer="last"))
    assert events[0] == RunStarted(total_steps=EPOCHS * PER_EPOCH, epochs=EPOCHS, steps_per_epoch=PER_EPOCH, epoch=2,
                                   resumed_at=8)
    steps = [e for e in events if isinstance(e, StepDone)]
    whole = [e for e in reference[0] if isinstance(e, StepDone)]
    assert [e.iteration for e in steps] == list(range(9, EPOCHS * PER_EPOCH + 1))
    assert [e.loss for e in steps] == [e.loss for e in whole[8:]]
    assert events[-1] == RunFinished(summary)


def _drawn(events, **options) -> str:
    screen = io.StringIO()
    with TrainingProgress(console=Console(file=screen, width=160), **options) as progress:
        for event in events:
            progress(event)
    return screen.getvalue()


def test_the_progress_bar_draws_the_events(reference):
    events = reference[0]
    last = [e for e in events if isinstance(e, StepDone)][-1]
    drawn = _drawn(events)
    assert drawn.startswith("epoch 3/3 ") and drawn.count("\n") == 1  # drawn once, when the run finished
    assert (f" 18/18 loss {last.loss:.4f} acc {100 * last.accuracy:5.1f}% "
            f"{last.images_per_second:,.0f} img/s 0:00:00\n") in drawn
    assert _drawn(events, disable=True) == ""
    sequences = [dataclasses.replace(events[0], unit="sequences"), *events[1:]]
    assert f"{last.images_per_second:,.0f} seq/s 0:00:00\n" in _drawn(sequences)


def test_the_progress_bar_comes_down_when_the_run_fails(reference):
    events = reference[0]
    screen = io.StringIO()
    with pytest.raises(RuntimeError), TrainingProgress(console=Console(file=screen, width=160)) as progress:
        progress(events[0])
        progress(events[1])
        raise RuntimeError("the run failed")
    assert screen.getvalue().startswith("epoch 1/3 ") and " 1/18 loss " in screen.getvalue()


def test_train_draws_the_bar_unless_quiet(tmp_path, folder2):
    spec = write_spec(tmp_path / "tiny.net", options=ONE_EPOCH)
    quiet = netspec("train", spec, "--data", folder2, "--out", tmp_path / "quiet", "--quiet")
    assert quiet.code == 0, quiet
    assert quiet.out == "" and "epoch" not in quiet.err
    shown = netspec("train", spec, "--data", folder2, "--out", tmp_path / "shown")
    assert shown.code == 0, shown
    assert "epoch 1/1 " in shown.err and " 4/4 loss " in shown.err  # 32 images, batch 8; stdout is the result's
    assert "epoch" not in shown.out
