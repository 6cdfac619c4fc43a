"""The same `netspec train` under torchrun: two CPU ranks, gloo backend, rank 0 writes the run folder."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import pytest
import torch

from netspec.backends.torch import to_torch
from netspec.train import checkpoint

from .conftest import ENV, RUN_FILES, VENV_BIN, load_ckpt, read_rows, summary, write_spec


class Torchrun:
    """`torchrun --standalone --nproc_per_node 2 -m netspec.cli ARGS`, started now, waited for on demand
    (the module's runs overlap: most of their time is importing torch); a hang kills the whole group."""

    def __init__(self, run, log, *args):
        command = [str(VENV_BIN / "python"), "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
                   "2", "-m", "netspec.cli", *map(str, args), "--out", str(run)]
        self.run, self.log = run, log
        self.handle = log.open("w")
        self.process = subprocess.Popen(command, stdout=self.handle, stderr=subprocess.STDOUT, env=ENV,
                                        start_new_session=True)

    def wait(self, timeout: float = 180) -> tuple[int, str]:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            code = -1
        self.handle.close()
        output = self.log.read_text()
        return code, output if code != -1 else f"timed out after {timeout} s (ranks hung)\n{output}"


class Ranks(Torchrun):
    """The two ranks started directly with torchrun's environment (RANK, WORLD_SIZE, MASTER_ADDR/PORT):
    the same code path as under torchrun, one process (one torch import) fewer."""

    def __init__(self, run, log, *args):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.run, self.log = run, log
        self.handle = log.open("w")
        self.processes = []
        for rank in range(2):
            env = {**ENV, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2",
                   "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
            self.processes.append(subprocess.Popen(
                [str(VENV_BIN / "python"), "-m", "netspec.cli", *map(str, args), "--out", str(run)],
                stdout=self.handle, stderr=subprocess.STDOUT, env=env, start_new_session=True))
        self.process = self.processes[0]

    def wait(self, timeout: float = 180) -> tuple[int, str]:
        deadline = time.monotonic() + timeout
        codes = []
        for process in self.processes:
            try:
                codes.append(process.wait(timeout=max(1.0, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                self.stop()
                codes.append(-1)
        self.handle.close()
        output = self.log.read_text()
        if -1 in codes:
            return -1, f"timed out after {timeout} s (ranks hung)\n{output}"
        return max(codes, key=abs), output

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.handle.close()


def start_background(root, folder2):
    """Both DDP jobs start when collection ends and overlap the in-process tests."""
    plain = write_spec(root / "tiny.net",
                       options="'sgdm', 'MaxEpochs',3, 'MiniBatchSize',4, 'InitialLearnRate',1e-3, "
                               "'ValidationFrequency',2")
    patient = write_spec(root / "patient.net",
                         options="'sgdm', 'MaxEpochs',30, 'MiniBatchSize',4, 'ValidationFrequency',1, "
                                 "'ValidationPatience',2")
    return {
        "plain": Torchrun(root / "run", root / "plain.log", "train", plain, "--data", folder2),  # draws its bar
        "patient": Ranks(root / "patient", root / "patient.log", "train", patient, "--data", folder2, "--quiet"),
        "too-small": Ranks(root / "too-small", root / "too-small.log", "train", plain, "--data", folder2,
                           "--quiet", "--batch-size", "1"),
    }


pytestmark = pytest.mark.background


def test_torchrun_two_cpu_ranks(background):
    job = background["plain"]
    code, output = job.wait()
    run = job.run
    assert code == 0, output
    assert "Traceback" not in output
    for name in RUN_FILES:
        assert (run / name).is_file(), name
    info = summary(run)
    assert info["world_size"] == 2
    assert info["device"] == "cpu" and info["stopped"] == "max-epochs"
    # MATLAB's semantics: MiniBatchSize is the global batch, so the iterations are those of one process
    assert info["iterations"] == 3 * (32 // 4)
    assert [int(r["iteration"]) for r in read_rows(run)] == list(range(1, info["iterations"] + 1))
    payload = load_ckpt(run / "last.pt")
    assert payload["iteration"] == info["iterations"]
    assert not any(k.startswith("module.") for k in payload["model"]), "DDP wrapper leaked into the checkpoint"


def test_only_the_lead_rank_draws_progress(background):
    """Rank 0 reports the run's events; the other rank trains silently."""
    job = background["plain"]
    code, output = job.wait()
    assert code == 0, output
    assert output.count("epoch 3/3 ") == 1 and output.count(" 24/24 loss ") == 1, output


def test_two_ranks_train_what_one_process_trains(background, cli, folder2, tmp_path):
    """Each rank takes half of every global mini-batch and DDP averages their gradients, so the
    two-rank run ends with the weights, and validates with the losses, of a one-process run of the
    same spec, data and seed (up to the order of float additions)."""
    job = background["plain"]
    code, output = job.wait()
    assert code == 0, output
    one = cli("train", job.run.parent / "tiny.net", "--data", folder2, "--quiet", "--out", tmp_path / "one")
    assert one.code == 0, one
    two_ranks, one_process = load_ckpt(job.run / "last.pt"), load_ckpt(tmp_path / "one" / "last.pt")
    assert two_ranks["model"].keys() == one_process["model"].keys()
    tolerance = 1e-5  # the runs differ by ~1e-6: float rounding
    for key, value in one_process["model"].items():
        torch.testing.assert_close(two_ranks["model"][key], value, rtol=tolerance, atol=tolerance,
                                   msg=lambda message: f"{key}: {message}")
    # each rank holds half of every mini-batch; metrics.csv reports the whole batch's loss and accuracy
    assert [(float(row["loss"]), row["accuracy"]) for row in read_rows(job.run)] == [
        (pytest.approx(float(row["loss"]), rel=1e-4), row["accuracy"]) for row in read_rows(tmp_path / "one")]
    validated = [(row["iteration"], float(row["val_loss"])) for row in read_rows(tmp_path / "one") if row["val_loss"]]
    assert len(validated) == 12
    assert validated == [(row["iteration"], pytest.approx(float(row["val_loss"]), rel=1e-4))  # 6 digits in the CSV
                         for row in read_rows(job.run) if row["val_loss"]]
    # training moved the weights far beyond the tolerance (~3): the runs did not just agree on the start
    initial = to_torch(checkpoint.network_of(one_process), seed=one_process["seed"]).state_dict()
    moved = max((value - initial[key]).abs().max().item() for key, value in one_process["model"].items()
                if key.endswith("weight"))
    assert moved > 1000 * tolerance


def test_torchrun_validation_patience_stops_every_rank(background):
    """Only rank 0 validates; it broadcasts its patience count, so every rank stops at the same iteration."""
    job = background["patient"]
    code, output = job.wait()
    run = job.run
    assert code == 0, output
    assert "Traceback" not in output
    info = summary(run)
    assert info["stopped"] == "validation-patience"
    assert info["world_size"] == 2 and info["iterations"] < 30 * (32 // 4)
    rows = read_rows(run)
    assert [int(r["iteration"]) for r in rows] == list(range(1, info["iterations"] + 1))
    assert load_ckpt(run / "last.pt")["iteration"] == info["iterations"]


def test_a_batch_smaller_than_the_ranks_is_refused(background):
    """Two processes cannot share a mini-batch of one image: a clear error, nothing written."""
    job = background["too-small"]
    code, output = job.wait()
    assert code == 1, output
    assert "Traceback" not in output
    assert "error[R011]: MiniBatchSize 1 is smaller than the 2 processes" in output
    assert not job.run.exists()
