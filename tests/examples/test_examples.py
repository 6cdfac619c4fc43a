"""The course companion in examples/: each script in --quick mode, its numbers checked against
truth computed here (closed forms, the lowered PyTorch modules, the checkpoints themselves).

The scripts are imported from their files and `main([...])` is called, so one process pays
for torch once; the analyzer-only scripts also run as `python examples/X.py`. One torch
thread, as in tests/train: faster on a small machine, and results identical across runs.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from netspec.backends.torch import to_torch

torch.set_num_threads(1)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def example(name: str):
    """examples/NAME.py as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), *args], capture_output=True, text=True,
                          env=ENV, timeout=120)


def lowered_learnables(network) -> int:
    return sum(p.numel() for p in to_torch(network).parameters())


# --------------------------------------------------------------------------- receptive fields

def test_receptive_field_matches_closed_form_and_parameter_count():
    module = example("receptive_field_growth")
    channels = 64
    result = module.main(["--quick", "--channels", str(channels)])
    assert {(row["kernel"], row["depth"]) for row in result["stacks"]} == {(k, d) for k in (3, 5, 7) for d in (1, 2, 3)}
    for row in result["stacks"]:
        k, d = row["kernel"], row["depth"]
        assert row["receptive_field"] == 1 + d * (k - 1)
        assert row["learnables"] == d * (k * k * channels * channels + channels)
    seven = {row["kernel"]: row for row in result["same_field"][7]}
    assert (seven[3]["depth"], seven[3]["weights_per_c2"]) == (3, 27)
    assert (seven[7]["depth"], seven[7]["weights_per_c2"]) == (1, 49)
    assert result["same_field"][7][0]["kernel"] == 3  # cheapest first
    # conv3 conv3 pool2/2 conv3 conv3 pool2/2 conv3, by hand
    assert [row["receptive_field"] for row in result["pooled"]] == [1, 3, 5, 6, 10, 14, 16, 24]
    assert [row["jump"] for row in result["pooled"]] == [1, 1, 1, 2, 2, 2, 4, 4]


def test_receptive_field_script_runs():
    completed = run_script("receptive_field_growth", "--quick")
    assert completed.returncode == 0, completed.stderr
    assert "27·C²" in completed.stdout and "49·C²" in completed.stdout
    assert "for all 9 stacks" in completed.stdout.replace("\n", " ")


# --------------------------------------------------------------------------- 1×1 bottlenecks

def test_bottleneck_macs_match_the_hand_formula():
    module = example("bottleneck_arithmetic")
    result = module.main([])
    height = width = 14
    cin, k, cout = 480, 5, 48
    course = result["course"]
    assert course["direct_macs"] == 112_896_000 == height * width * k * k * cin * cout
    assert course["bottleneck_macs"] == 5_268_480
    assert course["reduced_channels"] == 16
    assert course["direct_learnables"] == k * k * cin * cout + cout
    assert [row["reduced_channels"] for row in result["sweep"]] == [8, 16, 32, 64, 128, 256]
    for row in result["sweep"]:
        r = row["reduced_channels"]
        assert row["reduce_macs"] == height * width * cin * r
        assert row["bottleneck_macs"] == height * width * cin * r + height * width * k * k * r * cout
        assert row["direct_macs"] == course["direct_macs"]
        assert row["bottleneck_learnables"] == (cin * r + r) + (k * k * r * cout + cout)
    assert result["sweep"][1]["bottleneck_macs"] == course["bottleneck_macs"]  # r = 16 is the course's example


def test_bottleneck_script_runs():
    completed = run_script("bottleneck_arithmetic", "--quick")
    assert completed.returncode == 0, completed.stderr
    assert "112,896,000" in completed.stdout and "5,268,480" in completed.stdout


# --------------------------------------------------------------------------- LeNet vs MLP

@pytest.fixture(scope="module")
def lenet_vs_mlp(tmp_path_factory):
    out = tmp_path_factory.mktemp("lenet_vs_mlp")
    module = example("lenet_vs_mlp")
    return module, module.main(["--quick", "--out", str(out)])


def test_lenet_and_mlp_have_the_same_learnables(lenet_vs_mlp):
    module, result = lenet_vs_mlp
    lenet, dense = result["networks"]["LeNet-5"], result["networks"]["fully connected"]
    assert lenet["learnables"] == 61_706
    assert abs(dense["learnables"] - lenet["learnables"]) / lenet["learnables"] < 0.01
    for row in (lenet, dense):
        network = module.load_network(Path(row["spec"]), result["normalization"])
        assert row["learnables"] == lowered_learnables(network)


