"""The command line: `check`, `parse`, `schema` exit codes and output streams."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netspec.cli import app
from netspec.ir import Network
from netspec.text import spreadsheet_text

ROOT = Path(__file__).parents[1]
SPECS = ROOT / "specs"
SPEC_FILES = sorted(SPECS.glob("*.net"))

runner = CliRunner()

BAD = 'layers = [imageInputLayer([28 28 1])\n    convolution2dLayer(3, 8, "Stide", 2)];\n'


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def bad_file(tmp_path) -> Path:
    path = tmp_path / "bad.net"
    path.write_text(BAD)
    return path


def test_check_all_specs():
    result = invoke("check", *SPEC_FILES, "--set", "numClasses=4")
    assert result.exit_code == 0, result.stderr
    for path in SPEC_FILES:
        assert f"{path}: ok" in result.stdout
    assert "error" not in result.stderr


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_check_each_spec(path):
    result = invoke("check", path, "--set", "numClasses=4")
    assert result.exit_code == 0, result.stderr
    assert re.search(r"ok \(\d+ layers, \d+ connections", result.stdout)


def test_check_bad_file_reports_location(bad_file):
    result = invoke("check", bad_file)
    assert result.exit_code == 1
    assert f"{bad_file}:2:30" in result.stderr
    assert "Stride" in result.stderr  # the suggestion
    assert "^" in result.stderr  # the caret excerpt
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


def test_check_reports_each_file_and_fails_if_any_fails(bad_file):
    good = SPECS / "mnist_matlab.net"
    result = invoke("check", good, bad_file)
    assert result.exit_code == 1
    assert f"{good}: ok" in result.stdout
    assert "1 of 2 files failed" in result.stderr


def test_check_syntax_error(tmp_path):
    path = tmp_path / "syntax.net"
    path.write_text("x = 1;\nlayers = [reluLayer\n")
    result = invoke("check", path)
    assert result.exit_code == 1
    assert re.search(re.escape(str(path)) + r":\d+:\d+", result.stderr)
    assert "Traceback" not in result.stderr


def test_check_without_set_fails_with_hint():
    result = invoke("check", SPECS / "transfer_alexnet.net")
    assert result.exit_code == 1
    assert "--set numClasses=" in result.stderr


def test_check_net_option(tmp_path):
    path = tmp_path / "two.net"
    path.write_text("layers = [imageInputLayer([8 8 1]); reluLayer];\nother = [imageInputLayer([8 8 1]); "
                    "reluLayer; tanhLayer];\n")
    result = invoke("check", path, "--net", "other")
    assert result.exit_code == 0 and "3 layers" in result.stdout
    result = invoke("check", path, "--net", "missing")
    assert result.exit_code == 1 and "missing" in result.stderr


def test_missing_file_exits_cleanly(tmp_path):
    result = invoke("check", tmp_path / "nope.net")
    assert result.exit_code == 1
    assert "nope.net" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("assignment", ["numClasses", "=4", "1x=4", "numClasses=", "x=[1"])
def test_malformed_set_exits_1(assignment):
    result = invoke("check", SPECS / "mnist_matlab.net", "--set", assignment)
    assert result.exit_code == 1
    assert "--set" in result.stderr or "E" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_parse_json():
    result = invoke("parse", SPECS / "mnist_matlab.net", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["name"] == "layers" and len(data["layers"]) == 10
    assert data["layers"][0]["kind"] == "image_input"
    assert data["training"]["solver"] == "sgdm" and data["training"]["max_epochs"] == 3
    assert Network.model_validate_json(result.stdout).layers[1].name == "conv_1"


def test_parse_table():
    result = invoke("parse", SPECS / "mnist_matlab.net")
    assert result.exit_code == 0, result.stderr
    assert "conv_1" in result.stdout and "classoutput" in result.stdout


def test_parse_bad_file(bad_file):
    result = invoke("parse", bad_file, "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{bad_file}:2:30" in result.stderr


def test_schema_is_json():
    result = invoke("schema")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["title"] == "Network" and "layers" in document["properties"]


def test_warnings_go_to_stderr_and_check_still_passes(tmp_path):
    path = tmp_path / "warn.net"
    path.write_text("data = loadMyData();\nlayers = [imageInputLayer([8 8 1]); ClassificationLayer];\n")
    result = invoke("check", path)
    assert result.exit_code == 0, result.stderr
    assert "W105" in result.stderr and "W104" in result.stderr
    assert "2 warnings" in result.stdout


def test_m_file(tmp_path):
    path = tmp_path / "net.m"
    path.write_text((SPECS / "mnist_matlab.net").read_text())
    result = invoke("check", path)
    assert result.exit_code == 0, result.stderr


# -- spec text on the terminal -------------------------------------------------------------------

HOSTILE_SPEC = """layers = [imageInputLayer([8 8 1], 'Name', ['in' char([27 93 48 59 116 7 27 91 50 74])])
    reluLayer('Name', '[bold]loud[/bold]')
    fullyConnectedLayer(2, 'Name', ['fc|' char([10 155]) 'x'])
    softmaxLayer
    classificationLayer];
"""
"""Layer names that retitle the terminal and clear it, hold rich markup, a table's `|` and a line break."""


