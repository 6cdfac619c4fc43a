"""Helpers for the training tests: tiny image folders, tiny specs, the CLI in-process and as a process.

Everything runs on one torch thread: on a small, busy machine two OpenMP threads make an 8x8
convolution ~10x slower, and one thread keeps results bit-identical across processes.

Tests that need whole processes (torchrun, kill -9) are slow mostly because every process imports
torch; a module can define `start_background(root, folder2) -> dict` to launch them as soon as
collection ends, so they run beside the in-process tests. Its tests (marked `background`) run last
and take the started jobs from the `background` fixture.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

torch.set_num_threads(1)

VENV_BIN = Path(sys.executable).parent
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
ENV.pop("NETSPEC_DEBUG", None)

RUN_FILES = ["best.pt", "last.pt", "metrics.csv", "metrics.json", "training-progress.png", "confusion.png",
             "summary.json", "spec.net", "network.json", "options.json"]


def make_folder(root: Path, classes=("a", "b"), n: int = 20, size=(8, 8), rgb: bool = False,
                seed: int = 0, constant: dict[str, int] | None = None) -> Path:
    """One sub-folder per class of n PNGs; class k is bright in the k-th vertical band (separable)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    h, w = size
    for k, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            if constant is not None:
                image = np.full((h, w), constant[name], dtype=np.uint8)
            else:
                image = rng.integers(0, 40, (h, w)).astype(np.uint8)
                band = w // len(classes)
                image[:, k * band:(k + 1) * band] += 180
            if rgb:
                image = np.stack([image, image // 2, 255 - image], axis=-1)
            Image.fromarray(image).save(folder / f"{i:03d}.png")
    return root


def spec_text(options: str = "'sgdm', 'MaxEpochs',2, 'MiniBatchSize',8, 'InitialLearnRate',1e-3",
              fc: int = 2, conv: str = "", fc_opts: str = "", input_size: str = "8 8 1") -> str:
    options_line = f"options = trainingOptions({options});\n" if options is not None else ""
    return (f"layers = [imageInputLayer([{input_size}])\n"
            f"    convolution2dLayer(3,4,'Padding','same'{conv})\n"
            f"    reluLayer\n"
            f"    fullyConnectedLayer({fc}{fc_opts})\n"
            f"    softmaxLayer\n"
            f"    classificationLayer];\n" + options_line)


def write_spec(path: Path, **kwargs) -> Path:
    path.write_text(spec_text(**kwargs), encoding="utf-8")
    return path


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> None:
    """An IDX file of unsigned bytes (MNIST's format), gzip-compressed or raw."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.tobytes()
    if compress:
        with gzip.open(str(path) + ".gz", "wb") as handle:
            handle.write(data)
    else:
        path.write_bytes(data)


def make_mnist(folder: Path, n_train: int = 30, n_test: int = 10, side: int = 28, compress: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for split, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 3).astype(np.uint8)
        images = rng.integers(0, 30, (n, side, side)).astype(np.uint8)
        for i, label in enumerate(labels):
            images[i, :, label * side // 3:(label + 1) * side // 3] += 200
        write_idx(folder / f"{split}-images-idx3-ubyte", images, compress)
        write_idx(folder / f"{split}-labels-idx1-ubyte", labels, compress)
    return folder


ONE_EPOCH = "'sgdm', 'MaxEpochs',1, 'MiniBatchSize',8, 'InitialLearnRate',1e-3"


def assert_clean_failure(result: "Result", code: str, exit_code: int = 1) -> None:
    """A user error: the code's diagnostic, the exit code, and no traceback or internal error."""
    assert result.code == exit_code, result
    assert f"error[{code}]" in result.err, result
    assert "Traceback" not in result.err + result.out
    assert "internal error" not in result.err


@pytest.fixture
def spec(tmp_path):
    """A tiny spec trained for one epoch."""
    return write_spec(tmp_path / "tiny.net", options=ONE_EPOCH)


def read_rows(run: Path) -> list[dict[str, str]]:
    with (run / "metrics.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())


def load_ckpt(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


class Result:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"Result(code={self.code}, out={self.out[-2000:]!r}, err={self.err[-2000:]!r})"


def netspec(*args) -> Result:
    """`netspec ARGS` in this process, through the real entry point (netspec.cli.main)."""
    import contextlib
    import io

    from netspec.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv, {k: os.environ.get(k) for k in ("NETSPEC_DEBUG", "WORLD_SIZE", "COLUMNS")}
    sys.argv = ["netspec", *map(str, args)]
    os.environ.pop("NETSPEC_DEBUG", None)
    os.environ.pop("WORLD_SIZE", None)
    os.environ["COLUMNS"] = "250"
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved[0]
        for key, value in saved[1].items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli():
    return netspec


def run_process(*args, cwd: Path | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "netspec"), *map(str, args)], capture_output=True, text=True,
                          env=ENV, cwd=cwd, timeout=timeout)


_EARLY: dict = {"root": None, "jobs": {}}


def _early_root() -> Path:
    if _EARLY["root"] is None:
        _EARLY["root"] = Path(tempfile.mkdtemp(prefix="netspec-train-tests-"))
        make_folder(_EARLY["root"] / "data2")
    return _EARLY["root"]


def pytest_configure(config):
    config.addinivalue_line("markers", "background: uses processes started when collection ends")


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: item.get_closest_marker("background") is not None)  # stable: these last


def pytest_collection_finish(session):
    modules = {item.module for item in session.items if item.get_closest_marker("background") is not None}
    for module in sorted(modules, key=lambda m: m.__name__):
        start = getattr(module, "start_background", None)
        if start is not None:
            root = _early_root() / module.__name__.rsplit(".", 1)[-1]
            root.mkdir()
            _EARLY["jobs"][module.__name__] = start(root, _early_root() / "data2")


def pytest_sessionfinish(session, exitstatus):
    for jobs in _EARLY["jobs"].values():
        for job in jobs.values():
            stop = getattr(job, "stop", None)
            if stop is not None:
                stop()
    if _EARLY["root"] is not None:
        shutil.rmtree(_EARLY["root"], ignore_errors=True)


@pytest.fixture(scope="module")
def background(request):
    jobs = _EARLY["jobs"].get(request.module.__name__)
    assert jobs is not None, "start_background did not run for this module"
    return jobs


@pytest.fixture(scope="session")
def folder2() -> Path:
    """2 classes x 20 grey 8x8 PNGs: 16 + 16 train, 4 + 4 validation with --split 0.8."""
    return _early_root() / "data2"


@pytest.fixture(scope="session")
def folder3(tmp_path_factory) -> Path:
    return make_folder(tmp_path_factory.mktemp("data3"), classes=("a", "b", "c"), n=10)
