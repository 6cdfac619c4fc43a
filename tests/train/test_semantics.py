"""MATLAB trainingOptions and layer factors as the loop applies them."""

from __future__ import annotations

import json
import math

import pytest
import torch

from netspec.backends.torch import to_torch
from netspec.language import load_file
from netspec.train import checkpoint as checkpoint_module
from netspec.train.data import load_source
from netspec.train.loop import _clip, _optimizer, _parameter_groups, _regularize
from netspec.train.run import _evaluate, resolve_options

from .conftest import load_ckpt, make_folder, netspec, read_rows, summary, write_spec


def _train(tmp_path, folder, *extra, name="run", **spec_kwargs):
    spec = write_spec(tmp_path / f"{name}.net", **spec_kwargs)
    run = tmp_path / name
    result = netspec("train", spec, "--data", folder, "--out", run, "--quiet", *extra)
    assert result.code == 0, result
    return spec, run


def _network(spec):
    return load_file(spec).network


def test_learn_rate_factor_zero_freezes_a_layer(tmp_path, folder2):
    spec, run = _train(tmp_path, folder2, conv=",'WeightLearnRateFactor',0,'BiasLearnRateFactor',0",
                       options="'sgdm', 'MaxEpochs',2, 'MiniBatchSize',8, 'InitialLearnRate',1e-3")
    initial = to_torch(_network(spec), seed=0).state_dict()  # the loop initializes with --seed (0)
    trained = load_ckpt(run / "last.pt")
    model = trained["model"]
    assert torch.equal(model["layers.conv.weight"], initial["layers.conv.weight"])
    assert torch.equal(model["layers.conv.bias"], initial["layers.conv.bias"])
    assert not torch.equal(model["layers.fc.linear.weight"], initial["layers.fc.linear.weight"])
    assert not torch.equal(model["layers.fc.linear.bias"], initial["layers.fc.linear.bias"])
    # the frozen tensors are not in the optimizer at all
    assert sum(len(g["params"]) for g in trained["optimizer"]["param_groups"]) == 2


def test_factors_become_parameter_groups(tmp_path):
    spec = write_spec(tmp_path / "f.net", conv=",'WeightL2Factor',2",
                      fc_opts=",'WeightLearnRateFactor',10,'BiasLearnRateFactor',10",
                      options="'sgdm', 'InitialLearnRate',0.01, 'L2Regularization',1e-3")
    network = _network(spec)
    options = resolve_options(network, {})
    model = to_torch(network, seed=0)
    groups = _parameter_groups(model, network, options)
    layers = model.layers
    of = {id(p): g for g in groups for p in g["params"]}
    conv_w, conv_b = of[id(layers["conv"].weight)], of[id(layers["conv"].bias)]
    fc = [of[id(p)] for p in layers["fc"].parameters()]
    assert conv_w["lr"] == pytest.approx(0.01) and conv_w["l2"] == pytest.approx(2e-3)
    assert conv_b["lr"] == pytest.approx(0.01) and conv_b["l2"] == 0.0  # BiasL2Factor defaults to 0
    for group in fc:
        assert group["lr"] == pytest.approx(0.1)  # WeightLearnRateFactor 10: 10x the learning rate
    assert fc[0]["l2"] == pytest.approx(1e-3) and fc[1]["l2"] == 0.0
    optimizer = _optimizer(groups, options)
    assert [g["lr"] for g in optimizer.param_groups] == [g["lr"] for g in groups]
    assert [g["l2"] for g in optimizer.param_groups] == [g["l2"] for g in groups]
    # with no GradientThreshold, the L2 term is the optimizer's weight decay (see the clipping test below)
    assert [g["weight_decay"] for g in optimizer.param_groups] == [g["l2"] for g in groups]
    assert all(g["momentum"] == 0.9 for g in optimizer.param_groups)