@pytest.mark.parametrize("args", [["parse"], ["analyze"], ["analyze", "--format", "markdown"]])
def test_layer_names_reach_the_terminal_as_text(tmp_path, args):
    path = tmp_path / "hostile.net"
    path.write_text(HOSTILE_SPEC, encoding="utf-8")
    result = runner.invoke(app, [*args, str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    output = result.stdout + result.stderr
    assert not {"\x1b", "\x07", "\x9b"} & set(output), repr(output)
    assert "[bold]loud[/bold]" in output and r"in\x1b]0;t\x07\x1b[2J" in output
    assert r"fc|\n\x9bx" in output or r"fc\|\n\x9bx" in output  # markdown escapes its cell separator


def test_layer_names_reach_a_spreadsheet_as_text(tmp_path):
    """A CSV cell that starts like a formula is run by the spreadsheet that opens it."""
    path = tmp_path / "formulas.net"
    path.write_text("""layers = [imageInputLayer([8 8 1], 'Name', '=HYPERLINK("http://x","y")')
    reluLayer('Name', '@SUM(A1:A9)')
    fullyConnectedLayer(2, 'Name', '-1')
    softmaxLayer
    classificationLayer];
""", encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(path), "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["name"] for row in rows[:3]] == ["'=HYPERLINK(\"http://x\",\"y\")", "'@SUM(A1:A9)", "-1"]
    assert rows[1]["inputs"].startswith("'=HYPERLINK(")
    assert spreadsheet_text("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0" and spreadsheet_text("a=b") == "a=b"


@pytest.mark.parametrize("digits", ["²8", "٣", "５"])
def test_input_size_refuses_digits_of_other_scripts(digits):
    result = run_netspec("analyze", "specs/mnist_matlab.net", "--input-size", digits, "28", "1")
    assert result.returncode == 2, result.stderr
    assert f"'{digits}' is neither a positive whole number nor a symbol name" in result.stderr


def test_export_batch_refuses_digits_of_other_scripts(tmp_path):
    result = invoke("export", SPECS / "mnist_matlab.net", "-o", tmp_path / "m.onnx", "--batch", "²")
    assert result.exit_code == 2 and "--batch" in result.stderr
    assert not list(tmp_path.iterdir())


# -- real processes ----------------------------------------------------------------------------

def run_netspec(*args: str) -> subprocess.CompletedProcess:
    code = "import sys; from netspec.cli import main; sys.argv = ['netspec', *sys.argv[1:]]; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_subprocess_check_and_exit_codes(tmp_path):
    ok = run_netspec("check", "specs/mnist_matlab.net")
    assert ok.returncode == 0, ok.stderr
    assert "specs/mnist_matlab.net: ok" in ok.stdout
    bad = tmp_path / "bad.net"
    bad.write_text(BAD)
    failed = run_netspec("check", str(bad))
    assert failed.returncode == 1
    assert f"{bad}:2:30" in failed.stderr and "Traceback" not in failed.stderr
    missing = run_netspec("check", str(tmp_path / "missing.net"))
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    usage = run_netspec("check")
    assert usage.returncode == 2


def test_check_does_not_import_torch_or_onnx():
    code = ("import sys\nfrom netspec.cli import main\nsys.argv = ['netspec', 'check', 'specs/resnet50.net']\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'onnx', 'onnxruntime', "
            "'torchvision'))\n"
            "print('HEAVY', ','.join(heavy))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    line = next(l for l in result.stdout.splitlines() if l.startswith("HEAVY"))
    heavy = [m for m in line[len("HEAVY "):].split(",") if m]
    assert not [m for m in heavy if m.split(".")[0] in ("torch", "onnx", "onnxruntime", "torchvision")], heavy


def test_console_script():
    script = Path(sys.executable).parent / "netspec"
    if not script.exists():
        pytest.skip("the netspec console script is not installed next to this interpreter")
    result = subprocess.run([str(script), "check", "specs/lenet5.net"], capture_output=True, text=True, cwd=ROOT,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "specs/lenet5.net: ok" in result.stdout


def test_a_named_command_runs_alone_and_reads_as_before():
    """main() builds only the invoked command (typer builds all of them otherwise); its usage,
    errors and exit codes must read exactly as under the full app."""
    from netspec.cli import _invoked, app

    alone, how = _invoked(["parse", "x.net", "--json"])
    assert [info.callback.__name__ for info in alone.registered_commands] == ["parse_command"]
    assert how == {"args": ["x.net", "--json"], "prog_name": "netspec parse"}
    assert _invoked(["visualize", "filters"])[0] is app  # a group: the full app dispatches it
    assert _invoked(["--help"])[0] is app and _invoked([])[0] is app
    for argv in (["analyze"], ["analyze", "specs/mnist_matlab.net", "--format", "yaml"]):
        through_main = run_netspec(*argv)
        through_app = runner.invoke(app, argv, prog_name="netspec")
        assert through_main.returncode == through_app.exit_code == 2
        assert through_main.stderr.splitlines()[0] == "Usage: netspec analyze [OPTIONS] {FILE}"
        assert through_main.stderr.splitlines()[-1] in through_app.output
    words = run_netspec("analyze", "--help").stdout.split()  # the wrapping width differs
    assert words == runner.invoke(app, ["analyze", "--help"], prog_name="netspec").output.split()


def test_path_lets_imports_read_a_folder_outside_the_spec_tree(tmp_path: Path):
    """Imports stay in the spec's folder tree unless the user names another folder with --path."""
    (tmp_path / "project").mkdir()
    (tmp_path / "helpers" / "deep").mkdir(parents=True)
    (tmp_path / "helpers" / "deep" / "head.net").write_text("head = [fullyConnectedLayer(3) softmaxLayer];\n")
    spec = tmp_path / "project" / "net.net"
    spec.write_text('import "../helpers/deep/head.net"\nlayers = [featureInputLayer(4); head];\n')
    refused = invoke("check", spec)
    assert refused.exit_code == 1 and "E605" in refused.output
    allowed = invoke("check", spec, "--path", tmp_path / "helpers")
    assert allowed.exit_code == 0, allowed.output
    assert "ok (3 layers" in allowed.output
    elsewhere = invoke("check", spec, "--path", tmp_path / "project")
    assert elsewhere.exit_code == 1 and "E605" in elsewhere.output
