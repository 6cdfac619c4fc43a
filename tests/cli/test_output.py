"""One way out: results on stdout, "wrote …" lines and diagnostics on stderr, `--quiet` the same
everywhere, and no command printing through a console of its own."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from train.conftest import netspec

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "specs" / "mnist_matlab.net"
PACKAGE = ROOT / "netspec"


@pytest.mark.parametrize("args, written", [
    (["export", SPEC, "-o", "{tmp}/m.onnx"], ["m.onnx"]),
    (["export", SPEC, "-o", "{tmp}/m.py"], ["m.py"]),
    (["graph", SPEC, "-o", "{tmp}/m.dot"], ["m.dot"]),
], ids=["export-onnx", "export-pytorch", "graph"])
def test_wrote_lines_go_to_stderr_and_quiet_silences_them(tmp_path, args, written):
    args = [str(a).format(tmp=tmp_path) for a in args]
    result = netspec(*args)
    assert result.code == 0, result
    assert result.out == ""
    assert [line.split(" (")[0] for line in result.err.splitlines()] == [f"wrote {tmp_path / name}" for name in written]
    for name in written:
        (tmp_path / name).unlink()
    quiet = netspec(*args, "--quiet")
    assert quiet.code == 0 and quiet.out == quiet.err == "", quiet
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(written)


def test_export_of_weights_announces_both_files(tmp_path):
    run = tmp_path / "run"
    from train.conftest import ONE_EPOCH, make_folder, write_spec

    spec = write_spec(tmp_path / "tiny.net", options=ONE_EPOCH)
    assert netspec("train", spec, "--data", make_folder(tmp_path / "data", n=4), "--out", run, "-q").code == 0
    result = netspec("export", spec, "--weights", run, "-o", tmp_path / "model.py")
    assert result.code == 0 and result.out == "", result
    assert [line.split(" (")[0] for line in result.err.splitlines()] == \
        [f"wrote {tmp_path / 'model.py'}", f"wrote {tmp_path / 'model.pt'}"]


def test_quiet_check_prints_only_what_went_wrong(tmp_path):
    quiet = netspec("check", SPEC, "-q")
    assert quiet.code == 0 and quiet.out == quiet.err == "", quiet
    bad = tmp_path / "bad.net"
    bad.write_text("layers = [imageInputLayer([8 8 1]) reluLayer(]\n")
    failed = netspec("check", SPEC, bad, "-q")
    assert failed.code == 1 and failed.out == "", failed
    assert f"{bad}:1:" in failed.err and "error[" in failed.err and "failed" not in failed.err


def test_quiet_and_json_do_not_go_together():
    result = netspec("check", SPEC, "--quiet", "--format", "json")
    assert result.code == 2 and "--quiet" in result.err and result.out == "", result


def test_json_stays_parseable_beside_diagnostics(tmp_path):
    path = tmp_path / "warn.net"
    path.write_text("data = loadMyData();\nlayers = [imageInputLayer([8 8 1]); ClassificationLayer];\n")
    for command, code in (("check", 0), ("parse", 0), ("analyze", 1)):  # analyze: no softmax before the loss
        result = netspec(command, path, "--json")
        assert result.code == code and "warning[W105]" in result.err, result
        assert isinstance(json.loads(result.out), dict)


def test_the_dtype_is_checked_where_the_analysis_checks_it():
    import netspec as library
    from netspec.analysis import analyze

    with pytest.raises(ValueError) as refused:
        analyze(library.load(SPEC), dtype="float7")
    result = netspec("analyze", SPEC, "--dtype", "float7")
    assert result.code == 2 and str(refused.value) in " ".join(result.err.split()), result


def _calls(path: Path) -> set[str]:
    return {node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))}


def test_only_the_output_object_makes_consoles_and_echoes():
    """Every command writes through netspec.cli.output.Output."""
    printing = {"Console", "echo", "secho"}
    found = {str(path.relative_to(PACKAGE)): sorted(_calls(path) & printing) for path in PACKAGE.rglob("*.py")}
    assert {path: calls for path, calls in found.items() if calls} == {"cli/output.py": ["Console", "echo"]}


@pytest.mark.parametrize("module", ["netspec", "netspec.cli"])
def test_python_dash_m(module):
    done = subprocess.run([sys.executable, "-m", module, "check", str(SPEC)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{SPEC}: ok (10 layers, 9 connections; network layers (named like a network))\n"