def test_l2_is_added_to_the_gradient_before_it_is_clipped(tmp_path):
    """MATLAB's trainer regularizes the gradients, then thresholds them ('l2norm': each learnable
    on its own), then updates: the step equals SGD on the clipped gradient of the regularized loss
    E + L2Regularization/2 * sum(L2Factor * |w|^2), computed here by autograd."""
    spec = write_spec(tmp_path / "f.net", conv=",'WeightL2Factor',3",
                      options="'sgdm', 'InitialLearnRate',0.1, 'Momentum',0, 'L2Regularization',0.05, "
                              "'GradientThreshold',0.01")
    network = _network(spec)
    options = resolve_options(network, {})
    model = to_torch(network, seed=0)
    for parameter in model.parameters():  # weights big enough for the L2 term to change the clipped direction
        parameter.data.normal_(0, 1)
    x, y = torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 0, 1])
    factors = {id(model.layers["conv"].weight): 3.0, id(model.layers["fc"].linear.weight): 1.0}
    before = {name: p.detach().clone() for name, p in model.named_parameters()}

    loss = torch.nn.functional.cross_entropy(model(x, output="fc").flatten(1), y)
    regularized = loss + sum(0.05 / 2 * factors.get(id(p), 0.0) * p.pow(2).sum() for p in model.parameters())
    expected = {}
    for (name, p), grad in zip(model.named_parameters(), torch.autograd.grad(regularized, list(model.parameters()))):
        norm = grad.norm()
        expected[name] = before[name] - 0.1 * (grad * 0.01 / norm if norm > 0.01 else grad)

    optimizer = _optimizer(_parameter_groups(model, network, options), options)
    assert all(group["weight_decay"] == 0 for group in optimizer.param_groups)  # _regularize adds it instead
    torch.nn.functional.cross_entropy(model(x, output="fc").flatten(1), y).backward()
    _regularize(optimizer)
    _clip(model, options)
    optimizer.step()
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.detach(), expected[name], rtol=1e-5, atol=1e-6)


def test_piecewise_schedule_and_factor_in_training(tmp_path, folder2):
    _, run = _train(tmp_path, folder2, fc_opts=",'WeightLearnRateFactor',10",
                    options="'sgdm', 'MaxEpochs',5, 'MiniBatchSize',16, 'InitialLearnRate',1e-3, "
                            "'LearnRateSchedule','piecewise', 'LearnRateDropPeriod',2, 'LearnRateDropFactor',0.5")
    rows = read_rows(run)
    per_epoch = {}
    for row in rows:
        per_epoch.setdefault(int(row["epoch"]), set()).add(float(row["learn_rate"]))
    assert per_epoch == {1: {1e-3}, 2: {1e-3}, 3: {5e-4}, 4: {5e-4}, 5: {2.5e-4}}
    groups = load_ckpt(run / "last.pt")["optimizer"]["param_groups"]
    rates = {round(g["lr"], 12): g for g in groups}
    assert set(rates) == {2.5e-4, 2.5e-3}
    assert rates[2.5e-3]["lr_factor"] == 10  # the factor-10 group keeps its ratio after the drops


def test_validation_patience_stops_early(tmp_path, folder2):
    # a learning rate far below float32 resolution: the validation loss never improves after the first check
    _, run = _train(tmp_path, folder2, options="'sgdm', 'MaxEpochs',20, 'MiniBatchSize',8, "
                                              "'InitialLearnRate',1e-12, 'ValidationFrequency',1, "
                                              "'ValidationPatience',3")
    info = summary(run)
    assert info["stopped"] == "validation-patience"
    assert info["iterations"] < 20 * 4
    rows = read_rows(run)
    assert int(rows[-1]["iteration"]) == info["iterations"]
    best, stale = math.inf, []
    for row in rows:
        if row["val_loss"]:
            loss = float(row["val_loss"])
            stale.append(0 if loss < best else stale[-1] + 1 if stale else 1)
            best = min(best, loss)
    assert stale[-1] == 3 and max(stale[:-1]) < 3
    assert info["iterations"] == 4
    assert info["epochs"] == 1  # the epoch the run stopped in counts


@pytest.mark.parametrize("solver, lr, extra", [
    ("sgdm", 0.01, {"momentum": 0.9}),
    ("adam", 0.001, {"betas": (0.9, 0.999), "eps": 1e-8}),
    ("rmsprop", 0.001, {"alpha": 0.9, "eps": 1e-8}),
])
def test_solver_defaults(tmp_path, solver, lr, extra):
    spec = write_spec(tmp_path / "s.net", options=f"'{solver}'")
    network = _network(spec)
    options = resolve_options(network, {})
    assert options.initial_learn_rate == lr
    assert options.max_epochs == 30 and options.mini_batch_size == 128 and options.l2_regularization == 1e-4
    assert options.validation_frequency == 50 and math.isinf(options.validation_patience)
    assert options.shuffle == "once" and options.learn_rate_schedule == "none"
    optimizer = _optimizer(_parameter_groups(to_torch(network, seed=0), network, options), options)
    for group in optimizer.param_groups:
        for key, value in extra.items():
            assert group[key] == pytest.approx(value)
    # --solver switches the solver and its defaults
    assert resolve_options(_network(write_spec(tmp_path / "t.net", options="'sgdm'")),
                           {"solver": solver}).initial_learn_rate == lr


