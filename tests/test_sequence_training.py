"""Sequence data and training: the .ts and CSV readers, MATLAB's padding of a mini-batch, the
bundled Japanese Vowels data, and `netspec train` / `evaluate` / `predict` on sequences.

Every data file is made here (nothing from /work/shared); the padded tensors are written out by
hand from the rules of MATLAB's trainingOptions (SequenceLength, SequencePaddingDirection,
SequencePaddingValue)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from netspec.datasets import sequences
from netspec.datasets.sequences import (SequenceDataset, japanese_vowels, pad_batch, read_csv_folder,
                                        read_sequence_csv, read_ts, split_windows)
from netspec.diagnostics import NetspecError
from netspec.ir import TrainingOptions
from netspec.language import load_source
from netspec.train.feed import SequenceFeed, inference_batches

torch.set_num_threads(1)

TINY = """\
layers = [sequenceInputLayer(2{input_options})
    convolution1dLayer(3,8,'Padding','same')
    reluLayer
    globalAveragePooling1dLayer
    fullyConnectedLayer(3)
    softmaxLayer
    classificationLayer];
options = trainingOptions('adam','MaxEpochs',12,'MiniBatchSize',10,'InitialLearnRate',0.02, ...
    'Shuffle','every-epoch','GradientThreshold',1{options});
