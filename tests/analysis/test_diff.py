"""`netspec diff`: the pairing of layers, and every delta against independent truth — each network
analyzed on its own, the parameters (`numel`) and layer outputs of its lowered PyTorch module, and
`FlopCounterMode` for the MACs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from typer.testing import CliRunner

import netspec
from netspec.analysis import analyze
from netspec.analysis.diff import diff, is_default_name, match_layers
from netspec.backends.torch import module_name, to_torch
from netspec.cli import app
from netspec.language import load_source

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
runner = CliRunner()


def invoke(*args) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def diff_json(*args) -> dict:
    code, out, err = invoke("diff", *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def parameters(model, name: str) -> int:
    """Learnables of one layer as PyTorch counts them."""
    key = module_name(name)
    return sum(p.numel() for p in model.layers[key].parameters()) if key in model.layers else 0


def measured(network) -> dict:
    """Independent figures of one network: per-layer parameters and output bytes of the lowered module
    (batch 1, float32), and its MACs as FlopCounterMode's total / 2."""
    model = to_torch(network, seed=0).eval()
    inputs = [torch.randn(1, *size) for size in model.input_sizes]
    names = [name for name, _ in model.plan]
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        outputs = model.run(*inputs, capture=set(names))
    return {"parameters": {name: parameters(model, name) for name in names},
            "bytes": {name: 4 * outputs[name].numel() for name in names},
            "macs": counter.get_total_flops() // 2}


def check_against_truth(document: dict, first, second) -> None:
    """Every layer's and the total Δ learnables and Δ activations from the two lowered modules, Δ MACs from
    FlopCounterMode, per-layer MACs and receptive fields from each network analyzed alone."""
    truth = measured(first), measured(second)
    alone = ({r.name: r for r in analyze(first).layers}, {r.name: r for r in analyze(second).layers})
    for row in document["layers"]:
        names = row["name_before"], row["name_after"]
        learnables = [truth[i]["parameters"].get(n, 0) if n else 0 for i, n in enumerate(names)]
        assert row["learnables"]["delta"] == learnables[1] - learnables[0], row
        activations = [truth[i]["bytes"].get(n, 0) if n else 0 for i, n in enumerate(names)]
        assert row["activation_bytes"]["delta"] == activations[1] - activations[0], row
        macs = [alone[i][n].macs if n else 0 for i, n in enumerate(names)]
        assert row["macs"]["delta"] == macs[1] - macs[0], row
        fields = [alone[i][n].receptive_field.display() if n and alone[i][n].receptive_field else None
                  for i, n in enumerate(names)]
        assert [row["receptive_field_before"], row["receptive_field_after"]] == fields
    totals = document["totals"]
    assert totals["learnables"]["delta"] == sum(truth[1]["parameters"].values()) - sum(truth[0]["parameters"].values())
    assert totals["macs"]["delta"] == truth[1]["macs"] - truth[0]["macs"]
    assert totals["activation_bytes"]["delta"] == sum(truth[1]["bytes"].values()) - sum(truth[0]["bytes"].values())
    assert sum(row["learnables"]["delta"] for row in document["layers"]) == totals["learnables"]["delta"]


def test_mnist_against_its_bottleneck():
    document = diff_json(SPECS / "mnist_matlab.net", SPECS / "mnist_bottleneck.net")
    first, second = netspec.load(str(SPECS / "mnist_matlab.net")), netspec.load(str(SPECS / "mnist_bottleneck.net"))
    check_against_truth(document, first, second)
    by_status = {status: [row for row in document["layers"] if row["status"] == status]
                 for status in ("added", "removed", "changed", "unchanged")}
    [added] = by_status["added"]
    assert added["name_after"] == "conv_3" and added["output_after"] == "14×14×16"
    assert {(o["option"], o["after"]) for o in added["options"]} == {("FilterSize", "[1 1]"), ("NumFilters", "16")}
    assert by_status["removed"] == [] and by_status["changed"] == []
    renamed = next(row for row in document["layers"] if row["name_before"] == "conv_3")
    assert renamed["name_after"] == "conv_4" and renamed["matched_by"] == "position"
    assert renamed["learnables"] == {"before": 18_496, "after": 9_280, "delta": -9_216}
    assert document["totals"]["macs"] == {"before": 4_754_176, "after": 3_048_192, "delta": -1_705_984}
    assert document["totals"]["added"] == 1 and document["totals"]["layers"]["delta"] == 1
    # the layers in the second network's order, and the reverse diff is the mirror image
    assert [row["name_after"] for row in document["layers"]] == [layer.name for layer in second.layers]
    reverse = diff_json(SPECS / "mnist_bottleneck.net", SPECS / "mnist_matlab.net")
    assert [row["status"] for row in reverse["layers"]].count("removed") == 1
    assert reverse["totals"]["learnables"]["delta"] == -document["totals"]["learnables"]["delta"]


def test_alexnet_against_the_transfer_network_in_one_file():
    file = SPECS / "transfer_alexnet.net"
    document = diff_json(file, "--net", "net", "--net", "lgraph", "--set", "numClasses=4")
    first = netspec.load(str(file), net="net", set={"numClasses": "4"})
    second = netspec.load(str(file), net="lgraph", set={"numClasses": "4"})
    check_against_truth(document, first, second)
    changed = [row for row in document["layers"] if row["status"] == "changed"]
    assert [(row["name_before"], row["name_after"]) for row in changed] == [("fc8", "fc")]
    assert {o["option"]: (o["before"], o["after"]) for o in changed[0]["options"]} == {
        "OutputSize": ("1000", "4"), "WeightLearnRateFactor": ("1", "10"), "BiasLearnRateFactor": ("2", "10")}
    assert changed[0]["learnables"]["delta"] == (4096 * 4 + 4) - (4096 * 1000 + 1000)
    assert document["totals"]["learnables"] == {"before": 60_965_224, "after": 56_884_612, "delta": -4_080_612}
    renamed = {row["name_before"]: row["name_after"] for row in document["layers"] if row["status"] == "unchanged"}
    assert renamed["prob"] == "softmax" and renamed["conv5"] == "conv5"


def test_the_same_network_in_two_files(tmp_path):
    copy = tmp_path / "copy.net"
    copy.write_text((SPECS / "googlenet.net").read_text())
    document = diff_json(SPECS / "googlenet.net", copy)
    assert {row["status"] for row in document["layers"]} == {"unchanged"}
    assert all(row["matched_by"] is not None and row["name_before"] == row["name_after"] for row in document["layers"])
    code, out, _ = invoke("diff", SPECS / "googlenet.net", copy)
    assert code == 0 and "0 added, 0 removed, 0 changed" in out


NAMED = """layers = [imageInputLayer([16 16 3], 'Name', 'in')
    convolution2dLayer(3, {filters}, 'Name', '{conv}')
    reluLayer
    fullyConnectedLayer(10, 'Name', 'fc')
    softmaxLayer
    classificationLayer];
"""


def networks(**changes):
    first = load_source(NAMED.format(filters=8, conv="c1"), "a.net").network
    second = load_source(NAMED.format(**{"filters": 8, "conv": "c1", **changes}), "b.net").network
    return first, second


def test_named_layers_pair_by_name_only():
    first, second = networks(filters=16)
    rows = {(a.name if a else None, b.name if b else None): how for a, b, how in match_layers(first, second)}
    assert rows[("c1", "c1")] == "name"
    result = diff(first, second, analyze(first), analyze(second))
    conv = next(row for row in result.layers if row.name_after == "c1")
    assert conv.status == "changed" and [(o.option, o.before, o.after) for o in conv.options] == [
        ("NumFilters", "8", "16")]
    fc = next(row for row in result.layers if row.name_after == "fc")
    assert fc.status == "unchanged" and fc.learnables.delta == 14 * 14 * 8 * 10  # its input doubled (3×3, no padding: 14×14)
    # two names the user chose are two layers, even with the same options
    first, second = networks(conv="c2")
    statuses = {(row.name_before, row.name_after): row.status for row in diff(first, second, analyze(first),
                                                                              analyze(second)).layers}
    assert statuses[("c1", None)] == "removed" and statuses[(None, "c2")] == "added"


def test_default_names():
    first, _ = networks()
    # 'in' and 'c1' are chosen; relu, softmax and classoutput are MATLAB's; 'fc' is too, though written out
    assert [is_default_name(layer) for layer in first.layers] == [False, False, True, True, True, True]


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_human_formats_show_the_deltas(fmt):
    code, out, err = invoke("diff", SPECS / "mnist_matlab.net", SPECS / "mnist_bottleneck.net", "--format", fmt)
    assert code == 0, err
    assert "conv_3 → conv_4" in out and "-1,705,984" in out and "+528" in out
    assert "learnables 148,778 → 140,090 (-8,688, -5.8%)" in out
    assert ("imageinput" in out) is False  # unchanged layers only with --all
    code, out, _ = invoke("diff", SPECS / "mnist_matlab.net", SPECS / "mnist_bottleneck.net", "--format", fmt,
                          "--all")
    assert "imageinput" in out


@pytest.mark.parametrize("args, message", [
    (["specs/mnist_matlab.net"], "two files"),
    (["specs/mnist_matlab.net", "--net", "layers"], "two files"),
    (["specs/mnist_matlab.net", "specs/lenet5.net", "specs/alexnet.net"], "got 3 files"),
    (["specs/mnist_matlab.net", "specs/lenet5.net", "--net", "a", "--net", "b", "--net", "c"], "at most two"),
])
def test_usage_errors(args, message):
    code, _, err = invoke("diff", *[ROOT / a if a.startswith("specs/") else a for a in args])
    assert code == 2 and message in err


def test_a_network_with_errors_exits_1(tmp_path):
    bad = tmp_path / "bad.net"
    bad.write_text("layers = [imageInputLayer([8 8 1])\n    convolution2dLayer(3, 4, 'Stide', 2)];\n")
    code, out, err = invoke("diff", SPECS / "mnist_matlab.net", bad)
    assert code == 1 and f"{bad}:2:30" in err and out == ""


def test_diff_imports_neither_torch_nor_onnx():
    code = ("import sys\nfrom netspec.cli import main\n"
            "sys.argv = ['netspec', 'diff', 'specs/resnet18.net', 'specs/resnet50.net']\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "print('HEAVY', ','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'onnx', 'onnxruntime'))))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "HEAVY \n" in result.stdout or result.stdout.rstrip().endswith("HEAVY")


def test_symbolic_sizes_give_formulas_and_no_delta_where_they_differ():
    text = "layers = [imageInputLayer([H W 3])\n convolution2dLayer(3, {})\n reluLayer\n fullyConnectedLayer(10)\n" \
           " softmaxLayer\n classificationLayer];\n"
    first, second = (load_source(text.format(n), f"{n}.net").network for n in (8, 16))
    rows = {row.name: row for row in diff(first, second, analyze(first), analyze(second)).layers}
    assert rows["conv"].learnables.delta == 3 * 3 * 3 * 8 + 8  # independent of the input size
    assert rows["conv"].macs.delta is None and isinstance(rows["conv"].macs.after, str)
    assert rows["imageinput"].activation_bytes.delta == 0 and isinstance(rows["imageinput"].activation_bytes.after,
                                                                         str)
