"""metrics.csv while a run goes on: the file stays open between rows (opening it for each row cost
as much as writing it); rows reach the disk within _Writer.FLUSH_SECONDS, for whoever reads the
file during the run, and before every checkpoint, so that a kill loses no row --resume keeps."""

from __future__ import annotations

from netspec.language import load_file
from netspec.train.data import load_source
from netspec.train.events import CheckpointSaved, StepDone
from netspec.train.loop import TrainConfig, _Writer, train
from netspec.train.run import resolve_options

from .conftest import read_rows, write_spec

BATCH, EPOCHS = 5, 2


def _run(tmp_path, folder2, look, checkpoint_every, checkpoint_seconds=0.0):
    spec = write_spec(tmp_path / "tiny.net", options=f"'sgdm', 'MaxEpochs',{EPOCHS}, 'MiniBatchSize',{BATCH}, "
                                                     "'InitialLearnRate',1e-3")
    network = load_file(spec).network
    training, _, _ = load_source(str(folder2), (8, 8, 1), split=1.0, seed=0)
    train(TrainConfig(network=network, options=resolve_options(network, {}), train=training, validation=None,
                      out=tmp_path / "run", spec_text=spec.read_text(), checkpoint_every=checkpoint_every,
                      checkpoint_seconds=checkpoint_seconds, on_event=look))
    return EPOCHS * (len(training) // BATCH)


def test_with_no_delay_every_row_is_on_disk_while_the_run_goes_on(tmp_path, folder2, monkeypatch):
    monkeypatch.setattr(_Writer, "FLUSH_SECONDS", 0.0)
    out = tmp_path / "run"
    on_disk: dict[int, list[int]] = {}

    def look(event: object) -> None:
        if isinstance(event, StepDone):
            on_disk[event.iteration] = [int(row["iteration"]) for row in read_rows(out)]

    total = _run(tmp_path, folder2, look, checkpoint_every=1000)
    assert sorted(on_disk) == list(range(1, total + 1))
    for iteration, rows in on_disk.items():  # every earlier row is there; this one, once written
        assert rows in (list(range(1, iteration)), list(range(1, iteration + 1))), (iteration, rows)
    assert [int(row["iteration"]) for row in read_rows(out)] == list(range(1, total + 1))


def test_every_row_a_checkpoint_covers_is_on_disk_when_it_is_written(tmp_path, folder2, monkeypatch):
    monkeypatch.setattr(_Writer, "FLUSH_SECONDS", 3600.0)  # only the checkpoints (and the end) flush
    out = tmp_path / "run"
    at_checkpoint: dict[int, list[int]] = {}

    def look(event: object) -> None:
        if isinstance(event, CheckpointSaved) and event.path.name == "last.pt":
            at_checkpoint[event.iteration] = [int(row["iteration"]) for row in read_rows(out)]

    total = _run(tmp_path, folder2, look, checkpoint_every=3)
    assert sorted(at_checkpoint) == sorted({*range(3, total + 1, 3), total // EPOCHS, total})
    for iteration, rows in at_checkpoint.items():
        assert rows == list(range(1, iteration + 1)), (iteration, rows)


def test_last_pt_waits_checkpoint_seconds_after_the_previous_one(tmp_path, folder2):
    saved: list[int] = []

    def look(event: object) -> None:
        if isinstance(event, CheckpointSaved) and event.path.name == "last.pt":
            saved.append(event.iteration)

    total = _run(tmp_path, folder2, look, checkpoint_every=2, checkpoint_seconds=3600.0)
    assert total > 2 * EPOCHS
    assert saved == [2, total]  # the first due iteration, then none within the hour but the run's end
    saved.clear()
    (tmp_path / "often").mkdir()
    _run(tmp_path / "often", folder2, look, checkpoint_every=2, checkpoint_seconds=0.0)
    per_epoch, expected = total // EPOCHS, []
    for iteration in range(1, total + 1):  # each due iteration, each epoch's end, the run's end
        expected += [iteration] * ((iteration % 2 == 0) + (iteration % per_epoch == 0))
    assert saved == expected + [total]

