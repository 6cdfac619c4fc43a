"""Published figures the analyzer must reproduce (SPEC §8 "Truth tests the project keeps").

Every number below is copied from a source outside netspec's code (cited in a comment next to
it) or recomputed here by plain arithmetic from the layer definition, never from the analyzer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import netspec
from netspec.analysis import Analysis, analyze
from netspec.language import load_source

SPECS = Path(__file__).parents[2] / "specs"

_CACHE: dict[str, Analysis] = {}


def analysis(name: str) -> Analysis:
    if name not in _CACHE:
        _CACHE[name] = analyze(netspec.load(SPECS / f"{name}.net", set={"numClasses": "4"}))
    return _CACHE[name]


def row(a: Analysis, name: str):
    return next(r for r in a.layers if r.name == name)


def source_of(a: Analysis, name: str) -> str:
    """The layer feeding `name`'s first input (LayerReport.inputs holds 'layer/port')."""
    return row(a, name).inputs[0].split("/")[0]


def conv_params(k: int, cin: int, cout: int, bias: bool = True) -> int:
    return k * k * cin * cout + (cout if bias else 0)


def fc_params(cin: int, cout: int) -> int:
    return cin * cout + cout


# --------------------------------------------------------------------------------------------
# Totals
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, learnables", [
    # SPEC §1 network (seed 003, the course's MNIST demo): 160 + 32 + 4,640 + 18,496 + 125,450.
    ("mnist_matlab", 148_778),
    # SPEC §8: "LeNet-5 61,706 learnables (dense C3 variant)" (LeCun et al. 1998).
    ("lenet5", 61_706),
    # SPEC §8 and seed 001 lines 1480-1493 (AlexNet table, "Total 62,378,344").
    ("alexnet", 62_378_344),
    # SPEC §8: "VGG-16 138,357,544" (torchvision vgg16 parameter count; Simonyan & Zisserman 2015).
    ("vgg16", 138_357_544),
    # SPEC §3 / §8: "ResNet-50: 25,557,032" (torchvision resnet50 parameter count).
    ("resnet50", 25_557_032),
    # torchvision resnet18 parameter count (He et al. 2016), quoted in specs/resnet18.net's header.
    ("resnet18", 11_689_512),
    # torchvision mobilenet_v2 parameter count (Sandler et al. 2018), quoted in specs/mobilenet_v2.net.
    ("mobilenet_v2", 3_504_872),
    # Caffe bvlc_googlenet / MATLAB googlenet without aux classifiers (Szegedy et al. 2015),
    # quoted in specs/googlenet.net: stem 124,416 + inceptions 5,849,136 + fc 1,025,000.
    ("googlenet", 6_998_552),
])
def test_total_learnables(spec, learnables):
    a = analysis(spec)
    assert a.totals.learnables == learnables
    assert not a.has_errors


def test_mnist_learnables_by_hand():
    # SPEC §1's network, layer by layer (F·F·Cin·Cout + Cout, BN 2C, FC in·out + out).
    expected = [conv_params(3, 1, 16), 2 * 16, conv_params(3, 16, 32), conv_params(3, 32, 64),
                fc_params(14 * 14 * 64, 10)]
    assert expected == [160, 32, 4_640, 18_496, 125_450]
    assert sum(expected) == 148_778
    a = analysis("mnist_matlab")
    got = [r.learnables for r in a.layers if r.learnables]
    assert got == expected
    bn = next(r for r in a.layers if r.type == "batchNormalizationLayer")
    assert bn.states == 2 * 16  # running mean and variance (SPEC §3: BN 2C learnable + 2C state)


def test_lenet5_learnables_by_hand():
    # LeNet-5 dense-C3 arithmetic (specs/lenet5.net header): C1, C3, C5 convs, F6, output.
    a = analysis("lenet5")
    expected = {"C1": conv_params(5, 1, 6), "C3": conv_params(5, 6, 16), "C5": conv_params(5, 16, 120),
                "F6": fc_params(120, 84), "output_fc": fc_params(84, 10)}
    assert expected == {"C1": 156, "C3": 2_416, "C5": 48_120, "F6": 10_164, "output_fc": 850}
    for name, value in expected.items():
        assert row(a, name).learnables == value
    assert row(a, "C5").output_dims == [[1, 1, 120]]


