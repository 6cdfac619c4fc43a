"""metrics.csv while a run goes on: the file stays open between rows (opening it for each row cost
as much as writing it), and every row must still reach the disk at once, for whoever reads the
file during the run and for a kill, which must lose no finished iteration's row."""

from __future__ import annotations

from netspec.language import load_file
from netspec.train.data import load_source
from netspec.train.events import StepDone
from netspec.train.loop import TrainConfig, train
from netspec.train.run import resolve_options

from .conftest import read_rows, write_spec

BATCH, EPOCHS = 5, 2


def test_every_row_is_on_disk_while_the_run_goes_on(tmp_path, folder2):
    spec = write_spec(tmp_path / "tiny.net", options=f"'sgdm', 'MaxEpochs',{EPOCHS}, 'MiniBatchSize',{BATCH}, "
                                                     "'InitialLearnRate',1e-3")
    network = load_file(spec).network
    training, _, _ = load_source(str(folder2), (8, 8, 1), split=1.0, seed=0)
    out = tmp_path / "run"
    on_disk: dict[int, list[int]] = {}

    def look(event: object) -> None:
        if isinstance(event, StepDone):
            on_disk[event.iteration] = [int(row["iteration"]) for row in read_rows(out)]

    train(TrainConfig(network=network, options=resolve_options(network, {}), train=training, validation=None,
                      out=out, spec_text=spec.read_text(), checkpoint_every=1000, on_event=look))
    total = EPOCHS * (len(training) // BATCH)
    assert sorted(on_disk) == list(range(1, total + 1))
    for iteration, rows in on_disk.items():  # every earlier row is there; this one, once written
        assert rows in (list(range(1, iteration)), list(range(1, iteration + 1))), (iteration, rows)
    assert [int(row["iteration"]) for row in read_rows(out)] == list(range(1, total + 1))
