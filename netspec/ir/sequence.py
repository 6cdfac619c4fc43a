"""Sequence layers other than the recurrent ones: folding image sequences into images and back,
self-attention, position embeddings and encodings, indexing along time, word embeddings."""


from typing import Annotated, Literal

from pydantic import Field, PositiveInt, model_validator

from .base import BiasInitializer, Initializer, Layer, LearnRateFactor, Lower, trained
from .data_kind import IMAGE, IMAGE_SEQUENCE, SEQUENCE, STEPS
from .learnable import Learnable
from .saved import STEP_ORDER, Kept
from .shape import GLOBAL, Dim, Shape, ShapeError, is_known

__all__ = ["SequenceFoldingLayer", "SequenceUnfoldingLayer", "SelfAttentionLayer", "PositionEmbeddingLayer",
           "SinusoidalPositionEncodingLayer", "Indexing1dLayer", "WordEmbeddingLayer"]

Auto = Literal["auto"]


class SequenceFoldingLayer(Layer):
    """A batch of image sequences -> a batch of images (every time step one image), so that
    convolutions and pooling act on each step; 'miniBatchSize' tells the matching
    sequenceUnfoldingLayer how to put the sequences back."""

    kind: Literal["sequence_folding"] = "sequence_folding"
    matlab = "sequenceFoldingLayer"
    base_name = "seqfold"
    elementwise = False
    family = "other"
    torch_counted = False

    @property
    def output_names(self) -> list[str]:
        return ["out", "miniBatchSize"]

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        shape = self.require(inputs, IMAGE_SEQUENCE)
        steps, *image = shape.dims
        return [Shape.image(*image).repeated(steps), Shape(STEPS, (steps,))]

    def field_axes(self, inputs: list[Shape]):
        """Each image is one time step: its H and W go on, time is set aside."""
        return (1, 2)


class SequenceUnfoldingLayer(Layer):
    """The images of a sequenceFoldingLayer ('in', after the layers between) -> image sequences
    again, as its 'miniBatchSize' says; vectors made of them (a flattenLayer, fully connected
    layer or global pooling between) become vector sequences."""

    kind: Literal["sequence_unfolding"] = "sequence_unfolding"
    matlab = "sequenceUnfoldingLayer"
    base_name = "sequnfold"
    elementwise = False
    family = "other"
    torch_counted = False
    size_inputs = frozenset({"miniBatchSize"})
    shares_input_storage = True

    @property
    def input_names(self) -> list[str]:
        return ["in", "miniBatchSize"]

    def sequence_order(self, input_order: str) -> str:
        """A view of the folded images: each sample's steps one after another, (N, T, C, H, W)."""
        return STEP_ORDER

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        images, steps = inputs
        if steps.kind is not STEPS:
            raise ShapeError(f"sequenceUnfoldingLayer's 'miniBatchSize' input is {steps}, not a folding's "
                             "'miniBatchSize'", hint="connect it: connectLayers(lgraph, 'fold/miniBatchSize', "
                             f"'{self.name}/miniBatchSize')", code="A104")
        (length,) = steps.dims
        if images.kind.time or images.repeat != length:
            raise ShapeError(f"sequenceUnfoldingLayer unfolds {images}, which are not the images of the "
                             f"sequence folding whose 'miniBatchSize' it takes ({length} steps)",
                             hint="connect its 'in' to the layers after that sequenceFoldingLayer", code="A107")
        if images.kind is IMAGE:
            return [Shape.image_sequence(length, *images.dims)]
        return [Shape.sequence(length, images.step_numel)]

    def field_axes(self, inputs: list[Shape]):
        """Time comes back, each output step seeing its own image only; an image's H and W go on."""
        return (None, *range(len(inputs[0].spatial)))


def _divides(heads: int, channels: object, option: str) -> None:
    if isinstance(channels, int) and channels % heads:
        raise ValueError(f"NumHeads {heads} must divide {option} {channels}")