# --------------------------------------------------------------------------------------------
# AlexNet: every row of seed 001's table (seed 001, lines 1480-1493,
# "AlexNet Network - Structural Details"). Table row -> spec layer name.
# --------------------------------------------------------------------------------------------

# (table row, spec layer, input H W C, output H W C, # of params) — verbatim from the table.
ALEXNET_TABLE = [
    ("conv1", "conv1", (227, 227, 3), (55, 55, 96), 34_944),
    ("maxpool1", "pool1", (55, 55, 96), (27, 27, 96), 0),
    ("conv2", "conv2", (27, 27, 96), (27, 27, 256), 614_656),
    ("maxpool2", "pool2", (27, 27, 256), (13, 13, 256), 0),
    ("conv3", "conv3", (13, 13, 256), (13, 13, 384), 885_120),
    ("conv4", "conv4", (13, 13, 384), (13, 13, 384), 1_327_488),
    ("conv5", "conv5", (13, 13, 384), (13, 13, 256), 884_992),
    ("maxpool5", "pool5", (13, 13, 256), (6, 6, 256), 0),
]
# fc rows: (table row, spec layer, in features, out features, # of params)
ALEXNET_FC = [
    ("fc6", "fc6", 9_216, 4_096, 37_752_832),
    ("fc7", "fc7", 4_096, 4_096, 16_781_312),
    ("fc8", "fc8", 4_096, 1_000, 4_097_000),
]


@pytest.mark.parametrize("table_row, layer, shape_in, shape_out, params", ALEXNET_TABLE,
                         ids=[r[0] for r in ALEXNET_TABLE])
def test_alexnet_table_conv_pool_rows(table_row, layer, shape_in, shape_out, params):
    a = analysis("alexnet")
    r = row(a, layer)
    assert r.output_dims == [list(shape_out)]
    assert r.output_shapes == ["×".join(map(str, shape_out))]
    # the table's input column is the output of the layer feeding this one (relu/LRN keep shapes)
    assert row(a, source_of(a, layer)).output_dims == [list(shape_in)]
    assert r.learnables == params


@pytest.mark.parametrize("table_row, layer, fin, fout, params", ALEXNET_FC, ids=[r[0] for r in ALEXNET_FC])
def test_alexnet_table_fc_rows(table_row, layer, fin, fout, params):
    a = analysis("alexnet")
    r = row(a, layer)
    source = row(a, source_of(a, layer))
    feeding = 1
    for d in source.output_dims[0]:
        feeding *= d
    assert feeding == fin  # 6·6·256 = 9,216 for fc6
    assert r.output_dims == [[1, 1, fout]]
    assert r.learnables == params == fc_params(fin, fout)


def test_alexnet_table_total():
    # seed 001 table: "Total 62,378,344" is the sum of its rows.
    table_sum = sum(r[-1] for r in ALEXNET_TABLE) + sum(r[-1] for r in ALEXNET_FC)
    assert table_sum == 62_378_344 == analysis("alexnet").totals.learnables


# --------------------------------------------------------------------------------------------
# VGG-16: seed 001, lines 1625-1645 ("VGG16 - Structural Details").
# --------------------------------------------------------------------------------------------