"""
"""A tiny 1-D convolutional classifier of 2-channel sequences into 3 classes."""

OFFSETS = {"up": (1.0, 0.0), "down": (-1.0, 0.0), "side": (0.0, 1.5)}
"""Class -> mean of each channel: the generated classes are separable, with noise."""


def ts_text(cases: list[tuple[np.ndarray, str]], labels=tuple(OFFSETS)) -> str:
    """A .ts file of (T×C sequence, label) cases; NaN is written '?'."""
    lines = ["# made by the test", "@problemName Generated", "@timeStamps false", "@univariate false",
             f"@dimensions {cases[0][0].shape[1]}", "@equalLength false", f"@classLabel true {' '.join(labels)}",
             "@data"]
    for sequence, label in cases:
        dims = [",".join("?" if np.isnan(v) else f"{v:.6g}" for v in sequence[:, c]) for c in range(sequence.shape[1])]
        lines.append(":".join(dims) + f":{label}")
    return "\n".join(lines) + "\n"


def generated(count: int, seed: int) -> list[tuple[np.ndarray, str]]:
    rng = np.random.default_rng(seed)
    names = list(OFFSETS)
    cases = []
    for i in range(count):
        label = names[i % len(names)]
        length = int(rng.integers(6, 20))
        cases.append((rng.normal(0, 0.6, (length, 2)) + np.asarray(OFFSETS[label]), label))
    return cases


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """gen_TRAIN.ts (60 cases) and gen_TEST.ts (30) beside it."""
    root = tmp_path_factory.mktemp("sequences")
    (root / "gen_TRAIN.ts").write_text(ts_text(generated(60, 0)))
    (root / "gen_TEST.ts").write_text(ts_text(generated(30, 1)))
    return root


def netspec(*args, cwd: Path | None = None) -> tuple[int, str, str]:
    """`netspec ARGS` in this process through the real entry point: (status, stdout, stderr)."""
    import contextlib
    import io
    import os

    from netspec.cli import main

    out, err, saved = io.StringIO(), io.StringIO(), (sys.argv, os.getcwd())
    sys.argv = ["netspec", *map(str, args)]
    status = 0
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved[0]
        os.chdir(saved[1])
    assert "Traceback" not in err.getvalue()
    return status, out.getvalue(), err.getvalue()


# -- readers -------------------------------------------------------------------------------------------

def test_ts_reader_variable_lengths_missing_values_and_labels(tmp_path):
    path = tmp_path / "x.ts"
    path.write_text("#comment\n@problemName x\n@dimensions 2\n@classLabel true b a\n@data\n"
                    "1,2,3:4,5,6:a\n"
                    "\n"
                    "7,?,9,?,?:10,11,12,?,?:b\n")
    dataset = read_ts(path)
    assert dataset.classes == ["b", "a"]  # as declared
    assert dataset.labels.tolist() == [1, 0]
    assert dataset.origins == [f"{path}:6", f"{path}:8"]
    np.testing.assert_array_equal(dataset.sequences[0], [[1, 4], [2, 5], [3, 6]])
    second = dataset.sequences[1]  # the trailing steps missing in both channels are dropped
    assert second.shape == (3, 2) and second.dtype == np.float32
    assert np.isnan(second[1, 0]) and second[1, 1] == 11 and second[2, 1] == 12


@pytest.mark.parametrize("body, line, words", [
    ("1,2:3,4:a\n1,2:a\n", 7, "a case of 1 dimensions"),
    ("1,2:3,x:a\n", 6, "'x' is not a number"),
    ("1,2:3,4:c\n", 6, "the class label 'c'"),
    ("1,2,3:3,4:a\n", 6, "differ in length (3, 2)"),
])
def test_ts_reader_names_the_bad_line(tmp_path, body, line, words):
    path = tmp_path / "bad.ts"
    path.write_text("@problemName x\n@dimensions 2\n@classLabel true a b\n\n@data\n" + body)
    with pytest.raises(NetspecError) as caught:
        read_ts(path)
    diagnostic = caught.value.diagnostic
    assert diagnostic.code == "D012" and words in diagnostic.message
    assert (diagnostic.span.file, diagnostic.span.line) == (str(path), line)


@pytest.mark.parametrize("text, words", [
    ("@problemName x\n1,2:a\n", "a data line before @data"),
    ("@problemName x\n@classLabel true a\n", "no @data line"),
    ("@problemName x\n@classLabel false\n@data\n1,2:3\n", "declares no class labels"),
    ("@problemName x\n@timeStamps true\n@classLabel true a\n@data\n", "time stamps"),
])
def test_ts_reader_refuses_files_it_cannot_read(tmp_path, text, words):
    path = tmp_path / "bad.ts"
    path.write_text(text)
    with pytest.raises(NetspecError, match=words):
        read_ts(path)


def test_csv_reader_detects_a_header_and_reads_missing_cells(tmp_path):
    with_header = tmp_path / "h.csv"
    with_header.write_text("x,y,z\n1,2,3\n4,,6\n\n7,8,NaN\n")
    values = read_sequence_csv(with_header)
    assert values.shape == (3, 3)
    assert values[0].tolist() == [1, 2, 3] and np.isnan(values[1, 1]) and np.isnan(values[2, 2])
    bare = tmp_path / "b.csv"
    bare.write_text("1.5,-2\n3e2,4\n")
    np.testing.assert_array_equal(read_sequence_csv(bare), [[1.5, -2], [300, 4]])
    ragged = tmp_path / "r.csv"
    ragged.write_text("a,b\n1,2\n3\n")
    with pytest.raises(NetspecError) as caught:
        read_sequence_csv(ragged)
    assert caught.value.diagnostic.code == "D012" and caught.value.diagnostic.span.line == 3
    picture = tmp_path / "p.csv"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    with pytest.raises(NetspecError, match="is not a text file"):
        read_sequence_csv(picture)


def test_csv_folder_classes_and_channel_check(tmp_path):
    for name, rows in (("b", "1,2\n3,4\n"), ("a", "5,6\n")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "one.csv").write_text(rows)
    dataset = read_csv_folder(tmp_path)
    assert dataset.classes == ["a", "b"] and dataset.labels.tolist() == [0, 1]
    assert dataset.lengths.tolist() == [1, 2] and dataset.channels == 2
    (tmp_path / "b" / "two.csv").write_text("1,2,3\n")
    with pytest.raises(NetspecError) as caught:
        read_csv_folder(tmp_path)
    assert caught.value.diagnostic.code == "D014" and "two.csv has 3 channels" in caught.value.diagnostic.message


def test_the_test_file_beside_the_training_file(tmp_path):
    (tmp_path / "Some_TRAIN.ts").write_text("")
    assert sequences.test_file_beside(tmp_path / "Some_TRAIN.ts") is None
    (tmp_path / "Some_TEST.ts").write_text("")
    assert sequences.test_file_beside(tmp_path / "Some_TRAIN.ts") == tmp_path / "Some_TEST.ts"


def test_japanese_vowels_is_bundled_as_the_uci_split():
    """UCI's description: 270 training (30 per speaker) and 370 test utterances, 9 speakers,
    12 LPC cepstrum coefficients, 7 to 29 time steps."""
    train, test = japanese_vowels()
    assert (len(train), len(test)) == (270, 370)
    assert train.classes == [str(k) for k in range(1, 10)]
    assert np.bincount(train.labels).tolist() == [30] * 9
    assert {s.shape[1] for s in train.sequences + test.sequences} == {12}
    lengths = np.concatenate([train.lengths, test.lengths])
    assert (lengths.min(), lengths.max()) == (7, 29)
    assert not any(np.isnan(s).any() for s in train.sequences + test.sequences)


# -- padding -------------------------------------------------------------------------------------------

A, B, C = (np.asarray(v, dtype=np.float32).reshape(-1, 1) for v in ([1, 2, 3], [4], [5, 6]))


@pytest.mark.parametrize("length, direction, expected", [
    ("longest", "right", [[1, 2, 3], [4, -1, -1], [5, 6, -1]]),
    ("longest", "left", [[1, 2, 3], [-1, -1, 4], [-1, 5, 6]]),
    ("shortest", "right", [[1], [4], [5]]),
    ("shortest", "left", [[3], [4], [6]]),
])
def test_padding_and_truncation_by_hand(length, direction, expected):
    batch = pad_batch([A, B, C], length, direction, value=-1)
    assert batch.shape == (3, 1, len(expected[0]))  # (N, C, T)
    np.testing.assert_array_equal(batch[:, 0, :], expected)


def test_split_windows():
    assert split_windows(7, 3, "right") == [slice(0, 3), slice(3, 6), slice(6, 7)]
    assert split_windows(7, 3, "left") == [slice(0, 1), slice(1, 4), slice(4, 7)]
    assert split_windows(5, 8) == [slice(0, 5)]


def _feed(**options) -> SequenceFeed:
    dataset = SequenceDataset([A, B, C], np.asarray([0, 1, 0]), ["x", "y"])
    return SequenceFeed(dataset, TrainingOptions(solver="adam", **options))


@pytest.mark.parametrize("direction, windows", [
    ("right", [[[1, 2], [4, 0], [5, 6]], [[3], [0], [0]]]),
    ("left", [[[1], [0], [0]], [[2, 3], [0, 4], [5, 6]]]),
])
def test_sequence_length_n_splits_each_mini_batch_into_extra_steps(direction, windows):
    feed = _feed(sequence_length=2, sequence_padding_direction=direction)
    plan = feed.plan(torch.tensor([0, 1, 2]), batch=3)
    assert len(plan) == 2 and all(step.indices == (0, 1, 2) for step in plan)
    batches = list(feed.loader(plan))
    for (x, y), expected in zip(batches, windows):
        np.testing.assert_array_equal(x[:, 0, :].numpy(), expected)
        assert y.tolist() == [0, 1, 0]


def test_the_whole_mini_batch_sets_the_padded_length_of_each_process_share():
    """Under DDP every process pads its share to the mini-batch's longest sequence (same shapes)."""
    feed = _feed()
    (step,) = feed.plan(torch.tensor([0, 1, 2]), batch=3, rank=1, world=2)
    assert step.indices == (1,) and step.length == 3
    ((x, _),) = list(feed.loader([step]))
    np.testing.assert_array_equal(x[:, 0, :].numpy(), [[4, 0, 0]])


