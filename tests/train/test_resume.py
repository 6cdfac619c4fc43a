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

from .conftest import ENV, VENV_BIN, load_ckpt, netspec, read_rows, run_process, summary, write_spec

EPOCHS = 40
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
    rows and last.pt exists, keep a copy of that last.pt, then `netspec train --resume RUN`."""

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
        had_summary = (run / "summary.json").exists()
        resumed = run_process("train", "--resume", run, "--quiet")
        return {"returncode": process.returncode, "rows": rows, "had_summary": had_summary, "resumed": resumed}

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

    resumed = outcome["resumed"]
    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stderr

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
    pytest.param("RandXReflection,RandYReflection", marks=pytest.mark.xfail(
        strict=True, reason="BUG: resume is not exact with augmentation: creating a DataLoader iterator draws "
                            "from the global torch RNG, so the mid-epoch resume (a new iterator) shifts the "
                            "RNG stream the augmenter uses; weights differ from the uninterrupted run")),
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