# (table row label, spec layer, input H W C, output H W C, Param) — verbatim, including the second
# maxpool row's 65,664, which is a typo: pooling has no parameters (SPEC §8).
VGG_TABLE = [
    ("1 conv3-64", "conv1_1", (224, 224, 3), (224, 224, 64), 1_792),
    ("2 conv3064", "conv1_2", (224, 224, 64), (224, 224, 64), 36_928),
    ("maxpool", "pool1", (224, 224, 64), (112, 112, 64), 0),
    ("3 conv3-128", "conv2_1", (112, 112, 64), (112, 112, 128), 73_856),
    ("4 conv3-128", "conv2_2", (112, 112, 128), (112, 112, 128), 147_584),
    ("maxpool (typo row)", "pool2", (112, 112, 128), (56, 56, 128), 65_664),
    ("5 conv3-256", "conv3_1", (56, 56, 128), (56, 56, 256), 295_168),
    ("6 conv3-256", "conv3_2", (56, 56, 256), (56, 56, 256), 590_080),
    ("7 conv3-256", "conv3_3", (56, 56, 256), (56, 56, 256), 590_080),
    ("maxpool", "pool3", (56, 56, 256), (28, 28, 256), 0),
    ("8 conv3-512", "conv4_1", (28, 28, 256), (28, 28, 512), 1_180_160),
    ("9 conv3-512", "conv4_2", (28, 28, 512), (28, 28, 512), 2_359_808),
    ("10 conv3-512", "conv4_3", (28, 28, 512), (28, 28, 512), 2_359_808),
    ("maxpool", "pool4", (28, 28, 512), (14, 14, 512), 0),
    ("11 conv3-512", "conv5_1", (14, 14, 512), (14, 14, 512), 2_359_808),
    ("12 conv3-512", "conv5_2", (14, 14, 512), (14, 14, 512), 2_359_808),
    ("13 conv3-512", "conv5_3", (14, 14, 512), (14, 14, 512), 2_359_808),
    ("maxpool", "pool5", (14, 14, 512), (7, 7, 512), 0),
]
VGG_FC = [
    ("14 fc", "fc6", 25_088, 4_096, 102_764_544),
    ("15 fc", "fc7", 4_096, 4_096, 16_781_312),
    ("16 fc", "fc8", 4_096, 1_000, 4_097_000),
]
VGG_TYPO = 65_664  # seed 001's second maxpool row; a max pooling layer has no parameters


@pytest.mark.parametrize("label, layer, shape_in, shape_out, params", VGG_TABLE, ids=[r[1] for r in VGG_TABLE])
def test_vgg16_table_rows(label, layer, shape_in, shape_out, params):
    a = analysis("vgg16")
    r = row(a, layer)
    assert r.output_dims == [list(shape_out)]
    assert row(a, source_of(a, layer)).output_dims == [list(shape_in)]
    if layer == "pool2":
        # Seed 001 prints 65,664 here; a 2×2 max pooling has no parameters (SPEC §8): the
        # analyzer agrees with the arithmetic, not with the typo.
        assert params == VGG_TYPO and r.learnables == 0
    else:
        assert r.learnables == params
        if layer.startswith("conv"):
            assert params == conv_params(3, shape_in[2], shape_out[2])


@pytest.mark.parametrize("label, layer, fin, fout, params", VGG_FC, ids=[r[1] for r in VGG_FC])
def test_vgg16_table_fc_rows(label, layer, fin, fout, params):
    a = analysis("vgg16")
    assert row(a, layer).learnables == params == fc_params(fin, fout)
    assert row(a, layer).output_dims == [[1, 1, fout]]


def test_vgg16_totals_and_the_typo():
    a = analysis("vgg16")
    table_sum = sum(r[-1] for r in VGG_TABLE) + sum(r[-1] for r in VGG_FC)
    # seed 001's printed total ("Total 138,423,208") is the sum of its rows, typo included ...
    assert table_sum == 138_423_208
    # ... and the true count (SPEC §8, torchvision vgg16) is that minus the stray pooling row.
    assert a.totals.learnables == 138_357_544 == table_sum - VGG_TYPO
    # conv learnables 14,714,688 (specs/vgg16.net header) = sum of the 13 conv rows
    assert sum(r.learnables for r in a.layers if r.type == "convolution2dLayer") == 14_714_688