def test_inference_runs_sequences_of_one_length_together_unpadded():
    dataset = SequenceDataset([A, B, C, B * 2], np.zeros(4, dtype=np.int64), ["x"])
    seen = {tuple(indices.tolist()): x.shape for indices, x in inference_batches(dataset)}
    assert seen == {(1, 3): (2, 1, 1), (2,): (1, 1, 2), (0,): (1, 1, 3)}


def test_training_options_read_the_sequence_options():
    text = TINY.format(input_options="", options=",'SequenceLength',5,'SequencePaddingDirection','left',"
                                                 "'SequencePaddingValue',-1")
    result = load_source(text, "t.net")
    options = result.network.training
    assert (options.sequence_length, options.sequence_padding_direction, options.sequence_padding_value) == \
        (5, "left", -1.0)
    assert not [d for d in result.diagnostics if d.code == "W201"]  # no longer ignored


def test_gradient_threshold_takes_both_directions_of_a_bilstm_as_one_learnable():
    """MATLAB's bilstmLayer has one InputWeights (8*H-by-C) for both directions: 'l2norm' scales
    their gradients together, as one learnable."""
    from netspec.train.loop import _clip

    torch.manual_seed(0)
    model = nn.LSTM(3, 4, bidirectional=True)
    model(torch.randn(5, 2, 3))[0].pow(2).sum().backward()
    forward, backward = model.weight_ih_l0, model.weight_ih_l0_reverse
    forward.grad.mul_(100)
    before = torch.cat([forward.grad.flatten(), backward.grad.flatten()]).clone()
    _clip(model, TrainingOptions(solver="adam", gradient_threshold=1.0))
    after = torch.cat([forward.grad.flatten(), backward.grad.flatten()])
    assert after.norm().item() == pytest.approx(1.0, rel=1e-5)
    torch.testing.assert_close(after, before / before.norm())  # one scale for both directions