def test_adam_default_rate_in_training(tmp_path, folder2):
    _, run = _train(tmp_path, folder2, options="'adam', 'MaxEpochs',1, 'MiniBatchSize',16")
    assert json.loads((run / "options.json").read_text())["initial_learn_rate"] == 0.001
    assert {float(r["learn_rate"]) for r in read_rows(run)} == {0.001}
    groups = load_ckpt(run / "last.pt")["optimizer"]["param_groups"]
    assert all(tuple(g["betas"]) == (0.9, 0.999) and g["eps"] == 1e-8 for g in groups)


def test_zerocenter_mean_from_training_data(tmp_path):
    # constant images: class a is 50 everywhere, class b 150; 16 + 16 training images -> mean exactly 100
    folder = make_folder(tmp_path / "data", constant={"a": 50, "b": 150})
    _, run = _train(tmp_path, folder, options="'sgdm', 'MaxEpochs',1, 'MiniBatchSize',8, 'InitialLearnRate',1e-3")
    for name in ("last.pt", "best.pt"):
        mean = load_ckpt(run / name)["model"]["layers.imageinput.mean"]
        assert mean.numel() == 1 and mean.flatten().item() == pytest.approx(100.0)


@pytest.mark.parametrize("output, used", [
    ("best-validation-loss", "best.pt"),
    ("last-iteration", "last.pt"),
    (None, "last.pt"),  # MATLAB's default OutputNetwork is 'last-iteration'
])
def test_output_network_is_what_a_run_folder_means(tmp_path, folder2, output, used):
    chosen = f", 'OutputNetwork','{output}'" if output else ""
    _, run = _train(tmp_path, folder2, options="'sgdm', 'MaxEpochs',1, 'MiniBatchSize',8, 'InitialLearnRate',1e-3, "
                                              f"'ValidationFrequency',2{chosen}")
    assert checkpoint_module.resolve(run) == run / used
    assert checkpoint_module.resolve(run, prefer="best") == run / "best.pt"
    assert checkpoint_module.resolve(run / "best.pt") == run / "best.pt"  # a file is itself
    result = netspec("evaluate", run, "--data", folder2)
    assert result.code == 0, result
    title = "".join(result.out.split())  # rich wraps the title (the checkpoint's path) to the table's width
    assert f"{run.name}/{used}on" in title, result.out
    # the summary's validation figures come from the same checkpoint
    expected = _evaluate(checkpoint_module.load(run / used), load_source(str(folder2), (8, 8, 1))[1])
    assert summary(run)["validation"]["loss"] == pytest.approx(expected["loss"])


BN_SPEC = """layers = [imageInputLayer([8 8 1])
    convolution2dLayer(3,4,'Padding','same')
    batchNormalizationLayer
    reluLayer
    fullyConnectedLayer(2)
    softmaxLayer
    classificationLayer];
options = trainingOptions('sgdm', 'MaxEpochs',2, 'MiniBatchSize',8, 'InitialLearnRate',1e-3, ...
    'ValidationFrequency',2, 'BatchNormalizationStatistics','{mode}');
"""


def _input_moments(payload, images):
    """Mean and (population) variance per channel of what the batch normalization reads: the
    convolution's output, which does not depend on the normalization's own statistics."""
    _, model = checkpoint_module.model_of(payload)
    with torch.no_grad():
        x = model.run(torch.from_numpy(images).float(), capture={"conv"})["conv"]
    x = x.double().transpose(0, 1).reshape(x.shape[1], -1)
    return x.mean(1), x.var(1, unbiased=False)


@pytest.mark.parametrize("mode", ["population", "moving"])
def test_batch_normalization_statistics(tmp_path, folder2, mode):
    """'population' (MATLAB's default): the saved mean and variance are those of the whole training
    set, for last.pt and best.pt alike; 'moving': the running averages of training (decay 0.1)."""
    spec = tmp_path / "bn.net"
    spec.write_text(BN_SPEC.format(mode=mode), encoding="utf-8")
    run = tmp_path / "run"
    result = netspec("train", spec, "--data", folder2, "--out", run, "--quiet")
    assert result.code == 0, result
    training, _, _ = load_source(str(folder2), (8, 8, 1), split=0.8, seed=0)
    for name in ("last.pt", "best.pt"):
        payload = checkpoint_module.load(run / name)
        mean, variance = _input_moments(payload, training.images)
        stored_mean = payload["model"]["layers.batchnorm.running_mean"].double()
        stored_variance = payload["model"]["layers.batchnorm.running_var"].double()
        matches = torch.allclose(stored_mean, mean, rtol=1e-4, atol=1e-4) and \
            torch.allclose(stored_variance, variance, rtol=1e-4, atol=1e-4)
        assert matches == (mode == "population"), (name, stored_mean, mean, stored_variance, variance)