def test_vgg16_macs():
    # SPEC §8: "15,470,264,320 MACs at 224". Recomputed: Σ H·W·Cout·9·Cin over the 13 convs + fc.
    convs = [(224, 3, 64), (224, 64, 64), (112, 64, 128), (112, 128, 128), (56, 128, 256), (56, 256, 256),
             (56, 256, 256), (28, 256, 512), (28, 512, 512), (28, 512, 512), (14, 512, 512), (14, 512, 512),
             (14, 512, 512)]
    by_hand = sum(s * s * cout * 9 * cin for s, cin, cout in convs) + 25_088 * 4_096 + 4_096 * 4_096 + 4_096 * 1_000
    assert by_hand == 15_470_264_320
    assert analysis("vgg16").totals.macs == 15_470_264_320


# --------------------------------------------------------------------------------------------
# ResNet-50
# --------------------------------------------------------------------------------------------

def test_resnet50():
    a = analysis("resnet50")
    # SPEC §8: "ResNet-50 25,557,032 learnables, 4,089,184,256 MACs (stride in the 3×3)"
    # (torchvision resnet50 v1.5: 25,557,032 parameters, 4.09 GMACs).
    assert a.totals.learnables == 25_557_032
    assert a.totals.macs == 4_089_184_256
    assert row(a, "avg_pool").output_dims == [[1, 1, 2048]]
    # v1.5: the stride-2 sits in the 3×3 of each stage's first block
    assert row(a, "res3a_branch2a").output_dims == [[56, 56, 128]]
    assert row(a, "res3a_branch2b").output_dims == [[28, 28, 128]]


# --------------------------------------------------------------------------------------------
# Receptive fields (SPEC §8: "receptive field AlexNet 195 and VGG-16 212 at their last pooling
# layer"; Araujo, Norris & Sim, Distill 2019, table of AlexNet 195 / VGG-16 212).
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, layer, size, jump", [
    ("alexnet", "pool5", 195, 32),
    ("vgg16", "pool5", 212, 32),
])
def test_receptive_field_at_last_pooling(spec, layer, size, jump):
    a = analysis(spec)
    pools = [r.name for r in a.layers if r.type == "maxPooling2dLayer"]
    assert pools[-1] == layer
    rf = row(a, layer).receptive_field
    assert rf is not None and not rf.is_global
    assert [axis.size for axis in rf.axes] == [size, size]
    assert [axis.jump for axis in rf.axes] == [str(jump), str(jump)]
    # after the first fully connected layer every unit sees the whole image
    assert row(a, "fc6").receptive_field.is_global


# --------------------------------------------------------------------------------------------
# 1×1-bottleneck savings: SPEC §5, the course's GoogLeNet example (seed 003), 14×14×480 input,
# 48 5×5 filters: 112,896,000 direct vs 1,505,280 + 3,763,200 = 5,268,480.
# --------------------------------------------------------------------------------------------

def test_inception_module_bottleneck():
    a = analysis("inception_module")
    assert len(a.bottlenecks) == 1
    b = a.bottlenecks[0]
    assert (b.reduce, b.conv) == ("reduce_1x1", "bottleneck_5x5")
    assert (b.input_channels, b.reduced_channels, b.output_channels) == (480, 16, 48)
    assert b.kernel == [5, 5] and b.output_size == [14, 14]
    # the course's arithmetic
    assert 14 * 14 * 48 * 5 * 5 * 480 == 112_896_000
    assert 14 * 14 * 16 * 1 * 1 * 480 == 1_505_280
    assert 14 * 14 * 48 * 5 * 5 * 16 == 3_763_200
    assert b.direct_macs == 112_896_000
    assert b.reduce_macs == 1_505_280
    assert b.conv_macs == 3_763_200
    assert b.bottleneck_macs == 5_268_480 == 1_505_280 + 3_763_200
    assert b.saved_macs == 112_896_000 - 5_268_480
    assert b.ratio == f"{112_896_000 / 5_268_480:.2f}"  # "21.43": about 21× fewer
    # network total (one pair in this file)
    assert a.bottleneck_totals == {"direct_macs": 112_896_000, "bottleneck_macs": 5_268_480,
                                   "saved_macs": 107_627_520}
    # the direct 5×5 conv of the same file costs exactly the "direct" figure
    assert row(a, "direct_5x5").macs == 112_896_000
    # specs/inception_module.net header: 576,048 + 7,696 + 19,248 = 602,992 learnables, output 14×14×96
    assert [row(a, n).learnables for n in ("direct_5x5", "reduce_1x1", "bottleneck_5x5")] == \
        [conv_params(5, 480, 48), conv_params(1, 480, 16), conv_params(5, 16, 48)] == [576_048, 7_696, 19_248]
    assert a.totals.learnables == 602_992
    assert row(a, "concat").output_dims == [[14, 14, 96]]