def test_lenet_and_mlp_macs_match_flop_counter(lenet_vs_mlp):
    from torch.utils.flop_counter import FlopCounterMode

    module, result = lenet_vs_mlp
    for row in result["networks"].values():
        network = module.load_network(Path(row["spec"]), result["normalization"])
        height, width, channels = network.layers[0].input_size
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            to_torch(network)(torch.zeros(1, channels, height, width))
        assert row["macs"] == counter.get_total_flops() // 2


def test_lenet_and_mlp_train_and_score_on_the_test_set(lenet_vs_mlp):
    _, result = lenet_vs_mlp
    assert result["epochs"] == 1 and result["normalization"] == "zscore"
    for row in result["networks"].values():
        assert row["test_images"] == 1000
        assert row["iterations"] == 4800 // 128  # one epoch of the 80% training share, batch 128
        assert 0.5 < row["test_accuracy"] <= 1.0  # one epoch is far above chance (10%)
        network_json = (Path(row["run"]) / "network.json").read_text()
        assert '"normalization":"zscore"' in network_json.replace(" ", "")


# --------------------------------------------------------------------------- transfer learning

@pytest.fixture(scope="module")
def transfer(tmp_path_factory):
    out = tmp_path_factory.mktemp("transfer")
    return out, example("transfer_learning").main(["--quick", "--out", str(out)])


def load_weights(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)["model"]


def test_transfer_keeps_frozen_layers_bit_identical(transfer):
    out, result = transfer
    (row,) = result["runs"]
    assert row["frozen"]["layers"] == ["conv_1", "batchnorm", "conv_2", "conv_3"]
    assert row["frozen"]["identical"]
    assert row["frozen"]["values"] == (9 * 16 + 16) + 2 * 16 + (9 * 16 * 32 + 32) + (9 * 32 * 64 + 64)
    assert {"conv_1", "batchnorm", "conv_2", "conv_3"} <= set(row["copied_layers"])
    assert "fc_new" not in row["copied_layers"]
    # independently of the script: the checkpoints themselves
    base, tuned = load_weights(out / "base" / "last.pt"), load_weights(out / "transfer_10" / "last.pt")
    scratch = load_weights(out / "scratch_10" / "last.pt")
    for key in ("conv_1.weight", "conv_1.bias", "batchnorm.weight", "batchnorm.bias", "conv_2.weight",
                "conv_2.bias", "conv_3.weight", "conv_3.bias"):
        assert torch.equal(tuned[f"layers.{key}"], base[f"layers.{key}"]), key
        assert not torch.equal(scratch[f"layers.{key}"], base[f"layers.{key}"]), key
    assert "layers.fc.linear.weight" in base and "layers.fc_new.linear.weight" in tuned


def test_transfer_scores_both_runs(transfer):
    out, result = transfer
    (row,) = result["runs"]
    assert row["images_per_class"] == 10 and row["iterations"] == 3 * (5 * 10 // 10)
    for accuracy in (row["transfer_accuracy"], row["scratch_accuracy"], result["base"]["test_accuracy"]):
        assert 0.0 <= accuracy <= 1.0
    assert result["base"]["test_accuracy"] > 0.5
    assert sorted(p.name for p in (out / "data" / "train_5-9_10").iterdir()) == ["5", "6", "7", "8", "9"]
    assert len(list((out / "data" / "test_5-9").glob("*/*.png"))) == 5 * result["test_per_class"]


# --------------------------------------------------------------------------- netspec visualize

def test_look_inside_writes_four_pictures(lenet_vs_mlp, tmp_path):
    if importlib.util.find_spec("netspec.visualize") is None:
        pytest.skip("`netspec visualize` is not part of this checkout")
    _, result = lenet_vs_mlp
    run = result["networks"]["LeNet-5"]["run"]
    completed = subprocess.run(["bash", str(EXAMPLES / "look_inside.sh"), "--quick", "--run", run,
                                "--layer", "tanh1", "--out", str(tmp_path)],
                               capture_output=True, text=True, timeout=180,
                               env={**ENV, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{ENV['PATH']}"})
    assert completed.returncode == 0, completed.stderr
    for name in ("filters", "activations", "gradcam", "dream"):
        assert f"$ netspec visualize {name}" in completed.stdout
        with Image.open(tmp_path / f"{name}.png") as picture:
            assert picture.width >= 100 and picture.height >= 100


def test_look_inside_rejects_unknown_arguments():
    completed = subprocess.run(["bash", str(EXAMPLES / "look_inside.sh"), "--bogus"], capture_output=True, text=True)
    assert completed.returncode == 2 and "unknown argument" in completed.stderr
