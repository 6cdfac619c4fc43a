"""The IR's JSON round-trip is lossless (SPEC §4) and its published schema describes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

import netspec
from netspec.cli import app
from netspec.ir import LAYERS, Connection, Network
from netspec.language import load_source

SPECS = Path(__file__).parents[2] / "specs"
SPEC_FILES = sorted(SPECS.glob("*.net"))


def load(path: Path) -> Network:
    return netspec.load(path, set={"numClasses": "4"})


def test_there_are_specs():
    assert len(SPEC_FILES) >= 5


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_json_round_trip(path):
    net = load(path)
    dumped = net.model_dump_json()
    back = Network.model_validate_json(dumped)
    assert back == net
    assert back.model_dump_json() == dumped
    assert [layer.kind for layer in back.layers] == [layer.kind for layer in net.layers]
    assert [type(layer) for layer in back.layers] == [type(layer) for layer in net.layers]
    assert back.training == net.training


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_python_round_trip(path):
    net = load(path)
    assert Network.model_validate(net.model_dump()) == net


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_loaded_network_is_valid(path):
    """Networks come out of the interpreter unvalidated (model_construct): validating must agree."""
    net = load(path)
    assert Network.model_validate(net.model_dump()).model_dump() == net.model_dump()
    names = [layer.name for layer in net.layers]
    assert len(names) == len(set(names))
    assert all(layer.span is not None and layer.span.line >= 1 for layer in net.layers)


# every layer kind, with non-default options, survives the round-trip
REQUIRED_ARGS = {
    "clippedReluLayer": "6", "convolution2dLayer": "[3 5], 8, 'Padding', [1 2 3 4], 'BiasTerm', false",
    "groupedConvolution2dLayer": "3, 1, 'channel-wise', 'Padding', 'same'",
    "transposedConv2dLayer": "4, 8, 'Stride', 2, 'Cropping', 'same'", "convolution1dLayer": "3, 4, 'Padding', 'causal'",
    "fullyConnectedLayer": "10, 'WeightLearnRateFactor', 0", "imageInputLayer": "[28 28 1], 'Normalization', 'none'",
    "featureInputLayer": "4", "sequenceInputLayer": "3", "crossChannelNormalizationLayer": "5, 'K', 1",
    "maxPooling2dLayer": "3, 'Stride', 2, 'Padding', [0 1 0 1]", "averagePooling2dLayer": "2",
    "maxPooling1dLayer": "2", "averagePooling1dLayer": "2", "additionLayer": "3", "depthConcatenationLayer": "4",
    "concatenationLayer": "3, 2", "resize2dLayer": "'Scale', 2", "dropoutLayer": "0.2",
    "classificationLayer": "'Classes', {'a', 'b'}", "leakyReluLayer": "0.1", "multiplicationLayer": "3",
    "nnet.shufflenet.layer.ChannelShufflingLayer": "'shuffle_8to10', 4",
    "pixelClassificationLayer": "'Classes', {'a', 'b'}, 'ClassWeights', [1 2]", "crop2dLayer": "[2 3]",
    "depthToSpace2dLayer": "[2 1], 'Mode', 'crd'", "spaceToDepthLayer": "3", "spatialDropoutLayer": "'Probability', 0.2",
    "selfAttentionLayer": "2, 8, 'AttentionMask', 'causal', 'OutputSize', 6", "positionEmbeddingLayer": "4, 10",
    "sinusoidalPositionEncodingLayer": "4", "indexing1dLayer": "'last'", "wordEmbeddingLayer": "4, 100",
    "lstmLayer": "8, 'OutputMode', 'last', 'InputWeightsLearnRateFactor', [1 2 3 4]", "bilstmLayer": "4",
    "gruLayer": "5, 'ResetGateMode', 'before-multiplication', 'StateActivationFunction', 'softsign'",
}


def test_every_layer_kind_round_trips():
    lines = [f"    {cls.matlab}({REQUIRED_ARGS.get(cls.matlab, '')})" for cls in LAYERS.values()]
    text = "arr = [\n" + "\n".join(lines) + "];\n" \
        "lgraph = layerGraph();\nfor i = 1:numel(arr)\n    lgraph = addLayers(lgraph, arr(i));\nend\n" \
        "options = trainingOptions('adam', 'MaxEpochs', 2);\n"
    net = load_source(text, "all.net").network
    assert {layer.kind for layer in net.layers} == set(LAYERS)
    dumped = net.model_dump_json()
    back = Network.model_validate_json(dumped)
    assert back == net and back.model_dump_json() == dumped
    assert back.training.solver == "adam"


def test_infinity_survives_json():
    net = load_source("layers = reluLayer;\noptions = trainingOptions('sgdm');\n", "x.net").network
    assert net.training.validation_patience == float("inf")
    back = Network.model_validate_json(net.model_dump_json())
    assert back.training.validation_patience == float("inf")


def test_network_validation_rejects_inconsistent_ir():
    net = load_source("layers = [imageInputLayer([4 4 1], 'Name', 'a'); reluLayer('Name', 'b')];", "x.net").network
    data = json.loads(net.model_dump_json())
    duplicate = json.loads(json.dumps(data))
    duplicate["layers"][1]["name"] = "a"
    with pytest.raises(ValidationError):
        Network.model_validate(duplicate)
    dangling = json.loads(json.dumps(data))
    dangling["connections"].append(Connection(source="a", destination="nowhere").model_dump())
    with pytest.raises(ValidationError):
        Network.model_validate(dangling)
    bad_port = json.loads(json.dumps(data))
    bad_port["connections"][0]["destination_port"] = "in2"
    with pytest.raises(ValidationError):
        Network.model_validate(bad_port)
    unknown_kind = json.loads(json.dumps(data))
    unknown_kind["layers"][1]["kind"] = "bogus"
    with pytest.raises(ValidationError):
        Network.model_validate(unknown_kind)
    extra_field = json.loads(json.dumps(data))
    extra_field["layers"][1]["bogus"] = 1
    with pytest.raises(ValidationError):
        Network.model_validate(extra_field)


# -- the published schema ------------------------------------------------------------------

runner = CliRunner()


def schema() -> dict:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_schema_is_json_and_equals_the_model_schema():
    assert schema() == Network.model_json_schema()


def test_schema_has_a_kind_discriminator_for_every_layer():
    document = schema()
    items = document["properties"]["layers"]["items"]
    assert items["discriminator"]["propertyName"] == "kind"
    mapping = items["discriminator"]["mapping"]
    assert set(mapping) == set(LAYERS)
    for kind, ref in mapping.items():
        definition = document["$defs"][ref.rsplit("/", 1)[-1]]
        assert definition["properties"]["kind"].get("const", kind) == kind
        assert definition.get("additionalProperties") is False


def test_schema_validates_parse_output_when_jsonschema_is_available():
    jsonschema = pytest.importorskip("jsonschema")
    document = schema()
    for path in SPEC_FILES:
        jsonschema.validate(json.loads(load(path).model_dump_json()), document)


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_parse_json_output_validates(path):
    result = runner.invoke(app, ["parse", str(path), "--json", "--set", "numClasses=4"])
    assert result.exit_code == 0, result.output
    back = Network.model_validate_json(result.stdout)
    assert back == load(path)
