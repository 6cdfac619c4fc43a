"""`--format json` (and `--json`) on every command that reports data: the JSON validates against
the schema `netspec schema --for COMMAND` publishes, and holds the numbers the human output shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from train.conftest import ONE_EPOCH, make_folder, netspec, write_spec
from typer.testing import CliRunner

from netspec.cli import app
from netspec.cli.reports import SCHEMAS
from netspec.cli.spec_commands import REPORTING_COMMANDS
from netspec.ir.catalogue import LAYERS

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"

runner = CliRunner()


def invoke(*args) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def published(command: str) -> dict:
    code, out, err = invoke("schema", "--for", command)
    assert code == 0, err
    return json.loads(out)


def validated(command: str, *args, exit_code: int = 0):
    """The command's JSON (the same with --json and --format json), checked against its schema."""
    code, out, err = invoke(command, *args, "--format", "json")
    assert code == exit_code, err
    assert invoke(command, *args, "--json")[1] == out
    document = json.loads(out)
    jsonschema.validate(document, published(command))
    return document


def test_every_reporting_command_publishes_a_schema():
    assert set(SCHEMAS) == set(REPORTING_COMMANDS)
    for command in REPORTING_COMMANDS:
        jsonschema.Draft202012Validator.check_schema(published(command))


def test_schema_keeps_its_defaults():
    assert published("parse") == json.loads(invoke("schema")[1])  # the IR, as before --for
    assert published("analyze") == json.loads(invoke("schema", "--analysis")[1])
    code, _, err = invoke("schema", "--for", "train")
    assert code == 2 and "check, parse, analyze, layers, evaluate, predict, schema" in err
    code, _, err = invoke("schema", "--analysis", "--for", "check")
    assert code == 2 and "--for analyze" in err


def test_a_schema_is_a_json_schema():
    document = validated("schema", "--for", "check")
    assert document["title"] == "CheckReport" and "files" in document["properties"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"type": 12}, published("schema"))


def test_check(tmp_path):
    files = [SPECS / "mnist_matlab.net", SPECS / "resnet18.net"]
    document = validated("check", *files)
    text = invoke("check", *files)[1]
    assert document["failed"] == 0
    assert [f"{entry['file']}: ok ({entry['layers']} layers, {entry['connections']} connections; "
            f"network {entry['variable']} ({entry['chosen_because']}))" for entry in document["files"]] == text.splitlines()
    assert [(entry["network"], entry["layers"]) for entry in document["files"]] == [("layers", 10), ("lgraph", 71)]


def test_check_of_a_file_with_errors(tmp_path):
    bad = tmp_path / "bad.net"
    bad.write_text('layers = [imageInputLayer([28 28 1])\n    convolution2dLayer(3, 8, "Stide", 2)];\n')
    document = validated("check", SPECS / "lenet5.net", bad, exit_code=1)
    assert document["failed"] == 1
    good, failed = document["files"]
    assert good["ok"] and good["diagnostics"] == []
    assert not failed["ok"] and failed["network"] is None and failed["layers"] is None
    diagnostic = failed["diagnostics"][0]
    assert diagnostic["severity"] == "error" and diagnostic["code"] in invoke("check", bad)[2]
    assert (diagnostic["span"]["file"], diagnostic["span"]["line"], diagnostic["span"]["column"]) == (str(bad), 2, 30)


def test_check_json_keeps_the_warnings(tmp_path):
    path = tmp_path / "warn.net"
    path.write_text("data = loadMyData();\nlayers = [imageInputLayer([8 8 1]); ClassificationLayer];\n")
    assert "2 warnings" in invoke("check", path)[1]
    document = validated("check", path)
    assert document["files"][0]["ok"]
    assert sorted(d["code"] for d in document["files"][0]["diagnostics"]) == ["W104", "W105"]


def test_parse():
    document = validated("parse", SPECS / "googlenet.net")
    table = invoke("parse", SPECS / "googlenet.net", "--all")[1]
    assert len(document["layers"]) == len(re.findall(r"^│ *\d+ ", table, flags=re.M)) == 144
    assert len(document["connections"]) == 170  # as `netspec check` counts them
    assert document["layers"][1]["name"] == "conv1-7x7_s2" and "conv1-7x7_s2" in table