def test_googlenet_bottleneck_totals_are_consistent():
    # GoogLeNet has two 1×1 reductions per inception module (3×3 and 5×5 branches): 9 modules.
    a = analysis("googlenet")
    pairs = {(b.reduce, b.conv) for b in a.bottlenecks}
    for tag in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"):
        assert (f"inception_{tag}-3x3_reduce", f"inception_{tag}-3x3") in pairs
        assert (f"inception_{tag}-5x5_reduce", f"inception_{tag}-5x5") in pairs
    # inception 4a's 5×5 branch is the course's example in situ: 480 -> 16 -> 48 at 14×14
    b4a = next(b for b in a.bottlenecks if b.conv == "inception_4a-5x5")
    assert (b4a.direct_macs, b4a.reduce_macs, b4a.conv_macs) == (112_896_000, 1_505_280, 3_763_200)
    assert a.bottleneck_totals["direct_macs"] == sum(b.direct_macs for b in a.bottlenecks)
    assert a.bottleneck_totals["bottleneck_macs"] == sum(b.bottleneck_macs for b in a.bottlenecks)
    assert a.bottleneck_totals["saved_macs"] == (a.bottleneck_totals["direct_macs"]
                                                 - a.bottleneck_totals["bottleneck_macs"])


# --------------------------------------------------------------------------------------------
# MATLAB's pretrained architectures (netspec/zoo): learnables against an independent figure.
# MATLAB's convolution2dLayer always has a bias, even where the imported model (Caffe, Keras,
# TensorFlow) had none, so MATLAB's count is the reference model's plus one bias per output
# channel of those convolutions, summed here from the architecture's definition.
# --------------------------------------------------------------------------------------------

_ZOO: dict[str, Analysis] = {}


def zoo(name: str) -> Analysis:
    if name not in _ZOO:
        _ZOO[name] = analyze(load_source(f"net = {name};\n", "zoo.net").network)
    return _ZOO[name]


RESNET101_STAGES = [(64, 3), (128, 4), (256, 23), (512, 3)]  # bottleneck width, blocks
RESNET101_BIASES = 64 + sum(blocks * (w + w + 4 * w) + 4 * w for w, blocks in RESNET101_STAGES)
# Inception-v3 (Szegedy et al. 2016, Keras's InceptionV3), output channels of every convolution
INCEPTION_V3_BIASES = (
    32 + 32 + 64 + 80 + 192                                                  # stem
    + sum(64 + 48 + 64 + 64 + 96 + 96 + pool for pool in (32, 64, 64))      # mixed0-2
    + 384 + 64 + 96 + 96                                                     # mixed3
    + sum(192 + c + c + 192 + 4 * c + 192 + 192 for c in (128, 160, 160, 192))  # mixed4-7
    + 192 + 320 + 3 * 192 + 192                                              # mixed8
    + 2 * (320 + 384 + 2 * 384 + 448 + 384 + 2 * 384 + 192))                # mixed9-10
DENSENET201_BIASES = 64 + (6 + 12 + 48 + 32) * (4 * 32 + 32) + (128 + 256 + 896)  # stem, dense layers, transitions
# EfficientNet-B0 (Tan & Le 2019, Table 1): [expansion, output channels, repeats]; the SE
# convolutions have a bias in torchvision too
EFFICIENTNET_B0_STAGES = [(1, 16, 1), (6, 24, 2), (6, 40, 2), (6, 80, 3), (6, 112, 3), (6, 192, 4), (6, 320, 1)]