class SelfAttentionLayer(Layer):
    """Multi-head scaled dot-product self-attention over time, as MATLAB's: queries, keys and
    values are fully connected maps of the input (NumKeyChannels, NumKeyChannels and
    NumValueChannels channels, split evenly over the heads), each head softmax(QKᵀ/√(K/h))·V,
    the heads' results side by side, then a fully connected map to OutputSize channels."""

    kind: Literal["self_attention"] = "self_attention"
    matlab = "selfAttentionLayer"
    base_name = "selfattention"
    positional = ("num_heads", "num_key_channels")
    required = 2
    elementwise = False
    family = "fc"
    torch_counted = True
    learnable_options = ("query_weights", "key_weights", "value_weights", "output_weights",
                         "query_bias", "key_bias", "value_bias", "output_bias")

    num_heads: PositiveInt
    num_key_channels: PositiveInt
    num_value_channels: Annotated[Auto | PositiveInt, Lower] = "auto"
    output_size: Annotated[Auto | PositiveInt, Lower] = "auto"
    has_padding_mask_input: bool = False
    attention_mask: Annotated[Literal["none", "causal"], Lower] = "none"
    dropout_probability: float = Field(0.0, ge=0, lt=1)
    has_scores_output: bool = False
    weights_initializer: Initializer = "glorot"
    bias_initializer: BiasInitializer = "zeros"
    weight_learn_rate_factor: LearnRateFactor = 1.0
    bias_learn_rate_factor: LearnRateFactor = 1.0
    weight_l2_factor: LearnRateFactor = 1.0
    bias_l2_factor: LearnRateFactor = 0.0
    query_weights: Learnable | None = None
    key_weights: Learnable | None = None
    value_weights: Learnable | None = None
    output_weights: Learnable | None = None
    query_bias: Learnable | None = None
    key_bias: Learnable | None = None
    value_bias: Learnable | None = None
    output_bias: Learnable | None = None

    @model_validator(mode="after")
    def _supported(self):
        _divides(self.num_heads, self.num_key_channels, "NumKeyChannels")
        _divides(self.num_heads, self.num_value_channels, "NumValueChannels")
        if self.has_scores_output:
            raise ValueError("'HasScoresOutput' true is not supported: netspec's selfAttentionLayer has one "
                             "output, the attended values")
        if self.has_padding_mask_input:
            raise ValueError("'HasPaddingMaskInput' true is not supported: netspec pads sequences itself and "
                             "has no mask input")
        return self

    @property
    def value_channels(self) -> int:
        return self.num_key_channels if self.num_value_channels == "auto" else self.num_value_channels

    def out_channels(self, inputs: list[Shape]) -> Dim:
        return inputs[0].channels if self.output_size == "auto" else self.output_size

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        shape = self.require(inputs, SEQUENCE)
        return [shape.with_channels(self.out_channels(inputs))]

    def learnable_sizes(self, inputs: list[Shape]) -> dict[str, tuple[Dim, ...]]:
        """Query and key weights NumKeyChannels×C, value weights NumValueChannels×C, output weights
        OutputSize×NumValueChannels; each bias a column of its weights' rows."""
        channels, keys, values, out = inputs[0].channels, self.num_key_channels, self.value_channels, \
            self.out_channels(inputs)
        return {"query_weights": (keys, channels), "key_weights": (keys, channels),
                "value_weights": (values, channels), "output_weights": (out, values),
                "query_bias": (keys, 1), "key_bias": (keys, 1), "value_bias": (values, 1), "output_bias": (out, 1)}

    def learnables(self, inputs: list[Shape]) -> Dim:
        channels, keys, values = inputs[0].channels, self.num_key_channels, self.value_channels
        return (2 * keys + values) * (channels + 1) + self.out_channels(inputs) * (values + 1)

    def macs(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        """Per step the three projections C·(2K+V) and the output map V·O; across steps QKᵀ
        (T²·K over the heads) and the weighted sum of the values (T²·V)."""
        steps, channels = inputs[0].dims
        keys, values = self.num_key_channels, self.value_channels
        projections = steps * (channels * (2 * keys + values) + values * self.out_channels(inputs))
        return projections + steps * steps * (keys + values)

    def flops(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        """2·MACs, a bias per projected element, and per attention score (T² in each head) its
        scaling and its softmax, one operation each (as softmaxLayer counts)."""
        steps = inputs[0].dims[0]
        biases = steps * (2 * self.num_key_channels + self.value_channels + self.out_channels(inputs))
        return 2 * self.macs(inputs, outputs) + biases + 2 * self.num_heads * steps * steps

    def learnable_factors(self) -> dict[str, tuple[float, float]]:
        """WeightLearnRateFactor and WeightL2Factor for all four weights, the Bias ones for the biases."""
        weights, bias = (self.weight_learn_rate_factor, self.weight_l2_factor), \
            (self.bias_learn_rate_factor, self.bias_l2_factor)
        return {option: bias if option.endswith("bias") else weights for option in self.learnable_options}

    def training_costs(self, inputs: list[Shape], outputs: list[Shape], convention: str,
                       input_gradient: bool) -> tuple[Dim, Dim, Dim]:
        """The projections' gradients to the input and to their weights, and the output map's to
        its weights, as a fully connected layer's. Between them, the gradient to the heads' results
        through the output map and both gradients of each attention product (QKᵀ to Q and K, the
        weighted sum to the weights and V; netspec's FLOPs add the scores' scaling and softmax) are
        needed by both: counted with the learnables when any trains, else with the input."""
        steps, channels = inputs[0].dims
        keys, values, out = self.num_key_channels, self.value_channels, self.out_channels(inputs)
        projections, output_map = steps * channels * (2 * keys + values), steps * values * out
        products = steps * steps * (keys + values)
        if convention == "macs":
            forward, between, scale, added = self.macs(inputs, outputs), output_map + 2 * products, 1, 0
        else:
            scores = 2 * self.num_heads * steps * steps if convention == "flops" else 0
            forward = self.flops(inputs, outputs) if convention == "flops" else 2 * self.macs(inputs, outputs)
            between, scale = 2 * output_map + 4 * products + scores, 2
            added = steps * (2 * keys + values + out) if convention == "flops" else 0
        trains = self.trains()
        to_inputs = scale * projections + (0 if trains else between) if input_gradient else 0
        to_weights = (scale * (projections + output_map) if trained(self.weight_learn_rate_factor) else 0) + \
            (added if trained(self.bias_learn_rate_factor) else 0) + (between if trains else 0)
        return forward, to_inputs, to_weights

    def windows(self, inputs: list[Shape]):
        return GLOBAL

    def kept_for_backward(self, inputs: list[Shape], outputs: list[Shape]) -> tuple[Kept, ...]:
        """The input as the projections read it (N, T, C), and the concatenated heads, for the
        weights' gradients; the queries, keys and values; per head the softmax of the scores
        (and with dropout its mask and result, in the activations' type on the CPU); a causal
        mask, one byte per pair of steps, once per batch."""
        steps = inputs[0].dims[0]
        keys, values, scores = self.num_key_channels, self.value_channels, self.num_heads * steps * steps
        kept = [Kept.new(steps * keys), Kept.new(steps * keys), Kept.new(steps * values), Kept.new(scores)]
        if self.weight_learn_rate_factor:
            kept += [Kept.input_in(STEP_ORDER), Kept.new(steps * values)]
        if self.dropout_probability:
            kept += [Kept.new(scores), Kept.new(scores)]
        if self.attention_mask == "causal":
            kept.append(Kept.new(steps * steps, boolean=True, per_batch=True))
        return tuple(kept)

    def sequence_order(self, input_order: str) -> str:
        return STEP_ORDER


class _LookupTable:
    """A layer whose output is columns of its Weights, picked by an index per step (a position or a
    word): what autograd keeps and how its factors read, shared by the two embeddings (each declares
    its own `weight_learn_rate_factor` and `weight_l2_factor` fields, in MATLAB's option order)."""

    def kept_for_backward(self, inputs: list[Shape], outputs: list[Shape]) -> tuple[Kept, ...]:
        """The int64 index of each step, for the weights' gradient (none when they are frozen)."""
        return (Kept.new(inputs[0].dims[0], index=True),) if self.weight_learn_rate_factor else ()

    def sequence_order(self, input_order: str) -> str:
        return STEP_ORDER

    def learnable_factors(self) -> dict[str, tuple[float, float]]:
        return {"weights": (self.weight_learn_rate_factor, self.weight_l2_factor)}


class _PositionLayer(Layer):
    """A layer whose output is a vector for each position (time step) of its input, whatever the
    values there: OutputSize channels at each of the input's T steps."""

    output_size: PositiveInt

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        shape = self.require(inputs, SEQUENCE)
        return [shape.with_channels(self.output_size)]


class PositionEmbeddingLayer(_LookupTable, _PositionLayer):
    """Learned position vectors: column t of Weights (OutputSize×MaxPosition) at step t. Add it
    to the data with an additionLayer."""

    kind: Literal["position_embedding"] = "position_embedding"
    matlab = "positionEmbeddingLayer"
    base_name = "posembed"
    positional = ("output_size", "max_position")
    required = 2
    elementwise = False
    family = "other"
    torch_counted = False
    passes_gradient = False
    learnable_options = ("weights",)

    max_position: PositiveInt
    position_dimension: Annotated[Literal["auto", "temporal", "spatial"], Lower] = "auto"
    weights_initializer: Initializer = "narrow-normal"
    weight_learn_rate_factor: LearnRateFactor = 1.0
    weight_l2_factor: LearnRateFactor = 1.0
    weights: Learnable | None = None

    @model_validator(mode="after")
    def _temporal(self):
        if self.position_dimension == "spatial":
            raise ValueError("'PositionDimension' 'spatial' embeds the positions of 1-D images, which netspec "
                             "does not have; sequences embed their time steps ('auto' or 'temporal')")
        return self

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        (shape,) = super().output_shapes(inputs)
        steps = shape.dims[0]
        if is_known(steps) and steps > self.max_position:
            raise ShapeError(f"positionEmbeddingLayer embeds positions up to MaxPosition {self.max_position}, "
                             f"but its input has {steps} time steps",
                             hint="raise MaxPosition to the longest sequence, or shorten the sequences",
                             code="A108")
        return [shape]

    def learnable_sizes(self, inputs: list[Shape]) -> dict[str, tuple[Dim, ...]]:
        return {"weights": (self.output_size, self.max_position)}

    def learnables(self, inputs: list[Shape]) -> Dim:
        return self.output_size * self.max_position


class SinusoidalPositionEncodingLayer(_PositionLayer):
    """Fixed position vectors, no learnables: channel 2i of step p is sin(p/10000^(2i/d)),
    channel 2i+1 cos(p/10000^(2i/d)), d = OutputSize, p counted from 0 (Vaswani et al.)."""

    kind: Literal["sinusoidal_position_encoding"] = "sinusoidal_position_encoding"
    matlab = "sinusoidalPositionEncodingLayer"
    base_name = "posenc"
    positional = ("output_size",)
    required = 1
    elementwise = False
    family = "other"
    torch_counted = False

    positions: Annotated[Literal["auto", "temporal-indices", "spatial-indices", "data-values"], Lower] = "auto"

    @model_validator(mode="after")
    def _even_and_temporal(self):
        if self.output_size % 2:
            raise ValueError(f"OutputSize must be even (a sine and a cosine per frequency), not {self.output_size}")
        if self.positions not in ("auto", "temporal-indices"):
            raise ValueError(f"'Positions' '{self.positions}' is not supported: netspec encodes the time steps "
                             "of sequences ('auto' or 'temporal-indices')")
        return self

    def kept_for_backward(self, inputs: list[Shape], outputs: list[Shape]) -> tuple[Kept, ...]:
        """The sine's argument: the lowering counts the positions from its input (so that an
        export keeps N and T open), which autograd follows, though the gradient there is zero."""
        return (Kept.new(outputs[0].numel),)


class Indexing1dLayer(Layer):
    """One time step of a sequence, as a vector: the first (MATLAB's default) or the last."""

    kind: Literal["indexing1d"] = "indexing1d"
    matlab = "indexing1dLayer"
    base_name = "index1d"
    positional = ("index",)
    elementwise = False
    family = "other"
    torch_counted = False

    index: Annotated[Literal["first", "last"], Lower] = "first"
    has_padding_mask_input: bool = False

    shares_input_storage = True

    @model_validator(mode="after")
    def _no_mask(self):
        if self.has_padding_mask_input:
            raise ValueError("'HasPaddingMaskInput' true is not supported: netspec pads sequences itself and "
                             "has no mask input")
        return self

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        shape = self.require(inputs, SEQUENCE)
        return [Shape.feature(shape.channels)]

    def field_axes(self, inputs: list[Shape]):
        """A vector: no axes left."""
        return ()


class WordEmbeddingLayer(_LookupTable, Layer):
    """Word indices (a sequence of one channel, 1 to NumWords) -> their vectors, the columns of
    Weights (Dimension×NumWords). With OOVMode 'map-to-last' an index past NumWords reads the
    last column; 'error' makes such an index an error."""

    kind: Literal["word_embedding"] = "word_embedding"
    matlab = "wordEmbeddingLayer"
    base_name = "wordembed"
    positional = ("dimension", "num_words")
    required = 2
    elementwise = False
    family = "other"
    torch_counted = False
    passes_gradient = False
    learnable_options = ("weights",)

    dimension: PositiveInt
    num_words: PositiveInt
    oov_mode: Annotated[Literal["map-to-last", "error"], Lower] = "map-to-last"
    weights_initializer: Initializer = "narrow-normal"
    weight_learn_rate_factor: LearnRateFactor = 1.0
    weight_l2_factor: LearnRateFactor = 1.0
    weights: Learnable | None = None

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        shape = self.require(inputs, SEQUENCE)
        if is_known(shape.channels) and shape.channels != 1:
            raise ShapeError(f"wordEmbeddingLayer reads one word index per time step, but its input has "
                             f"{shape.channels} channels", hint="feed it sequenceInputLayer(1)", code="A105")
        return [shape.with_channels(self.dimension)]

    def learnable_sizes(self, inputs: list[Shape]) -> dict[str, tuple[Dim, ...]]:
        return {"weights": (self.dimension, self.num_words)}

    def learnables(self, inputs: list[Shape]) -> Dim:
        return self.dimension * self.num_words