def test_analyze():
    document = validated("analyze", SPECS / "mnist_matlab.net")
    table = invoke("analyze", SPECS / "mnist_matlab.net")[1]
    assert document["totals"]["learnables"] == 148_778 and f"{document['totals']['learnables']:,}" in table
    assert document["totals"]["macs"] == 4_754_176 and f"{document['totals']['macs']:,}" in table
    symbolic = validated("analyze", SPECS / "resnet18.net", "--input-size", "H W 3")
    assert "H" in symbolic["totals"]["macs"]


def test_layers():
    document = validated("layers")
    assert len(document) == len(LAYERS) == len(re.findall(r"^\| `", invoke("layers", "--markdown")[1], flags=re.M))
    conv = next(entry for entry in document if entry["constructor"] == "convolution2dLayer")
    assert conv["default_name"] == "conv"
    assert [(a["name"], a["required"]) for a in conv["arguments"]] == [("FilterSize", True), ("NumFilters", True)]
    assert {"name": "Stride", "required": False, "default": [1, 1]} in conv["options"]
    assert invoke("layers", "--format", "markdown")[1] == invoke("layers", "--markdown")[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("json")
    data = make_folder(root / "data", n=10)
    result = netspec("train", write_spec(root / "tiny.net", options=ONE_EPOCH), "--data", data, "--out",
                     root / "run", "--quiet")
    assert result.code == 0, result
    return root / "run", data


def run_json(*args) -> tuple[dict | list, str]:
    """`netspec ARGS --format json` through main(), checked against the published schema; and its stderr."""
    result = netspec(*args, "--format", "json")
    assert result.code == 0, result
    document = json.loads(result.out)
    jsonschema.validate(document, published(args[0]))
    return document, result.err


def test_evaluate(trained, tmp_path):
    run, data = trained
    picture = tmp_path / "confusion.png"
    document, err = run_json("evaluate", run, "--data", data, "-o", picture)
    assert err == f"wrote {picture} (confusion matrix)\n"
    assert document["images"] == 20 and document["data"] == str(data) and document["figure"] == str(picture)
    assert [c["name"] for c in document["classes"]] == ["a", "b"]
    assert [sum(row) for row in document["confusion"]] == [c["images"] for c in document["classes"]] == [10, 10]
    correct = [document["confusion"][i][i] for i in range(2)]
    assert [c["correct"] for c in document["classes"]] == correct
    assert document["accuracy"] == pytest.approx(sum(correct) / 20)
    assert picture.is_file() and document["confusion_csv"] is None
    table = netspec("evaluate", run, "--data", data)
    assert f"accuracy {100 * document['accuracy']:.2f}%" in " ".join(table.out.split())
    assert f"loss {document['loss']:.4f}" in " ".join(table.out.split())


def test_predict(trained):
    run, data = trained
    images = [data / "a" / "000.png", data / "b" / "003.png"]
    document, err = run_json("predict", run, *images)
    assert err == ""
    assert [row["image"] for row in document] == [str(image) for image in images]
    text = netspec("predict", run, *images).out.splitlines()
    assert text == [f"{row['image']}: {row['class']} ({100 * row['probability']:.1f}%)" for row in document]


def test_diff():
    document = validated("diff", SPECS / "mnist_matlab.net", SPECS / "mnist_bottleneck.net")
    table = invoke("diff", SPECS / "mnist_matlab.net", SPECS / "mnist_bottleneck.net")[1]
    totals = document["totals"]
    assert f"MACs {totals['macs']['before']:,} → {totals['macs']['after']:,} ({totals['macs']['delta']:,}" in table
    one_file = validated("diff", SPECS / "transfer_alexnet.net", "--net", "net", "--net", "lgraph",
                         "--set", "numClasses=4")
    assert one_file["totals"]["changed"] == 1


def test_profile():
    code, out, err = invoke("profile", SPECS / "lenet5.net", "--batch-size", "2", "--repeat", "2", "--device", "cpu",
                            "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    jsonschema.validate(document, published("profile"))
    assert [row["name"] for row in document["layers"]][0] == "input"
