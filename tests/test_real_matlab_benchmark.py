"""benchmarks/real_matlab.py sorts a folder of .m files into its outcomes (own tiny files, whole check processes)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "real_matlab.py"

LAYERS = """[imageInputLayer([28 28 1],'Name','in')
    convolution2dLayer(3,8,'Padding','same','Name','conv')
    reluLayer('Name','relu')
    fullyConnectedLayer({classes},'Name','fc')
    softmaxLayer('Name','sm')
    classificationLayer('Name','out')]"""

FILES = {
    "repo/reads.m": f"layers = {LAYERS.format(classes=10)};\n",
    "repo/needs_set.m": f"layers = {LAYERS.format(classes='numClasses')};\n",
    "repo/broken.m": (f"lgraph = layerGraph({LAYERS.format(classes=10)});\n"
                      "lgraph = connectLayers(lgraph, 'fc', 'nowhere');\n"),
    "repo/scale.m": "function y = scale(x)\ny = 2 * x;\nend\n",
}


@pytest.fixture(scope="module")
def benchmark():
    spec = importlib.util.spec_from_file_location("real_matlab", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def results(benchmark, tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    for name, text in FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    expected = folder / "broken.txt"
    expected.write_text("repo/broken.m E303  # connects to a layer that does not exist\n", encoding="utf-8")
    found = benchmark.classify_folder(folder, benchmark.read_expected_broken(expected))
    return {result.file: result for result in found}


def test_each_file_gets_its_outcome(benchmark, results):
    Outcome = benchmark.Outcome
    assert {name: result.outcome for name, result in results.items()} == {
        "repo/reads.m": Outcome.READ,
        "repo/needs_set.m": Outcome.READ_WITH_BINDINGS,
        "repo/broken.m": Outcome.RIGHT_ERROR,
        "repo/scale.m": Outcome.NOT_A_NETWORK,
    }


def test_the_suggested_name_is_bound_with_a_guessed_value(results):
    assert results["repo/needs_set.m"].bindings == {"numClasses": "10"}
    assert results["repo/needs_set.m"].layers == 6
    assert results["repo/reads.m"].bindings == {}


def test_counts_leave_helpers_out_of_the_share(benchmark, results):
    report = benchmark.summary(list(results.values()))
    assert report["network_files"] == 3
    assert report["not_network_files"] == 1
    assert report["read_percent"] == pytest.approx(66.7)
    assert (report["supported_files"], report["read_percent_of_supported"]) == (2, 100.0)
    assert report["outcomes"][benchmark.Outcome.RIGHT_ERROR.value] == 1
    assert report["causes"] == []


def test_a_broken_file_not_listed_is_a_wrong_failure_with_its_cause(benchmark, results, tmp_path):
    (tmp_path / "broken.m").write_text(FILES["repo/broken.m"], encoding="utf-8")
    [result] = benchmark.classify_folder(tmp_path, {})
    assert result.outcome is benchmark.Outcome.WRONG
    assert result.located
    assert result.cause == "E303 no layer named '…' in the graph"


def test_a_helper_with_parameters_that_a_sibling_calls_is_not_counted(benchmark, tmp_path):
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "block.m").write_text(
        "function layers = block(n)\nlayers = [convolution2dLayer(3, n)\nreluLayer];\nend\n", encoding="utf-8")
    (tmp_path / "repo" / "main.m").write_text("layers = [imageInputLayer([8 8 1]); block(4)];\n", encoding="utf-8")
    codes = {path: benchmark._code(path) for path in sorted(tmp_path.rglob("*.m"))}
    assert benchmark.file_kind(tmp_path, tmp_path / "repo" / "block.m", codes) == "helper called by main.m"
    assert benchmark.file_kind(tmp_path, tmp_path / "repo" / "main.m", codes) == "network"


def test_a_script_that_builds_no_layers_is_not_counted(benchmark, tmp_path):
    """Data preparation and plotting scripts sit beside the network code in real repositories."""
    (tmp_path / "prepare.m").write_text("data = load('x.mat');\nplot(data.y)\n", encoding="utf-8")
    codes = {path: benchmark._code(path) for path in sorted(tmp_path.rglob("*.m"))}
    assert benchmark.file_kind(tmp_path, tmp_path / "prepare.m", codes) == "script (no layers)"


def test_guessed_values_follow_the_name(benchmark):
    assert [benchmark.guessed_value(n) for n in ("numClasses", "filterSize", "inputSize", "hiddenUnits")] == \
        ["10", "3", "[64 64 3]", "32"]
    # in a sequence network an input size is a feature count; an image size stays an image's
    assert [benchmark.guessed_value(n, sequences=True) for n in ("inputSize", "numFeatures", "imageInputSize")] == \
        ["12", "12", "[64 64 3]"]


def test_a_value_the_help_line_gives_is_bound_as_given(benchmark):
    output = ("error[E405]: the network `layers` depends on `poolType`, which netspec cannot compute\n"
              " = help: bind it: --set \"poolType='max'\", or give `f`'s arguments with --args\n"
              "error[E405]: the network `layers` depends on `numClasses`, which netspec cannot compute\n"
              " = help: give it a value on the command line: --set numClasses=VALUE\n")
    run = benchmark.Run(1, output, 0.0, {})
    assert benchmark.suggested_bindings(run) == {"poolType": "'max'", "numClasses": "10"}


def test_an_error_about_a_bound_name_means_the_binding_did_not_help(benchmark):
    output = ("error[E125]: a number has no property 'Layers'\n"
              " --> train.m:7:20\n  |\n7 | size = net.Layers(1).InputSize;\n  |        ^^^^^^^^^^\n\n"
              "warning[W105]: unknown variable `opts`\n = help: bind it: --set opts=VALUE\n")
    error, warning = benchmark.parse_diagnostics(output)
    assert (error.code, error.located, error.source) == ("E125", True, "size = net.Layers(1).InputSize;")
    assert (warning.severity, warning.located, warning.hints) == ("warning", False, ["bind it: --set opts=VALUE"])
    assert benchmark._about(error, {"net": "32"})
    assert not benchmark._about(error, {"numClasses": "10"})


@pytest.mark.parametrize("program, outcome, cause", [
    ("import sys; sys.stderr.write('netspec: internal error: KeyError: x\\n'); sys.exit(3)", "CRASH",
     "netspec: internal error: KeyError: x"),
    ("import time; time.sleep(5)", "TIMEOUT", "no answer in 0.5 s"),
])
def test_crashes_and_timeouts_are_counted_apart_even_on_helpers(benchmark, tmp_path, monkeypatch, program, outcome,
                                                                cause):
    monkeypatch.setattr(benchmark, "NETSPEC", [sys.executable, "-c", program])
    (tmp_path / "scale.m").write_text(FILES["repo/scale.m"], encoding="utf-8")
    [result] = benchmark.classify_folder(tmp_path, {}, timeout=0.5)
    assert (result.outcome, result.cause) == (benchmark.Outcome[outcome], cause)
