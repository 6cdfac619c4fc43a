"""A program or package a command needs and the installation lacks (Graphviz's `dot`, onnx,
onnxruntime) is the user's to install: a message with the install command and exit 1, or the
documented fallback, never "internal error … this is a bug" (exit 3)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from train.conftest import netspec

SPEC = Path(__file__).resolve().parents[2] / "specs" / "mnist_matlab.net"


def absent(monkeypatch, package: str, *importers: str) -> None:
    """`import package` fails as on an installation without it; `importers` (netspec modules that
    import it at their top) are imported afresh, so they meet the absence."""
    monkeypatch.setitem(sys.modules, package, None)
    for module in importers:
        monkeypatch.delitem(sys.modules, module, raising=False)


def assert_install_hint(result, package: str) -> None:
    assert result.code == 1, result
    assert f"needs the Python package '{package}', which is not installed" in result.err
    assert f"pip install {package}" in result.err
    assert "internal error" not in result.err and "Traceback" not in result.err


def test_export_without_onnx(monkeypatch, tmp_path):
    absent(monkeypatch, "onnx", "netspec.backends.onnx")
    result = netspec("export", SPEC, "-o", tmp_path / "m.onnx")
    assert_install_hint(result, "onnx")
    assert "`netspec export`" in result.err and not (tmp_path / "m.onnx").exists()


def test_train_without_torch(monkeypatch, tmp_path):
    absent(monkeypatch, "torch", "netspec.train.run", "netspec.train.loop", "netspec.train.checkpoint",
           "netspec.train.data", "netspec.train.augment", "netspec.train.plots", "netspec.backends.torch")
    assert_install_hint(netspec("train", SPEC, "--out", tmp_path / "run"), "torch")


def test_a_missing_netspec_module_is_still_a_bug(monkeypatch, tmp_path):
    """Only the optional packages read as the installation's doing: netspec's own modules are netspec's."""
    absent(monkeypatch, "netspec.backends.pytorch_source")
    result = netspec("export", SPEC, "-o", tmp_path / "m.py")
    assert result.code == 3 and "internal error: ModuleNotFoundError" in result.err, result


def test_graph_without_dot_on_the_path(monkeypatch, tmp_path):
    """No `dot` anywhere on PATH: the DOT file is written, with the command that renders it and how
    to install Graphviz (exit 1: the picture asked for was not made; issue 13)."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    out = tmp_path / "net.svg"
    result = netspec("graph", SPEC, "-o", out)
    assert result.code == 1, result
    assert (tmp_path / "net.dot").read_text().startswith("digraph") and not out.exists()
    assert f"dot -Tsvg {tmp_path / 'net.dot'} -o {out}" in result.err
    assert "apt-get install graphviz" in result.err and "internal error" not in result.err


@pytest.mark.parametrize("package", ["onnx", "onnxruntime"])
def test_predict_without_onnx_or_onnxruntime(monkeypatch, tmp_path, package):
    absent(monkeypatch, package, "netspec.backends.onnx")
    model, image = tmp_path / "m.onnx", tmp_path / "x.png"
    model.write_bytes(b"")
    image.write_bytes(b"")
    result = netspec("predict", model, image)
    assert_install_hint(result, package)
    assert "`netspec predict`" in result.err