def _efficientnet_b0_biases() -> int:
    total, cin = 32 + 1280, 32  # stem and head convolutions
    for expansion, cout, repeats in EFFICIENTNET_B0_STAGES:
        for _ in range(repeats):
            hidden = cin * expansion
            total += (hidden if expansion != 1 else 0) + hidden + cout  # expand, depthwise, project
            cin = cout
    return total


# Xception (Chollet 2017, Fig. 5): separable convolutions are a depthwise (cin) and a pointwise (cout)
XCEPTION_SEPARABLE = ([(64, 128), (128, 128), (128, 256), (256, 256), (256, 728), (728, 728)]
                      + [(728, 728)] * 24 + [(728, 728), (728, 1024), (1024, 1536), (1536, 2048)])
XCEPTION_BIASES = 32 + 64 + (128 + 256 + 728 + 1024) + sum(a + b for a, b in XCEPTION_SEPARABLE)


@pytest.mark.parametrize("name, reference, biases", [
    # torchvision resnet101 parameter count (the same architecture; v1.5's stride placement
    # moves no parameter)
    ("resnet101", 44_549_160, RESNET101_BIASES),
    # torchvision inception_v3 27,161,264 less its AuxLogits (MATLAB's has no auxiliary head):
    # conv 768·128 + BN 2·128 + conv 128·768·5·5 + BN 2·768 + fc 768·1000 + 1000 = 3,326,696
    ("inceptionv3", 27_161_264 - (768 * 128 + 2 * 128 + 128 * 768 * 25 + 2 * 768 + 768 * 1000 + 1000),
     INCEPTION_V3_BIASES),
    # torchvision densenet201 parameter count
    ("densenet201", 20_013_928, DENSENET201_BIASES),
    # torchvision efficientnet_b0 parameter count
    ("efficientnetb0", 5_288_548, _efficientnet_b0_biases()),
    # Chollet 2017, Table 3: Xception 22,855,952 parameters
    ("xception", 22_855_952, XCEPTION_BIASES),
])
def test_pretrained_architecture_learnables(name, reference, biases):
    # biases: resnet101 52,672; inceptionv3 17,216 (on 23,834,568); densenet201 17,024;
    # efficientnetb0 21,008; xception 50,312
    a = zoo(name)
    assert a.totals.learnables == reference + biases
    assert not a.has_errors


@pytest.mark.parametrize("name, millions", [
    # MATLAB, "Pretrained Deep Neural Networks" (mathworks.com/help/deeplearning/ug/
    # pretrained-convolutional-neural-networks.html), column "Parameters (Millions)": shufflenet
    # is ShuffleNet v1, which torchvision does not have; darknet53 has no other reference.
    ("shufflenet", 1.4), ("darknet53", 41.6),
    # the same table for the others, to its rounding
    ("resnet101", 44.6), ("inceptionv3", 23.9), ("densenet201", 20.0), ("efficientnetb0", 5.3), ("xception", 22.9),
])
def test_pretrained_architecture_learnables_match_matlabs_table(name, millions):
    assert round(zoo(name).totals.learnables / 1e6, 1) == millions


@pytest.mark.parametrize("name, macs, tolerance", [
    # He et al. 2016, Table 1: 101-layer, 7.6×10⁹ FLOPs (multiply-adds), to its rounding
    ("resnet101", 7.6e9, 0.01),
    # Tan & Le 2019, Table 2: EfficientNet-B0, 0.39B FLOPS (multiply-adds), to its rounding
    ("efficientnetb0", 0.39e9, 0.02),
    # Redmon & Farhadi 2018, Table 2: Darknet-53, 18.7 billion operations (two per multiply-add)
    ("darknet53", 18.7e9 / 2, 0.01),
    # torchvision's model table: inception_v3 5.71 GFLOPS, densenet201 4.29 (multiply-adds)
    ("inceptionv3", 5.71e9, 0.005), ("densenet201", 4.29e9, 0.005),
])
def test_pretrained_architecture_macs_are_the_published_ones(name, macs, tolerance):
    assert abs(zoo(name).totals.macs / macs - 1) < tolerance
