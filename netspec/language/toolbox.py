"""The toolboxes' network-building functions that real scripts call: `repmat` of arrays (layer
arrays among them), `blockedNetwork`, `encoderDecoderNetwork`, `unetLayers` and `unet`.

Each builds what MATLAB's own function builds, layer names included, from the IR's layer
classes; every layer it makes is located at the call. The MATLAB implementation each one follows
is named in its docstring (Image Processing and Computer Vision Toolbox sources, R2020-R2024).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PositiveInt, field_validator

from ..diagnostics import Span
from ..ir import Connection, Layer
from ..ir.activation import ReluLayer, SoftmaxLayer
from ..ir.base import InputLayer, Lower, Pair
from ..ir.conv import Convolution2dLayer, TransposedConv2dLayer
from ..ir.input_output import ImageInputLayer, PixelClassificationLayer
from ..ir.norm import BatchNormalizationLayer
from ..ir.pool import MaxPooling2dLayer, MaxUnpooling2dLayer
from ..ir.structure import AdditionLayer, ConcatenationLayer, Crop2dLayer, DepthConcatenationLayer, DropoutLayer
from . import graphs
from .builtins import Arg, BuiltinError, _dimensions
from .library import _bind, _opaque_argument, _validate, library
from .values import MAX_ELEMENTS, Char, Container, FunctionHandle, Graph, LayerArray, Matrix, Opaque, Str, Value, \
    type_name

if TYPE_CHECKING:
    from .interpreter import Interpreter

__all__: list[str] = []  # everything here registers itself in LIBRARY


def _unknown(args: list[Arg]) -> Opaque | None:
    """An argument netspec cannot compute: the network built from it is unknown too."""
    unknown = _opaque_argument(args)
    return replace(unknown, structural=True) if unknown is not None else None


# -- repmat -----------------------------------------------------------------------------------

@library("repmat")
def _repmat(ctx: "Interpreter", args: list[Arg], nargout: int, span: Span | None) -> Value:
    """MATLAB's tiling: `repmat(A, n)`, `repmat(A, m, n)`, `repmat(A, [m n])`. A layer array keeps
    its layers' names: unnamed copies get MATLAB's default names when the network is made, named
    ones clash there as they do in MATLAB (duplicate layer name)."""
    if len(args) < 2:
        raise BuiltinError(f"repmat needs an array and the number of copies, got {len(args)} argument(s)")
    unknown = _opaque_argument(args)
    if unknown is not None:
        return unknown
    value = args[0].value
    if isinstance(value, Str):
        raise BuiltinError("netspec has no string arrays: repmat of a string", 0)
    if not isinstance(value, Container):
        raise BuiltinError(f"repmat needs an array, got a {type_name(value)}", 0)
    try:
        copies_down, copies_across = _dimensions(args[1:])
    except BuiltinError as exc:
        raise BuiltinError(str(exc), None if exc.arg is None else exc.arg + 1, exc.hint, exc.code) from None
    rows, cols = value.shape()
    if isinstance(value, Char) and copies_down > 1:
        raise BuiltinError("netspec has no char matrices: repmat of text down the rows", 1)
    total = rows * copies_down * cols * copies_across
    if total > MAX_ELEMENTS:
        raise BuiltinError(f"repmat would make {total:,} elements, more than netspec allows ({MAX_ELEMENTS:,})",
                           code="E502")
    elements = value.elements()
    tiled = [elements[(c % cols) * rows + r % rows] for c in range(cols * copies_across)
             for r in range(rows * copies_down)] if rows and cols else []
    if isinstance(value, LayerArray):
        ctx.count_layers(len(tiled) - len(elements), span)
    return value.selection(rows * copies_down, cols * copies_across, tiled)


# -- options ---------------------------------------------------------------------------------

class _Options(BaseModel):
    """A function's arguments, bound and checked as a layer's are (`_bind`, `_validate`)."""

    model_config = ConfigDict(extra="forbid")

    passed_on: ClassVar[frozenset[str]] = frozenset()
    """Arguments taken as they are (a function handle, networks, layer arrays), not checked here."""


def _arguments(ctx: "Interpreter", model: type[_Options], what: str, args: list[Arg], positional: tuple[str, ...],
               span: Span | None) -> tuple[Any, dict[str, Value]]:
    """(the checked arguments, the values of those `passed_on`)."""
    bound = _bind(ctx, model, what, args, positional, len(positional), frozenset(), span)
    passed = {name: bound.pop(name).value for name in list(bound) if name in model.passed_on}
    return _validate(model, what, bound, {}, span), passed


def _image_size(value):
    """[H W] is a grayscale image, [H W C] (MATLAB's unet input sizes)."""
    if isinstance(value, list) and len(value) == 2:
        return [*value, 1]
    return value


def _odd(value: tuple[int, int]) -> tuple[int, int]:
    if any(size % 2 == 0 for size in value):
        raise ValueError("the filter size must be odd")
    return value


ImageSize = Annotated[tuple[PositiveInt, PositiveInt, PositiveInt], BeforeValidator(_image_size)]


class _UnetOptions(_Options):
    """unetLayers' and unet's arguments (MATLAB's unetLayers.m: iParseInputs)."""

    passed_on = frozenset({"encoder_network"})

    image_size: ImageSize
    num_classes: Annotated[int, Field(gt=1)]
    encoder_depth: PositiveInt = 4
    num_first_encoder_filters: PositiveInt = 64
    filter_size: Pair = (3, 3)
    convolution_padding: Annotated[Literal["same", "valid"], Lower] = "same"
    encoder_network: object = None

    _odd_filters = field_validator("filter_size")(_odd)


class _UnetLayersOptions(_UnetOptions):
    num_output_channels: PositiveInt | None = None
    """NumFirstEncoderFilters' name before R2019b, which unetLayers still takes."""


class _UnetNetworkOptions(_UnetOptions):
    num_first_encoder_filters: PositiveInt = 32  # unet's default (unetLayers' is 64)


class _BlockedNetworkOptions(_Options):
    passed_on = frozenset({"fun"})

    fun: object = None
    num_blocks: PositiveInt
    name_prefix: str = ""


class _EncoderDecoderOptions(_Options):
    """encoderDecoderNetwork's arguments (images.encoderDecoderNetwork)."""

    passed_on = frozenset({"encoder", "decoder", "latent_network", "final_network"})

    input_size: tuple[PositiveInt, PositiveInt, PositiveInt]
    encoder: object = None
    decoder: object = None
    latent_network: object = None
    final_network: object = None
    skip_connections: Annotated[Literal["none", "add", "concatenate"], Lower] = "none"
    output_channels: PositiveInt | None = None
    skip_connection_names: Literal["auto"] | list[str] = "auto"


# -- blockedNetwork ---------------------------------------------------------------------------

def _edge(source: Layer, destination: Layer, port: str | None = None) -> Connection:
    """source's first output into `port` of destination (its first input by default)."""
    return Connection(source=source.name, source_port=source.output_names[0], destination=destination.name,
                      destination_port=port or destination.input_names[0])


def _block(ctx: "Interpreter", handle: FunctionHandle, index: int, span: Span | None) -> LayerArray | Opaque:
    """fun(index): a layer array (or the unknown value it depends on)."""
    block = ctx.call_handle(handle, [Arg(Matrix.scalar(float(index)), span)])[0]
    if isinstance(block, Opaque):
        return replace(block, structural=True)
    if not isinstance(block, LayerArray) or not block.layers:
        raise BuiltinError(f"the block function must return a layer or a layer array; for block {index} it "
                           f"returned a {type_name(block)}", 0)
    return block


@library("blockedNetwork")
def _blocked_network(ctx: "Interpreter", args: list[Arg], nargout: int, span: Span | None) -> Value:
    """`blockedNetwork(fun, numBlocks, NamePrefix=p)`: fun(1) ... fun(numBlocks) in a row, each
    block's first layer after the last layer so far. An unnamed layer j of block i is named
    p + "Block<i>Layer<j>", a named one p + its name (images.blockedNetwork)."""
    unknown = _unknown(args)
    if unknown is not None:
        return unknown
    options, passed = _arguments(ctx, _BlockedNetworkOptions, "blockedNetwork", args, ("fun", "num_blocks"), span)
    if not isinstance(passed["fun"], FunctionHandle):
        raise BuiltinError(f"the first argument must be a function handle that makes a block, not a "
                           f"{type_name(passed['fun'])}", 0,
                           hint="blockedNetwork(@(block) [convolution2dLayer(3,32) reluLayer], 4)")
    graph = Graph({}, [], "dlnetwork")
    for index in range(1, options.num_blocks + 1):
        block = _block(ctx, passed["fun"], index, span)
        if isinstance(block, Opaque):
            return block
        layers = [layer.model_copy(update={"name": options.name_prefix + (layer.name or f"Block{index}Layer{j}")})
                  for j, layer in enumerate(block.layers, 1)]
        last = graph.layers[next(reversed(graph.layers))] if graph.layers else None
        graph = graphs.add_layers(graph, LayerArray(layers))
        if last is not None:
            graph = graph.grown(connections=[_edge(last, layers[0])])
    return graph


# -- U-Net -------------------------------------------------------------------------------------

def _valid_shrink(depth: int, filter_size: int) -> tuple[int, int]:
    """Pixels 'valid' convolutions take off an axis: before the encoder's last pooling, and over
    the whole network (unetLayers.m: encDownsamplingFactor, encDecDownsamplingFactor)."""
    encoder = (2 ** (depth + 1) - 2) * (filter_size - 1)
    return encoder, encoder + (2 ** (depth + 2) - 2) * (filter_size - 1)


def _suggested_size(size: int, filter_size: int, depth: int, valid: bool) -> int:
    """`size` if every 2×2 pooling halves an even size, else MATLAB's suggestion
    (unetLayers.m: iValidateAndSuggestInputSize[ForValidConv])."""
    factor = 2 ** depth
    shrink, smallest = 0, factor
    if valid:
        shrink, whole = _valid_shrink(depth, filter_size)
        smallest = whole + 2
        while (smallest - shrink) % factor:
            smallest += 2
    if size < smallest:
        return smallest
    remainder = (size - shrink) % factor
    if not remainder:
        return size
    return size + factor - remainder if remainder > factor / 2 else size - remainder


def _unet_output_size(options: _UnetOptions) -> list[int]:
    """[H W numClasses] of the network's output."""
    valid = options.convolution_padding == "valid"
    sizes = [size - (_valid_shrink(options.encoder_depth, filter_size)[1] if valid else 0)
             for size, filter_size in zip(options.image_size[:2], options.filter_size)]
    return [*sizes, options.num_classes]


@dataclass(frozen=True)
class _UnetStages:
    """The layers unetLayers and unet share: encoder stages, bridge and decoder stages, with
    MATLAB's names ('Encoder-Stage-1-Conv-1', ...) and initializers (He weights, zero biases)."""

    encoder: list[list[Layer]]
    """Per stage: Conv-1, ReLU-1, Conv-2, ReLU-2, (the last stage) DropOut, MaxPool."""
    bridge: list[Layer]
    decoder_up: list[list[Layer]]
    """Per decoder stage: UpConv, UpReLU."""
    decoder: list[list[Layer]]
    """Per decoder stage, after the merge: Conv-1, ReLU-1, Conv-2, ReLU-2."""

    @staticmethod
    def build(options: _UnetOptions, bridge_prefix: str, span: Span | None) -> "_UnetStages":
        padding = options.convolution_padding if options.convolution_padding == "same" else 0
        depth, filters = options.encoder_depth, options.num_first_encoder_filters

        def convs(prefix: str, channels: int) -> list[Layer]:
            return [layer for i in (1, 2) for layer in (
                Convolution2dLayer(filter_size=options.filter_size, num_filters=channels, padding=padding,
                                   weights_initializer="he", bias_l2_factor=0, name=f"{prefix}-Conv-{i}", span=span),
                ReluLayer(name=f"{prefix}-ReLU-{i}", span=span))]

        encoder = []
        for stage in range(1, depth + 1):
            prefix = f"Encoder-Stage-{stage}"
            layers = convs(prefix, filters * 2 ** (stage - 1))
            if stage == depth:
                layers.append(DropoutLayer(probability=0.5, name=f"{prefix}-DropOut", span=span))
            layers.append(MaxPooling2dLayer(pool_size=2, stride=2, name=f"{prefix}-MaxPool", span=span))
            encoder.append(layers)
        bridge = [*convs(f"{bridge_prefix}Bridge", filters * 2 ** depth),
                  DropoutLayer(probability=0.5, name=f"{bridge_prefix}Bridge-DropOut", span=span)]
        up, decoder = [], []
        for stage in range(1, depth + 1):
            prefix, channels = f"Decoder-Stage-{stage}", filters * 2 ** (depth - stage)
            up.append([TransposedConv2dLayer(filter_size=2, num_filters=channels, stride=2, weights_initializer="he",
                                             bias_l2_factor=0, bias_learn_rate_factor=2, name=f"{prefix}-UpConv",
                                             span=span),
                       ReluLayer(name=f"{prefix}-UpReLU", span=span)])
            decoder.append(convs(prefix, channels))
        return _UnetStages(encoder, bridge, up, decoder)


def _unet_arguments(ctx: "Interpreter", model: type[_UnetOptions], what: str, args: list[Arg],
                    span: Span | None) -> _UnetOptions:
    options, passed = _arguments(ctx, model, what, args, ("image_size", "num_classes"), span)
    if "encoder_network" in passed:
        raise BuiltinError(f"netspec builds {what}'s own encoder: a pretrained 'EncoderNetwork' is not supported")
    valid = options.convolution_padding == "valid"
    height, width, channels = options.image_size
    suggested = [_suggested_size(size, filter_size, options.encoder_depth, valid)
                 for size, filter_size in zip((height, width), options.filter_size)]
    if suggested != [height, width]:
        raise BuiltinError(f"the image size [{height} {width} {channels}] does not halve evenly "
                           f"{options.encoder_depth} times with '{options.convolution_padding}' convolutions", 0,
                           hint=f"use [{suggested[0]} {suggested[1]} {channels}]")
    return options


def _with_output_size(graph: Graph, options: _UnetOptions, nargout: int) -> Value | list[Value]:
    if nargout < 2:
        return graph
    return [graph, Matrix.row([float(v) for v in _unet_output_size(options)])]


@library("unetLayers")
def unet_layers(ctx: "Interpreter", args: list[Arg], nargout: int, span: Span | None) -> Value | list[Value]:
    """`[lgraph, outputSize] = unetLayers(imageSize, numClasses, ...)`, as unetLayers.m builds it:
    input, encoder, bridge and decoder in one chain, the encoder's ReLU-2 outputs into the
    decoder's depth concatenations (through 'Crop2d-<k>' center crops with 'valid' padding),
    then Final-ConvolutionLayer, Softmax-Layer and a pixelClassificationLayer."""
    unknown = _unknown(args)
    if unknown is not None:
        return [unknown] * max(nargout, 1) if nargout > 1 else unknown
    options = _unet_arguments(ctx, _UnetLayersOptions, "unetLayers", args, span)
    if options.num_output_channels is not None:
        options = options.model_copy(update={"num_first_encoder_filters": options.num_output_channels})
    stages = _UnetStages.build(options, "", span)
    depth = options.encoder_depth
    padding = options.convolution_padding if options.convolution_padding == "same" else 0
    merges = [DepthConcatenationLayer(num_inputs=2, name=f"Decoder-Stage-{stage}-DepthConcatenation", span=span)
              for stage in range(1, depth + 1)]
    chain = [ImageInputLayer(input_size=options.image_size, name="ImageInputLayer", span=span),
             *[layer for stage in stages.encoder for layer in stage], *stages.bridge,
             *[layer for stage in range(depth) for layer in (*stages.decoder_up[stage], merges[stage],
                                                             *stages.decoder[stage])],
             Convolution2dLayer(filter_size=1, num_filters=options.num_classes, padding=padding, bias_l2_factor=0,
                                weights_initializer="he", name="Final-ConvolutionLayer", span=span),
             SoftmaxLayer(name="Softmax-Layer", span=span),
             PixelClassificationLayer(name="Segmentation-Layer", span=span)]
    edges = graphs._chain(chain)
    crops = []
    for stage in range(1, depth + 1):  # decoder stage `stage` reads encoder stage depth - stage + 1
        skip = stages.encoder[depth - stage][3]  # Encoder-Stage-k-ReLU-2
        if options.convolution_padding == "same":
            edges.append(_edge(skip, merges[stage - 1], "in2"))
            continue
        crop = Crop2dLayer(location="centercrop", name=f"Crop2d-{stage}", span=span)
        crops.append(crop)
        edges += [_edge(skip, crop), _edge(stages.decoder_up[stage - 1][0], crop, "ref"),
                  _edge(crop, merges[stage - 1], "in2")]
    layers = chain + crops
    ctx.count_layers(len(layers), span)
    return _with_output_size(Graph({layer.name: layer for layer in layers}, edges), options, nargout)


@library("unet")
def unet_network(ctx: "Interpreter", args: list[Arg], nargout: int, span: Span | None) -> Value | list[Value]:
    """`[net, outputSize] = unet(imageSize, numClasses, ...)` (R2024a), a dlnetwork built as
    encoderDecoderNetwork builds one: 'encoderImageInputLayer' (normalizing nothing, as
    encoderDecoderNetwork makes it), the encoder, a 'LatentNetwork-' bridge, and for each decoder
    stage a center crop of the encoder's features ('encoderDecoderSkipConnectionCrop<k>', k the
    encoder stage) concatenated before the stage's convolutions, then 'encoderDecoderFinalConvLayer'
    and 'FinalNetworkSoftmax-Layer'. The names are those of networks unet made (as Deep Network
    Designer exports them); the layer and connection counts those of MATLAB's documentation."""
    unknown = _unknown(args)
    if unknown is not None:
        return [unknown] * max(nargout, 1) if nargout > 1 else unknown
    options = _unet_arguments(ctx, _UnetNetworkOptions, "unet", args, span)
    stages = _UnetStages.build(options, "LatentNetwork-", span)
    depth = options.encoder_depth
    start = [ImageInputLayer(input_size=options.image_size, normalization="none", name="encoderImageInputLayer",
                             span=span),
             *[layer for stage in stages.encoder for layer in stage], *stages.bridge]
    layers, edges = list(start), graphs._chain(start)
    for stage in range(1, depth + 1):
        level = depth - stage + 1  # the encoder stage this decoder stage reads
        up, convs = stages.decoder_up[stage - 1], stages.decoder[stage - 1]
        crop = Crop2dLayer(location="centercrop", name=f"encoderDecoderSkipConnectionCrop{level}", span=span)
        merge = ConcatenationLayer(dim=3, num_inputs=2, name=f"encoderDecoderSkipConnectionFeatureMerge{level}",
                                   span=span)
        skip = stages.encoder[level - 1][4 if level == depth else 3]  # its DropOut, or ReLU-2
        edges += [_edge(layers[-1], up[0]), *graphs._chain(up), _edge(skip, crop), _edge(up[1], crop, "ref"),
                  _edge(crop, merge, "in1"), _edge(up[1], merge, "in2"), _edge(merge, convs[0]),
                  *graphs._chain(convs)]
        layers += [*up, crop, merge, *convs]
    final = [Convolution2dLayer(filter_size=1, num_filters=options.num_classes, name="encoderDecoderFinalConvLayer",
                                span=span),
             SoftmaxLayer(name="FinalNetworkSoftmax-Layer", span=span)]
    edges += [_edge(layers[-1], final[0]), *graphs._chain(final)]
    layers += final
    ctx.count_layers(len(layers), span)
    return _with_output_size(Graph({layer.name: layer for layer in layers}, edges, "dlnetwork"), options, nargout)


# -- encoderDecoderNetwork ---------------------------------------------------------------------

def _network(value: Value, what: str, index: int) -> Graph:
    if isinstance(value, Graph):
        return value
    raise BuiltinError(f"the {what} must be a dlnetwork or layerGraph (as MATLAB requires), not a {type_name(value)}",
                       index, hint="make it with blockedNetwork, dlnetwork(layers) or layerGraph(layers)")


def _layer_list(value: Value, what: str) -> list[Layer]:
    if value is None:
        return []
    if isinstance(value, LayerArray):
        return list(value.layers)
    raise BuiltinError(f"'{what}' takes a layer or a layer array, not a {type_name(value)}")


def _prefixed(layers: list[Layer], prefix: str) -> list[Layer]:
    """encoderDecoderNetwork's names for a latent or final network: prefix + name, an unnamed
    layer j being 'Layer<j>'."""
    return [layer.model_copy(update={"name": prefix + (layer.name or f"Layer{j}")})
            for j, layer in enumerate(layers, 1)]


def _sizes(layers: dict[str, Layer], connections: list[Connection]) -> dict[str, tuple]:
    """Each layer's (first) output size, from the analysis's shape rules."""
    from ..analysis.context import Context
    from ..analysis.passes import shapes, structure
    from ..ir import Network

    network = Network.model_construct(name="part", layers=list(layers.values()), connections=connections, inputs=[],
                                      outputs=[], training=None, source=None)
    context = Context(network, input_size=None, dtype="float32", bytes_per_element=4)
    structure(context)
    shapes(context)
    return {name: found[0].dims for name, found in context.shapes.items() if found}


def _skip_names(encoder: dict[str, Layer], encoder_edges: list[Connection], decoder: list[Layer],
                encoder_output: Layer) -> list[tuple[str, str]]:
    """MATLAB's 'auto' SkipConnectionNames, innermost first: the layers feeding the encoder's
    layers whose strides are all even (downsampling; the first of those of one size), paired
    with the decoder's layers whose output doubles the size of the one before."""
    sizes = _sizes(encoder, encoder_edges)
    downsampling = [name for name, layer in encoder.items()
                    if hasattr(layer, "stride") and all(s % 2 == 0 for s in _pair(layer.stride))]
    taps: list[str] = []
    for name in downsampling:
        source = next((e.source for e in encoder_edges if e.destination == name), None)
        if source in sizes and source not in taps and all(sizes[source][:-1] != sizes[tap][:-1] for tap in taps):
            taps.append(source)
    dummy = ImageInputLayer(input_size=sizes[encoder_output.name], normalization="none", name="dummyInputLayer")
    chain = [dummy, *decoder]
    decoder_sizes = _sizes({layer.name: layer for layer in chain}, graphs._chain(chain))
    upsampling = [after.name for before, after in zip(chain, chain[1:])
                  if after.name in decoder_sizes and before.name in decoder_sizes
                  and list(decoder_sizes[after.name][:-1]) == [2 * d for d in decoder_sizes[before.name][:-1]]]
    if not taps or len(taps) != len(upsampling):
        raise BuiltinError(f"the skip connections could not be found: the encoder downsamples {len(taps)} times, the "
                           f"decoder upsamples {len(upsampling)} times", 1,
                           hint="give them with 'SkipConnectionNames', [encoderName decoderName; ...]")
    return list(zip(reversed(taps), upsampling))


def _pair(value) -> tuple:
    return tuple(value) if isinstance(value, tuple) else (value,)


@library("encoderDecoderNetwork")
def _encoder_decoder_network(ctx: "Interpreter", args: list[Arg], nargout: int, span: Span | None) -> Value:
    """`encoderDecoderNetwork(inputSize, encoder, decoder, ...)`, as images.encoderDecoderNetwork
    builds it: an 'encoderImageInputLayer' before the encoder (unless it has an input layer), the
    'LatentNetwork' layers, the decoder, then 'encoderDecoderFinalConvLayer' (OutputChannels) and the
    'FinalNetwork' layers. With SkipConnections, each pair (innermost first, k = 1, 2, ...) gets a
    center crop 'encoderDecoderSkipConnectionCrop<k>' of the encoder's output and a merge
    'encoderDecoderSkipConnectionFeatureMerge<k>' (concatenation or addition) after the decoder layer."""
    unknown = _unknown(args)
    if unknown is not None:  # an unknown encoder or decoder is a network: no number bound to it would do
        network = next((arg.value for arg in args[1:3] if isinstance(arg.value, Opaque)), None)
        return replace(network, structural=True, network=True) if network is not None else unknown
    options, passed = _arguments(ctx, _EncoderDecoderOptions, "encoderDecoderNetwork", args,
                                 ("input_size", "encoder", "decoder"), span)
    encoder, decoder = _network(passed["encoder"], "encoder", 1), _network(passed["decoder"], "decoder", 2)
    latent = _layer_list(passed.get("latent_network"), "LatentNetwork")
    final = _layer_list(passed.get("final_network"), "FinalNetwork")
    input_size = list(options.input_size)
    layers, edges = dict(encoder.layers), list(encoder.connections)
    inputs = [layer for layer in layers.values() if isinstance(layer, InputLayer)]
    if len(inputs) > 1:
        raise BuiltinError("the encoder has more than one input layer", 1)
    if inputs:
        layers[inputs[0].name] = inputs[0].model_copy(update={"input_size": input_size})
    else:
        first = next(iter(layers.values()))
        entry = ImageInputLayer(input_size=input_size, normalization="none", name="encoderImageInputLayer", span=span)
        layers = {entry.name: entry, **layers}
        edges.append(_edge(entry, first))
    decoder_layers = list(decoder.layers.values())
    encoder_output = list(layers.values())[-1]
    if options.skip_connections != "none":
        pairs = (_skip_names(layers, edges, decoder_layers, encoder_output)
                 if options.skip_connection_names == "auto" else _named_pairs(options.skip_connection_names))
    tail = encoder_output
    latent = _prefixed(latent, "LatentNetwork")
    graphs._check_unique(latent + decoder_layers, layers)  # MATLAB's addLayers refuses a name twice too
    for layer in latent:
        layers[layer.name] = layer
        edges.append(_edge(tail, layer))
        tail = layer
    layers.update((layer.name, layer) for layer in decoder_layers)
    edges += [_edge(tail, decoder_layers[0]), *decoder.connections]
    if options.skip_connections != "none":
        edges = _merge_skips(layers, edges, pairs, options.skip_connections, span)
    tail = decoder_layers[-1]
    ending = ([Convolution2dLayer(filter_size=1, num_filters=options.output_channels,
                                  name="encoderDecoderFinalConvLayer", span=span)]
              if options.output_channels is not None else []) + _prefixed(final, "FinalNetwork")
    graphs._check_unique(ending, layers)
    for layer in ending:
        layers[layer.name] = layer
        edges.append(_edge(tail, layer))
        tail = layer
    ctx.count_layers(len(layers) - len(encoder.layers) - len(decoder.layers), span)
    return Graph(layers, edges, "dlnetwork")


def _named_pairs(names: list[str]) -> list[tuple[str, str]]:
    """SkipConnectionNames given as [e1 d1; e2 d2; ...] (column-major: e1, e2, ..., d1, d2, ...)."""
    if len(names) % 2:
        raise BuiltinError("'SkipConnectionNames' must be pairs: [encoderName decoderName; ...]")
    half = len(names) // 2
    return list(zip(names[:half], names[half:]))


def _merge_skips(layers: dict[str, Layer], edges: list[Connection], pairs: list[tuple[str, str]], kind: str,
                 span: Span | None) -> list[Connection]:
    """Each decoder layer's output goes to a merge with a center crop of its encoder layer's output."""
    for index, (encoder_name, decoder_name) in enumerate(pairs, 1):
        for name in (encoder_name, decoder_name):
            if name not in layers:
                raise BuiltinError(f"'SkipConnectionNames' names '{name}', which is in neither network")
        crop = Crop2dLayer(location="centercrop", name=f"encoderDecoderSkipConnectionCrop{index}", span=span)
        merge_name = f"encoderDecoderSkipConnectionFeatureMerge{index}"
        merge = (ConcatenationLayer(dim=3, num_inputs=2, name=merge_name, span=span) if kind == "concatenate"
                 else AdditionLayer(num_inputs=2, name=merge_name, span=span))
        layers[crop.name], layers[merge.name] = crop, merge
        source = layers[decoder_name]
        moved = [edge for edge in edges if edge.source == decoder_name]
        edges = [edge for edge in edges if edge.source != decoder_name]
        edges += [_edge(source, crop, "ref"), _edge(source, merge, "in2"), _edge(crop, merge, "in1"),
                  _edge(layers[encoder_name], crop),
                  *(edge.model_copy(update={"source": merge.name, "source_port": "out"}) for edge in moved)]
    return edges


# -- segnetLayers ------------------------------------------------------------------------------

PerSection = PositiveInt | list[PositiveInt]
"""A number for every encoder section, or one number each."""


class _SegnetOptions(_Options):
    """segnetLayers' arguments in its encoderDepth form (vision's segnetLayers)."""

    image_size: ImageSize
    num_classes: Annotated[int, Field(gt=1)]
    encoder_depth: PositiveInt
    num_convolution_layers: PerSection = 2
    num_output_channels: PerSection = 64
    filter_size: Pair = (3, 3)

    _odd_filters = field_validator("filter_size")(_odd)

    def per_section(self, field: str) -> list[int]:
        value = getattr(self, field)
        if isinstance(value, int):
            return [value] * self.encoder_depth
        if len(value) != self.encoder_depth:
            option = "".join(part.capitalize() for part in field.split("_"))
            raise BuiltinError(f"'{option}' has {len(value)} values for an encoder depth of {self.encoder_depth}")
        return list(value)


_SEGNET_MODELS = {"vgg16": ([2, 2, 3, 3, 3], [64, 128, 256, 512, 512]), "vgg19": ([2, 2, 4, 4, 4], [64, 128, 256, 512, 512])}
"""segnetLayers' pretrained encoders: convolutions and channels per section (VGG's)."""


@library("segnetLayers")
def segnet_layers(ctx: "Interpreter", args: list[Arg], nargout: int, span: Span | None) -> Value:
    """`segnetLayers(imageSize, numClasses, encoderDepth, ...)`, as MATLAB documents it: 'inputImage',
    then per encoder section k conv-BN-ReLU blocks ('encoder<k>_conv<j>', 'encoder<k>_bn_<j>',
    'encoder<k>_relu_<j>') and a 2x2 max pooling that also outputs its indices and size
    ('encoder<k>_maxpool'); the decoder sections, deepest first, unpool with those ('decoder<k>_unpool')
    and run their blocks in the reverse order (the last, 'decoder1_conv1', gives the classes), then
    'softmax' and 'pixelLabels'. Convolutions pad to keep the size, have MSRA (He) weights and a bias
    fixed at zero. (Depth 4 on [480 640 3]: 59 layers, 66 connections, as the documentation shows.)"""
    unknown = _unknown(args)
    if unknown is not None:
        return unknown
    if len(args) >= 3 and isinstance(args[2].value, (Char, Str)):
        model = args[2].value.text.lower()
        convolutions, channels = _SEGNET_MODELS.get(model, ([2, 2, 3, 3, 3], [64, 128, 256, 512, 512]))
        raise BuiltinError(f"netspec does not build segnetLayers' pretrained '{args[2].value.text}' form (its layer "
                           "names and weights are VGG's)", 2,
                           hint=f"the same sizes: segnetLayers(imageSize, numClasses, 5, 'NumConvolutionLayers', "
                           f"[{' '.join(map(str, convolutions))}], 'NumOutputChannels', "
                           f"[{' '.join(map(str, channels))}])")
    options, _ = _arguments(ctx, _SegnetOptions, "segnetLayers", args, ("image_size", "num_classes", "encoder_depth"),
                            span)
    convolutions, channels = options.per_section("num_convolution_layers"), options.per_section("num_output_channels")
    pad_rows, pad_cols = ((size - 1) // 2 for size in options.filter_size)

    def block(prefix: str, j: int, filters: int) -> list[Layer]:
        return [Convolution2dLayer(filter_size=options.filter_size, num_filters=filters,
                                   padding=(pad_rows, pad_rows, pad_cols, pad_cols), weights_initializer="he",
                                   bias_learn_rate_factor=0, name=f"{prefix}_conv{j}", span=span),
                BatchNormalizationLayer(name=f"{prefix}_bn_{j}", span=span),
                ReluLayer(name=f"{prefix}_relu_{j}", span=span)]

    chain: list[Layer] = [ImageInputLayer(input_size=options.image_size, name="inputImage", span=span)]
    pools = []
    for k in range(1, options.encoder_depth + 1):
        chain += [layer for j in range(1, convolutions[k - 1] + 1) for layer in block(f"encoder{k}", j, channels[k - 1])]
        pools.append(MaxPooling2dLayer(pool_size=2, stride=2, has_unpooling_outputs=True, name=f"encoder{k}_maxpool",
                                       span=span))
        chain.append(pools[-1])
    unpools = {}
    for k in range(options.encoder_depth, 0, -1):
        unpools[k] = MaxUnpooling2dLayer(name=f"decoder{k}_unpool", span=span)
        chain.append(unpools[k])
        for j in range(convolutions[k - 1], 0, -1):  # the last block gives the next section's channels
            filters = channels[k - 1] if j > 1 else channels[k - 2] if k > 1 else options.num_classes
            chain += block(f"decoder{k}", j, filters)
    chain += [SoftmaxLayer(name="softmax", span=span), PixelClassificationLayer(name="pixelLabels", span=span)]
    edges = graphs._chain(chain)
    for k, pool in enumerate(pools, 1):
        edges += [Connection(source=pool.name, source_port=port, destination=unpools[k].name, destination_port=port)
                  for port in ("indices", "size")]
    ctx.count_layers(len(chain), span)
    return Graph({layer.name: layer for layer in chain}, edges)
