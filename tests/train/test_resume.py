"""Kill -9 mid-run, `netspec train --resume RUN`, and compare with an uninterrupted run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from netspec.train import checkpoint as checkpoint_module
from netspec.train import run as run_module

from .conftest import ENV, VENV_BIN, load_ckpt, netspec, read_rows, summary, write_spec


@pytest.fixture(autouse=True)
def checkpoint_at_every_due_iteration(monkeypatch):
    """These runs are cut right after a mid-epoch last.pt: `netspec train` (in this process) writes
    one at every due iteration however soon after the last (the floor's own test: test_metrics_rows)."""
    monkeypatch.setattr(run_module, "CHECKPOINT_SECONDS", 0.0)


EPOCHS = 150  # long enough (seconds) that the killed run is still going when 20 rows reach the disk
TOTAL = EPOCHS * (32 // 8)  # 32 training images, MiniBatchSize 8


def _spec(tmp_path, epochs=EPOCHS):
    return write_spec(tmp_path / "long.net",
                      options=f"'adam', 'MaxEpochs',{epochs}, 'MiniBatchSize',8, 'ValidationFrequency',1, "
                              "'Shuffle','every-epoch'")


def _same_weights(a: dict, b: dict) -> list[str]:
    assert a.keys() == b.keys()
    return [k for k in a if not torch.equal(a[k], b[k])]


class KillAndResume:
    """In a thread, from when collection ends: start `netspec train`, kill -9 it once metrics.csv has 20
    rows and last.pt exists, and keep a copy of that last.pt (the test resumes)."""

    def __init__(self, root, folder2):
        self.spec = _spec(root)
        self.run = root / "killed"
        self.common = ["--data", str(folder2), "--quiet", "--seed", "3"]
        self.process = None
        self.future = ThreadPoolExecutor(1).submit(self._sequence)

    def _sequence(self) -> dict:
        run = self.run
        self.process = process = subprocess.Popen(
            [str(VENV_BIN / "netspec"), "train", str(self.spec), "--out", str(run), *self.common],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
        rows, deadline = 0, time.monotonic() + 240
        try:
            while time.monotonic() < deadline:
                if (run / "last.pt").exists() and (run / "metrics.csv").exists():
                    rows = sum(1 for _ in (run / "metrics.csv").open()) - 1
                    if rows >= 20:
                        break
                if process.poll() is not None:
                    raise AssertionError(f"training ended before it could be killed: {process.stderr.read()}")
                time.sleep(0.01)
            else:
                raise AssertionError("training did not reach 20 iterations in time")
            os.kill(process.pid, signal.SIGKILL)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            process.stderr.close()
        shutil.copy(run / "last.pt", run.parent / "at-kill.pt")
        return {"returncode": process.returncode, "rows": rows, "had_summary": (run / "summary.json").exists()}

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()


def start_background(root, folder2):
    return {"kill": KillAndResume(root, folder2)}


@pytest.mark.background
def test_kill_and_resume(tmp_path, background):
    job = background["kill"]
    outcome = job.future.result(timeout=300)
    run = job.run
    assert outcome["returncode"] == -signal.SIGKILL
    assert not outcome["had_summary"]

    interrupted = load_ckpt(run.parent / "at-kill.pt")  # the atomic write survived the kill
    assert 1 <= interrupted["iteration"] < TOTAL

    resumed = netspec("train", "--resume", run, "--quiet")
    assert resumed.code == 0, resumed
    assert "Traceback" not in resumed.err

    reference = tmp_path / "reference"
    result = netspec("train", job.spec, "--out", reference, *job.common)
    assert result.code == 0, result

    assert summary(run)["iterations"] == summary(reference)["iterations"] == TOTAL
    assert summary(run)["epochs"] == EPOCHS
    iterations = [int(r["iteration"]) for r in read_rows(run)]
    assert iterations == list(range(1, TOTAL + 1)), "metrics.csv has gaps or duplicates after the resume"
    as_json = json.loads((run / "metrics.json").read_text())
    assert [int(r["iteration"]) for r in as_json] == iterations

    # exact resume: same data order, same random state, same weights
    final, expected = load_ckpt(run / "last.pt"), load_ckpt(reference / "last.pt")
    assert final["iteration"] == expected["iteration"] == TOTAL
    assert _same_weights(final["model"], expected["model"]) == []
    assert torch.equal(final["order"], expected["order"])
    # every training loss, before and after the kill point, matches the uninterrupted run's
    assert [r["loss"] for r in read_rows(run)] == [r["loss"] for r in read_rows(reference)]


class _Interrupt(BaseException):
    """Stands in for a kill right after a checkpoint write (the state any later kill resumes from)."""


def _interrupt_after(monkeypatch, iteration: int):
    real = checkpoint_module.save

    def save(path, payload):
        real(path, payload)
        if path.name == "last.pt" and payload["iteration"] == iteration:
            raise _Interrupt

    monkeypatch.setattr(checkpoint_module, "save", save)
    return lambda: monkeypatch.setattr(checkpoint_module, "save", real)


@pytest.mark.parametrize("augment", [
    None,
    "RandXReflection,RandYReflection",  # the loader's own generator leaves the augmenter's RNG stream alone
])
def test_interrupted_resume_is_exact(tmp_path, folder2, monkeypatch, augment):
    spec = _spec(tmp_path, epochs=6)
    extra = ["--augment", augment] if augment else []
    common = ["--data", folder2, "--quiet", "--seed", "5", *extra]
    restore = _interrupt_after(monkeypatch, iteration=10)  # iteration 10: the middle of epoch 3
    with pytest.raises(_Interrupt):
        netspec("train", spec, "--out", tmp_path / "cut", *common)
    restore()
    assert load_ckpt(tmp_path / "cut" / "last.pt")["iteration"] == 10
    assert netspec("train", "--resume", tmp_path / "cut", "--quiet").code == 0
    assert netspec("train", spec, "--out", tmp_path / "whole", *common).code == 0
    final, expected = load_ckpt(tmp_path / "cut" / "last.pt"), load_ckpt(tmp_path / "whole" / "last.pt")
    assert final["iteration"] == expected["iteration"] == 24
    assert _same_weights(final["model"], expected["model"]) == []


def _interrupted(tmp_path, folder, monkeypatch, at=6):
    spec = _spec(tmp_path, epochs=3)
    restore = _interrupt_after(monkeypatch, iteration=at)
    with pytest.raises(_Interrupt):
        netspec("train", spec, "--out", tmp_path / "cut", "--data", folder, "--quiet")
    restore()
    return tmp_path / "cut"


def test_resume_keeps_metrics_json_types(tmp_path, folder2, monkeypatch):
    run = _interrupted(tmp_path, folder2, monkeypatch)
    text = (run / "metrics.csv").read_text().splitlines()
    assert netspec("train", "--resume", run, "--quiet").code == 0
    # the rows kept from before the interruption are rewritten to metrics.csv exactly as they were
    assert (run / "metrics.csv").read_text().splitlines()[:len(text)] == text[:7]  # header + 6 rows
    rows = json.loads((run / "metrics.json").read_text())
    assert [r["iteration"] for r in rows] == list(range(1, 13))
    for row in rows:  # kept (1-6) and new (7-12) rows alike: ints, floats, null
        assert type(row["epoch"]) is int and type(row["iteration"]) is int, row
        for key in ("loss", "accuracy", "learn_rate", "seconds", "val_loss", "val_accuracy"):
            assert type(row[key]) is float, (key, row)  # ValidationFrequency 1: every row validates
    assert [{k: "" if v is None else v for k, v in r.items()} for r in rows] == \
        [{k: int(v) if k in ("epoch", "iteration") else float(v) if v else "" for k, v in r.items()}
         for r in read_rows(run)]


def test_resume_from_another_directory(tmp_path, folder2, monkeypatch):
    shutil.copytree(folder2, tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    run = _interrupted(tmp_path, "data", monkeypatch)
    # the run stores --data as an absolute path
    assert json.loads(load_ckpt(run / "last.pt")["run"])["data"] == str((tmp_path / "data").resolve())
    monkeypatch.chdir(run)
    result = netspec("train", "--resume", run, "--quiet")
    assert result.code == 0, result
    assert summary(run)["iterations"] == 12


def test_resume_of_a_finished_run_changes_nothing(tmp_path, folder2):
    spec = _spec(tmp_path, epochs=1)
    run = tmp_path / "done"
    assert netspec("train", spec, "--out", run, "--data", folder2, "--quiet").code == 0
    files = {p.name: p.read_bytes() for p in run.iterdir()}
    result = netspec("train", "--resume", run, "--quiet")
    assert result.code == 0, result
    assert "nothing to resume" in " ".join(result.err.split()), result
    assert {p.name: p.read_bytes() for p in run.iterdir()} == files  # not one byte rewritten


def test_regression_run_summary_is_strict_json(tmp_path, folder2):
    """README: regressionLayer -> half mean squared error. No NaN in summary.json: accuracy is null."""
    spec = tmp_path / "reg.net"
    spec.write_text("layers = [imageInputLayer([8 8 1])\n    fullyConnectedLayer(1)\n    regressionLayer];\n"
                    "options = trainingOptions('sgdm', 'MaxEpochs',1, 'MiniBatchSize',8, 'InitialLearnRate',1e-6);\n",
                    encoding="utf-8")
    run = tmp_path / "reg"
    result = netspec("train", spec, "--out", run, "--data", folder2, "--quiet")
    assert result.code == 0, result
    info = json.loads((run / "summary.json").read_text(), parse_constant=lambda name: pytest.fail(name))
    assert info["final_accuracy"] is None and isinstance(info["final_loss"], float)


def test_resume_of_a_patience_stopped_run_changes_nothing(tmp_path, folder2):
    spec = write_spec(tmp_path / "patient.net", options="'sgdm', 'MaxEpochs',20, 'MiniBatchSize',8, "
                                                        "'InitialLearnRate',1e-12, 'ValidationFrequency',1, "
                                                        "'ValidationPatience',3")
    run = tmp_path / "stopped"
    assert netspec("train", spec, "--out", run, "--data", folder2, "--quiet").code == 0
    assert summary(run)["stopped"] == "validation-patience"
    files = {p.name: p.read_bytes() for p in run.iterdir()}
    result = netspec("train", "--resume", run, "--quiet")
    assert result.code == 0, result
    assert {p.name: p.read_bytes() for p in run.iterdir()} == files


BN_SPEC = ("layers = [imageInputLayer([8 8 1])\n    convolution2dLayer(3,4,'Padding','same')\n"
           "    batchNormalizationLayer\n    reluLayer\n    fullyConnectedLayer(2)\n    softmaxLayer\n"
           "    classificationLayer];\n"
           "options = trainingOptions('sgdm', 'MaxEpochs',1, 'MiniBatchSize',8, 'ValidationFrequency',2);\n")
FINISHING = ["last.pt", "best.pt", "metrics.json", "training-progress.png", "confusion.png", "summary.json"]
"""The files a run puts in place once its last iteration is done, in order (each written atomically)."""
TIMING = {"seconds", "images_per_second", "achieved_flops_per_second"}


def _recording_replaces(monkeypatch, stop_at: int | None = None) -> list[str]:
    """Every atomic write's final rename, by file name; with stop_at, a kill just before that one."""
    real, names = os.replace, []

    def replace(source, destination):
        if len(names) == stop_at:
            raise _Interrupt
        names.append(os.path.basename(destination))
        real(source, destination)

    monkeypatch.setattr(os, "replace", replace)
    return names


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, folder2):
    root = tmp_path_factory.mktemp("finishing")
    (root / "bn.net").write_text(BN_SPEC)
    with pytest.MonkeyPatch.context() as monkeypatch:
        names = _recording_replaces(monkeypatch)
        result = netspec("train", root / "bn.net", "--out", root / "whole", "--data", folder2, "--quiet")
    assert result.code == 0, result
    assert names[-len(FINISHING):] == FINISHING
    return root, len(names)


@pytest.mark.parametrize("step", FINISHING)
def test_a_kill_while_finishing_is_completed_by_resume(tmp_path, folder2, monkeypatch, uninterrupted, step):
    root, writes = uninterrupted
    run, whole = tmp_path / "cut", root / "whole"
    stop_at = writes - len(FINISHING) + FINISHING.index(step)
    _recording_replaces(monkeypatch, stop_at)
    with pytest.raises(_Interrupt):
        netspec("train", root / "bn.net", "--out", run, "--data", folder2, "--quiet")
    monkeypatch.undo()
    assert not (run / "summary.json").exists()

    result = netspec("train", "--resume", run, "--quiet")
    assert result.code == 0, result
    assert "nothing to resume" not in result.err
    assert sorted(p.name for p in run.iterdir()) == sorted(p.name for p in whole.iterdir())
    for name in ("last.pt", "best.pt"):  # population statistics in both, as the uninterrupted run has them
        final, expected = load_ckpt(run / name), load_ckpt(whole / name)
        assert final["iteration"] == expected["iteration"]
        assert _same_weights(final["model"], expected["model"]) == [], name
    assert any(key.endswith("running_var") for key in final["model"])
    ignore_time = [{k: v for k, v in row.items() if k != "seconds"} for row in
                   json.loads((run / "metrics.json").read_text())]
    assert ignore_time == [{k: v for k, v in row.items() if k != "seconds"} for row in
                           json.loads((whole / "metrics.json").read_text())]
    assert {k: v for k, v in summary(run).items() if k not in TIMING} == \
        {k: v for k, v in summary(whole).items() if k not in TIMING}
    assert (run / "confusion.png").read_bytes() == (whole / "confusion.png").read_bytes()
    again = netspec("train", "--resume", run, "--quiet")  # and now it is finished
    assert again.code == 0 and "nothing to resume" in " ".join(again.err.split()), again


def test_a_metrics_row_cut_short_by_a_kill_is_dropped(tmp_path, folder2, monkeypatch):
    run = _interrupted(tmp_path, folder2, monkeypatch)
    with (run / "metrics.csv").open("a") as handle:
        handle.write("2,")  # a kill in the middle of iteration 7's row
    result = netspec("train", "--resume", run, "--quiet")
    assert result.code == 0, result
    assert [int(r["iteration"]) for r in read_rows(run)] == list(range(1, 13))