# -- training, evaluate, predict -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def run(data) -> Path:
    (data / "tiny.net").write_text(TINY.format(input_options=",'Normalization','zscore'", options=""))
    status, _, err = netspec("train", data / "tiny.net", "--data", data / "gen_TRAIN.ts", "--out", data / "run",
                             "--split", "1", "--quiet")
    assert status == 0, err
    return data / "run"


def test_a_tiny_sequence_network_learns(run):
    summary = json.loads((run / "summary.json").read_text())
    assert summary["iterations"] == 12 * (60 // 10)
    assert summary["test"]["images"] == 30
    assert summary["test"]["accuracy"] >= 0.8  # chance: 1/3
    # the achieved FLOP/s count each sequence at the training sequences' mean length (T is a symbol)
    from netspec.analysis import analyze

    network = load_source((run / "spec.net").read_text(), "spec.net").network
    mean_length = round(float(np.mean([len(s) for s in read_ts(run.parent / "gen_TRAIN.ts").sequences])))
    macs = analyze(network, sequence_length=mean_length).totals.macs
    seen = summary["images_per_second"] * summary["seconds"]
    assert summary["achieved_flops_per_second"] == pytest.approx(6 * macs * seen / summary["seconds"], rel=1e-6)


def test_zscore_statistics_come_from_every_time_step_of_the_training_data(run, data):
    state = torch.load(run / "last.pt", map_location="cpu", weights_only=True)["model"]
    (mean,) = [v for k, v in state.items() if k.endswith(".mean")]
    (std,) = [v for k, v in state.items() if k.endswith(".std")]
    steps = np.concatenate(read_ts(data / "gen_TRAIN.ts").sequences).astype(np.float64)
    np.testing.assert_allclose(mean.flatten().numpy(), steps.mean(0), rtol=1e-5)
    np.testing.assert_allclose(std.flatten().numpy(), steps.std(0, ddof=1), rtol=1e-4)


def test_evaluate_a_ts_file_and_predict_csv_and_ts(run, data):
    status, out, err = netspec("evaluate", run, "--data", data / "gen_TEST.ts", "--format", "json")
    assert status == 0, err
    evaluation = json.loads(out)
    summary = json.loads((run / "summary.json").read_text())
    assert evaluation["images"] == 30 and evaluation["accuracy"] == pytest.approx(summary["test"]["accuracy"])
    assert evaluation["unit"] == summary["unit"] == "sequences"
    status, out, err = netspec("evaluate", run, "--data", data / "gen_TEST.ts")
    assert status == 0, err
    assert "(30 sequences): accuracy" in out and "images" not in out
    clear = data / "clear.csv"  # far into the 'side' class
    clear.write_text("a,b\n" + "\n".join(f"0,{2 + 0.1 * t}" for t in range(9)) + "\n")
    status, out, err = netspec("predict", run, clear, data / "gen_TEST.ts", "--format", "json")
    assert status == 0, err
    rows = json.loads(out)
    assert len(rows) == 1 + 30
    assert rows[0]["image"] == str(clear) and rows[0]["class"] == "side"
    assert rows[1]["image"] == f"{data / 'gen_TEST.ts'}:9"  # a .ts case is named by its line


def test_missing_values_in_training_data_are_refused_where_they_are(tmp_path):
    cases = generated(6, 2)
    cases[1][0][2, 0] = np.nan
    (tmp_path / "gaps_TRAIN.ts").write_text(ts_text(cases))
    (tmp_path / "tiny.net").write_text(TINY.format(input_options="", options=""))
    status, _, err = netspec("train", "tiny.net", "--data", "gaps_TRAIN.ts", "--out", "run", cwd=tmp_path)
    assert status == 1
    assert "error[D013]" in err and "gaps_TRAIN.ts:10 has a missing value at time step 3" in err
    assert not (tmp_path / "run" / "last.pt").exists()


def test_a_malformed_ts_line_is_located(tmp_path):
    (tmp_path / "broken_TRAIN.ts").write_text(ts_text(generated(3, 0)).replace(":down", ":left"))
    (tmp_path / "tiny.net").write_text(TINY.format(input_options="", options=""))
    status, _, err = netspec("train", "tiny.net", "--data", "broken_TRAIN.ts", cwd=tmp_path)
    assert status == 1 and "error[D012]" in err and "broken_TRAIN.ts:10:1" in err


def test_sort_by_length_trains_shortest_first(data):
    """MATLAB's sequence-classification example sorts the training sequences by length before
    trainNetwork; --sort-by-length does the same (and the summary records it for --resume)."""
    (data / "plain.net").write_text(TINY.format(input_options="", options=",'Shuffle','never','MaxEpochs',1"))
    status, _, err = netspec("train", data / "plain.net", "--data", data / "gen_TRAIN.ts", "--out", data / "sorted",
                             "--split", "1", "--sort-by-length", "--quiet")
    assert status == 0, err
    assert json.loads((data / "sorted" / "summary.json").read_text())["run"]["sort_by_length"] is True
    from netspec.train.run import _sorted_by_length

    network = load_source(TINY.format(input_options="", options=""), "t.net").network
    ordered = _sorted_by_length(network, read_ts(data / "gen_TRAIN.ts"))
    assert ordered.lengths.tolist() == sorted(read_ts(data / "gen_TRAIN.ts").lengths.tolist())


def test_recurrent_learnables_take_their_own_matlab_factors():
    """InputWeights, RecurrentWeights and Bias each take their factors (BiasL2Factor is 0 by default)."""
    from netspec.backends.torch import to_torch
    from netspec.train.loop import _parameter_groups

    text = ("layers = [sequenceInputLayer(2)\n"
            "    lstmLayer(4,'OutputMode','last','InputWeightsLearnRateFactor',0,'RecurrentWeightsLearnRateFactor',2)\n"
            "    fullyConnectedLayer(3)\n    softmaxLayer\n    classificationLayer];\n")
    network = load_source(text, "t.net").network
    model = to_torch(network)
    options = TrainingOptions(solver="adam", l2_regularization=0.5)
    groups = _parameter_groups(model, network, options)
    core = model.layers["lstm"].core
    assert not core.weight_ih_l0.requires_grad  # factor 0 freezes
    by_parameter = {id(p): (g["lr_factor"], g["l2"]) for g in groups for p in g["params"]}
    assert by_parameter[id(core.weight_hh_l0)] == (2.0, 0.5)
    assert by_parameter[id(core.bias_ih_l0)] == (1.0, 0.0)


def test_an_lstm_padded_on_the_left_learns(data, tmp_path):
    """OutputMode 'last' reads the last time step of the padded mini-batch (as MATLAB does):
    padding on the left puts every sequence's own end there."""
    text = (TINY.format(input_options="", options=",'SequencePaddingDirection','left'")
            .replace("    convolution1dLayer(3,8,'Padding','same')\n    reluLayer\n    globalAveragePooling1dLayer\n",
                     "    lstmLayer(8,'OutputMode','last')\n"))
    (tmp_path / "lstm.net").write_text(text)
    status, _, err = netspec("train", tmp_path / "lstm.net", "--data", data / "gen_TRAIN.ts", "--out", tmp_path / "run",
                             "--split", "1", "--quiet")
    assert status == 0, err
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["test"]["accuracy"] >= 0.8


def test_sequence_length_n_makes_extra_iterations(data, tmp_path):
    """SequenceLength 5: each mini-batch, padded to its longest sequence L, trains as ceil(L/5)
    iterations (MATLAB's extra mini-batches)."""
    (tmp_path / "split.net").write_text(TINY.format(input_options="",
                                                    options=",'SequenceLength',5,'Shuffle','never','MaxEpochs',2"))
    status, _, err = netspec("train", tmp_path / "split.net", "--data", data / "gen_TRAIN.ts", "--out", tmp_path / "run",
                             "--split", "1", "--quiet")
    assert status == 0, err
    lengths = read_ts(data / "gen_TRAIN.ts").lengths
    per_epoch = sum(-(-int(lengths[i:i + 10].max()) // 5) for i in range(0, 60, 10))
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["iterations"] == 2 * per_epoch > 2 * 6
    rows = (tmp_path / "run" / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 2 * per_epoch


def test_train_and_evaluate_on_a_folder_of_csv_sequences(tmp_path):
    """--data DIR: one sub-folder per class of CSV files, one sequence each (rows: time steps)."""
    for index, (sequence, label) in enumerate(generated(45, 3)):
        folder = tmp_path / "data" / label
        folder.mkdir(parents=True, exist_ok=True)
        rows = "\n".join(",".join(f"{v:.5f}" for v in step) for step in sequence)
        (folder / f"{index:02d}.csv").write_text("x,y\n" + rows + "\n")
    (tmp_path / "tiny.net").write_text(TINY.format(input_options="", options=""))
    status, _, err = netspec("train", "tiny.net", "--data", "data", "--out", "run", "--quiet", cwd=tmp_path)
    assert status == 0, err
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["validation"]["images"] == 9  # --split 0.8 of 15 per class holds out 3 of each
    status, out, err = netspec("evaluate", "run", "--data", "data", "--format", "json", cwd=tmp_path)
    assert status == 0, err
    evaluation = json.loads(out)
    assert evaluation["images"] == 45 and [c["name"] for c in evaluation["classes"]] == sorted(OFFSETS)
    assert evaluation["accuracy"] >= 0.8


def test_an_error_found_while_training_shows_its_source_line(tmp_path):
    """Raised after the load (the optimizer's groups), the error still quotes the spec's line."""
    (tmp_path / "gates.net").write_text(
        "layers = [sequenceInputLayer(12)\n"
        "    lstmLayer(4,'OutputMode','last','InputWeightsLearnRateFactor',[1 2 1 1])\n"
        "    fullyConnectedLayer(9)\n    softmaxLayer\n    classificationLayer];\n")
    status, _, err = netspec("train", "gates.net", "--out", "run", "--quiet", cwd=tmp_path)
    assert status == 1 and "error[R007]" in err and "Traceback" not in err
    assert " --> gates.net:2:5\n" in err
    assert "2 |     lstmLayer(4,'OutputMode','last','InputWeightsLearnRateFactor',[1 2 1 1])\n" in err
    assert "  |     ^^^^" in err
