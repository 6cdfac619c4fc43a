"""The IR's building blocks: the `Layer` base model, option types and the registry.

Every layer type is one pydantic model whose fields are MATLAB's properties in
snake_case (`FilterSize` -> `filter_size`), with MATLAB's defaults. The class also
says how MATLAB constructs it (`matlab` function name, `positional` arguments) and
its default name base (`conv` -> `conv_1`), so the interpreter needs no per-layer
code and adding a layer is one class.
"""


from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, NonNegativeFloat, PositiveInt

from ..diagnostics import Span
from .data_kind import DataKind
from .learnable import Learnable, format_size, matlab_size
from .saved import CHANNEL_ORDER, Kept
from .shape import Dim, Shape, ShapeError, Window, is_known

__all__ = [
    "Layer", "LAYERS", "Pair", "Padding2d", "Padding1d", "LearnRateFactor", "Initializer",
    "BiasInitializer", "NumChannels", "Scalar", "option_key", "MultiInputLayer", "InputLayer",
    "OutputLayer", "Family", "TRAITS", "Factor", "trained", "ADDED", "NotSupported",
]


class NotSupported(ValueError):
    """A value MATLAB accepts that netspec does not read yet (`sequenceInputLayer([81 128])`, a
    sequence of 1-D images): raised by a validator so that the interpreter says so (E208) instead
    of calling the value invalid."""


def option_key(name: str) -> str:
    """MATLAB option names are case-insensitive: 'filterSize' and 'FilterSize' match `filter_size`."""
    return name.replace("_", "").lower()


def _as_list(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [value]
    return list(value) if isinstance(value, tuple) else value


def _expand_pair(value: Any) -> Any:
    """A scalar size means the same size on both axes, as in MATLAB."""
    value = _as_list(value)
    if not isinstance(value, list) or len(value) not in (1, 2):
        raise ValueError("expected a size: a whole number or [height width]")
    return [value[0], value[0]] if len(value) == 1 else value


def _non_negative(values: list) -> None:
    if any(isinstance(v, (int, float)) and v < 0 for v in values):
        raise ValueError("padding must not be negative")


def _expand_padding_2d(value: Any) -> Any:
    """MATLAB padding forms: p, [tb lr], [t b l r] or 'same' -> (top, bottom, left, right)."""
    if isinstance(value, str):
        if value.lower() != "same":
            raise ValueError("padding is a number, [tb lr], [t b l r] or 'same'")
        return "same"
    value = _as_list(value)
    if not isinstance(value, list) or len(value) not in (1, 2, 4):
        raise ValueError("padding is a number, [tb lr], [t b l r] or 'same'")
    _non_negative(value)
    if len(value) == 1:
        return [value[0]] * 4
    if len(value) == 2:
        return [value[0], value[0], value[1], value[1]]
    return value


def _expand_padding_1d(value: Any) -> Any:
    """1-D padding forms: p, [left right], 'same' or 'causal'."""
    if isinstance(value, str):
        if value.lower() not in ("same", "causal"):
            raise ValueError("padding is a number, [left right], 'same' or 'causal'")
        return value.lower()
    value = _as_list(value)
    if not isinstance(value, list) or len(value) not in (1, 2):
        raise ValueError("padding is a number, [left right], 'same' or 'causal'")
    _non_negative(value)
    return [value[0], value[0]] if len(value) == 1 else value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _unwrap_scalar(value: Any) -> Any:
    """A 1-element vector is a scalar (`[5]` is 5 in MATLAB)."""
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError("expected a single whole number")
        return value[0]
    if isinstance(value, str):
        raise ValueError("expected a whole number, not text")
    return value


NonNegativeInt = Annotated[int, Field(ge=0)]
Scalar = Annotated[PositiveInt, BeforeValidator(_unwrap_scalar)]
Pair = Annotated[tuple[PositiveInt, PositiveInt], BeforeValidator(_expand_pair)]
Padding2d = Annotated[
    Literal["same"] | tuple[NonNegativeInt, NonNegativeInt, NonNegativeInt, NonNegativeInt],
    BeforeValidator(_expand_padding_2d),
]
Padding1d = Annotated[
    Literal["same", "causal"] | tuple[NonNegativeInt, NonNegativeInt],
    BeforeValidator(_expand_padding_1d),
]
LearnRateFactor = NonNegativeFloat
Factor = float | tuple[float, ...]
"""A learnable's learn-rate or L2 factor: one number, or one per gate (a recurrent layer's 1-by-4 vector)."""


def trained(factor: Factor) -> bool:
    """Training updates a learnable whose learn-rate factor is above 0 (for some gate, per gate)."""
    return max(factor) > 0 if isinstance(factor, tuple) else factor > 0


Initializer = Annotated[
    Literal["glorot", "he", "narrow-normal", "zeros", "ones", "orthogonal"], BeforeValidator(_lower)
]
BiasInitializer = Annotated[Literal["zeros", "ones", "narrow-normal"], BeforeValidator(_lower)]
NumChannels = Annotated[Literal["auto"] | PositiveInt, BeforeValidator(_lower)]
Lower = BeforeValidator(_lower)

_OPTION_FIELDS: dict[type, dict[str, str]] = {}

LAYERS: dict[str, type["Layer"]] = {}
"""Every concrete layer model, keyed by its `kind` discriminator."""

Family = Literal["io", "conv", "fc", "norm", "activation", "pool", "merge", "other", "recurrent"]
"""The group a layer is drawn with (the graph's colour and outline)."""

TRAITS = ("elementwise", "family", "torch_counted")
"""Class-level facts every concrete layer states itself (no default: a test checks each class)."""


_CLASS_SPELLINGS = (("2d", "2D"), ("1d", "1D"), ("Relu", "ReLU"), ("Gelu", "GELU"), ("Elu", "ELU"))
"""How MATLAB's class names capitalise what its constructors write in lower case."""


def _class_of(constructor: str) -> str:
    """MATLAB's class for a layer constructor: `convolution2dLayer` -> `nnet.cnn.layer.Convolution2DLayer`
    (a package-qualified constructor is the class itself)."""
    if "." in constructor:
        return constructor
    name = constructor[:1].upper() + constructor[1:]
    for written, spelled in _CLASS_SPELLINGS:
        name = name.replace(written, spelled)
    return f"nnet.cnn.layer.{name}"


class Layer(BaseModel):
    """A layer as MATLAB defines it; subclasses add MATLAB's properties."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, ser_json_inf_nan="constants",
                              defer_build=True)

    kind: str
    name: str = ""
    span: Span | None = Field(default=None, description="where the layer was constructed")

    matlab: ClassVar[str] = ""
    """The MATLAB constructor, e.g. `convolution2dLayer`."""
    matlab_class: ClassVar[str] = ""
    """MATLAB's class of the layer (`class(layer)`, `isa`), e.g. `nnet.cnn.layer.Convolution2DLayer`:
    derived from `matlab` (see `_class_of`) unless the class body names it."""
    base_name: ClassVar[str] = ""
    """MATLAB's default name for unnamed layers (`conv` -> `conv_1`, `conv_2`, ...)."""
    positional: ClassVar[tuple[str, ...]] = ()
    """Fields set by positional arguments, in MATLAB's order."""
    required: ClassVar[int] = 0
    """How many of the positional arguments MATLAB requires."""
    ignored_options: ClassVar[frozenset[str]] = frozenset()
    """MATLAB options accepted for compatibility but not modelled (warned about)."""
    learnable_options: ClassVar[tuple[str, ...]] = ()
    """Fields that hold given learnable values (`Learnable`): 'Weights', 'Bias', BN's 'Offset', ..."""
    data_statistics: ClassVar[tuple[str, ...]] = ()
    """Options MATLAB computes from the training data when they are not given (an input layer's
    'Mean'): a value netspec cannot compute leaves them unset, with a note."""
    data_labels: ClassVar[tuple[str, ...]] = ()
    """Options about the training data's labels that do not shape the network (an output layer's
    'Classes', 'ClassWeights'): a value netspec cannot compute (`countEachLabel(pxds)`) leaves them
    unset, with a note, and the network is analyzed all the same."""
    option_aliases: ClassVar[dict[str, str]] = {}
    """Other MATLAB names of options (lower case, no underscores) -> field: the names an older release used."""
    size_inputs: ClassVar[frozenset[str]] = frozenset()
    """Input ports that give only a size or positions (crop2dLayer's 'ref', maxUnpooling2dLayer's
    'indices' and 'size'), not the values the output is made of: receptive fields skip them."""

    # -- traits: no defaults, every concrete class sets them in its own body (TRAITS) ----
    elementwise: ClassVar[bool]
    """One input, the same shape out, each output element computed from the input element at
    its place: a 1×1 reduction stays a bottleneck through it (batch norm, relu, dropout)."""
    family: ClassVar[Family]
    """The group the graph draws it in."""
    torch_counted: ClassVar[bool]
    """torch's FlopCounterMode counts its work (convolutions and matrix products):
    the analysis reports its `torch_flops` as 2·MACs, others as 0."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        kind = cls.model_fields["kind"].default
        if cls.matlab and isinstance(kind, str):
            LAYERS[kind] = cls
            if "matlab_class" not in cls.__dict__:
                cls.matlab_class = _class_of(cls.matlab)

    # -- ports -------------------------------------------------------------------
    @property
    def input_names(self) -> list[str]:
        """MATLAB's input port names: `in`, or `in1`..`inN` for multi-input layers."""
        return ["in"]

    @property
    def output_names(self) -> list[str]:
        return ["out"]

    # -- options -----------------------------------------------------------------
    @classmethod
    def option_fields(cls) -> dict[str, str]:
        """Case-insensitive MATLAB option name -> field name (everything but kind/span)."""
        cached = _OPTION_FIELDS.get(cls)
        if cached is None:
            cached = {option_key(field): field for field in cls.model_fields if field not in ("kind", "span")}
            cached.update(cls.option_aliases)
            _OPTION_FIELDS[cls] = cached
        return cached

    @classmethod
    def matlab_option(cls, field: str) -> str:
        """The MATLAB spelling of a field, for messages: `filter_size` -> `FilterSize`."""
        return "".join(part[:1].upper() + part[1:] for part in field.split("_"))

    def display_type(self) -> str:
        return self.matlab

    # -- analysis rules: pure Python, read by netspec.analysis --------------------
    flops_per_element: ClassVar[int] = 0
    """Non-MAC operations per output element (SPEC §5: one for activations, BN, ...)."""

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        """One shape per output port. Default: an element-wise layer keeps its input shape."""
        return [inputs[0]]

    def learnables(self, inputs: list[Shape]) -> Dim:
        return 0

    def learnable_sizes(self, inputs: list[Shape]) -> dict[str, tuple[Dim, ...]]:
        """The MATLAB size of each learnable in `learnable_options`, for this input."""
        return {}

    def check_learnables(self, inputs: list[Shape]) -> None:
        """Given learnable values must have the size the layer's learnables have (MATLAB's order);
        the error points at the option or assignment that gave them."""
        for field, expected in self.learnable_sizes(inputs).items():
            given: Learnable | None = getattr(self, field)
            if given is None or given.size is None or not all(is_known(d) for d in expected):
                continue
            if matlab_size(given.size) != matlab_size(expected):
                option = self.matlab_option(field)
                raise ShapeError(f"{self.matlab} '{option}' is {format_size(given.size)}, but this layer's "
                                 f"{option} are {format_size(expected)}",
                                 hint=f"give '{option}' as a {format_size(expected)} array, or fix the layer's "
                                 "sizes or the layers before it", code="A106", span=given.span)

    def states(self, inputs: list[Shape]) -> Dim:
        """Non-learnable state (BN running statistics)."""
        return 0

    def trainable_learnables(self, inputs: list[Shape]) -> Dim:
        """Learnables whose learn-rate factor is not 0 (`learnable_factors`): the ones training
        gives gradients and optimizer state; factor 0 freezes them."""
        factors = self.learnable_factors()
        total: Dim = 0
        for option, size in self.learnable_sizes(inputs).items():
            if option in factors and trained(factors[option][0]):
                count: Dim = 1
                for d in size:
                    count = count * d
                total = total + count
        return total

    passes_gradient: ClassVar[bool] = True
    """Its output is a differentiable function of its inputs' values; False for a layer that reads
    only positions or indices (embeddings): no gradient goes back through it."""

    shares_input_storage: ClassVar[bool] = False
    """Its lowered output is a view of its input (flatten, crop): keeping one keeps the other."""

    def kept_for_backward(self, inputs: list[Shape], outputs: list[Shape]) -> tuple[Kept, ...]:
        """The tensors autograd keeps for this layer's backward pass, as its lowered PyTorch
        operations save them (`netspec.ir.saved`); default: none (addition, concatenation, reshapes)."""
        return ()

    def sequence_order(self, input_order: str) -> str:
        """The memory order its lowered output is written in when a sequence (`netspec.ir.saved`):
        an element-wise layer keeps its input's, anything else writes (N, C, T)."""
        return input_order if self.elementwise else CHANNEL_ORDER

    def storage_elements(self, inputs: list[Shape], outputs: list[Shape]) -> list[Dim]:
        """Elements per image of the storage each lowered output lives in: the output's own,
        unless it is a view of a larger tensor (a recurrent layer's last step)."""
        return [shape.numel for shape in outputs]

    def macs(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        """Multiply-accumulates of the layer's convolution or matrix product (bias not counted)."""
        return 0

    def flops(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        """2·MACs plus the per-element operations of SPEC §5's table."""
        elements = sum((shape.numel for shape in outputs), 0)
        return 2 * self.macs(inputs, outputs) + self.flops_per_element * elements

    def learnable_factors(self) -> dict[str, tuple[Factor, Factor]]:
        """MATLAB's (learn-rate factor, L2 factor) of each learnable training updates, by its option
        ('weights' -> WeightLearnRateFactor, WeightL2Factor; 'offset' -> OffsetLearnRateFactor, ...):
        the one place that says which option holds a learnable's factors. The lowering finds a
        parameter's learnable by its name (`netspec.backends.torch.parameter_factors`) and freezes it
        at learn-rate factor 0; training groups parameters by both factors; the analysis counts
        gradients and trained learnables from them. States (running statistics, initial states)
        have none."""
        return {}

    def trains(self) -> bool:
        """Some learnable has a learn-rate factor above 0: autograd computes gradients for it."""
        return any(trained(rate) for rate, _ in self.learnable_factors().values())

    def torch_weight_gradient_flops(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        """What FlopCounterMode counts for the weight gradient: the forward's products once more."""
        return 2 * self.macs(inputs, outputs) if self.torch_counted else 0

    def training_costs(self, inputs: list[Shape], outputs: list[Shape], convention: str,
                       input_gradient: bool) -> tuple[Dim, Dim, Dim]:
        """(forward, backward to the inputs, backward to the learnables) of one sample in `convention`
        (`analyze --convention`). The gradient to the inputs is computed only where `input_gradient`
        (a trained layer before this one); a learnable only when its learn-rate factor is above 0.

        A product's two gradients are products of the same size: MACs each (torch: 2·MACs). netspec's
        FLOPs add, to the inputs, the derivative of each per-element operation (`flops_per_element`),
        and, to the learnables, one operation per output element for a bias, offset or per-element
        scale (a sum over the positions)."""
        macs = self.macs(inputs, outputs)
        factors = self.learnable_factors()
        weights = any(trained(rate) for option, (rate, _) in factors.items() if option not in ADDED)
        bias = any(trained(rate) for option, (rate, _) in factors.items() if option in ADDED)
        if convention == "macs":
            forward, to_inputs, to_weights = macs, macs, macs if weights else 0
        elif convention == "torch":
            forward = to_inputs = 2 * macs if self.torch_counted else 0
            to_weights = self.torch_weight_gradient_flops(inputs, outputs) if weights else 0
        else:
            elements = sum((shape.numel for shape in outputs), 0)
            forward, to_inputs = self.flops(inputs, outputs), 2 * macs + self.flops_per_element * elements
            to_weights = ((2 * macs if macs != 0 else elements) if weights else 0) + (elements if bias else 0)
        return forward, to_inputs if input_gradient else 0, to_weights

    def windows(self, inputs: list[Shape]) -> "tuple[Window, ...] | str | None":
        """How outputs see inputs, for receptive fields: per-axis windows, GLOBAL, or None
        (element-wise: each output sees the same input position)."""
        return None

    def field_axes(self, inputs: list[Shape]) -> "tuple[int | None, ...] | None":
        """For a layer whose output has other axes than its input (sequence folding): per output
        axis, the input axis whose receptive field it continues, or None for an axis whose
        outputs each see one position. None (the default): the same axes."""
        return None

    def require(self, inputs: list[Shape], *kinds: DataKind) -> Shape:
        shape = inputs[0]
        if shape.kind not in kinds:
            wanted = " or ".join(kind.description for kind in kinds)
            raise ShapeError(f"{self.matlab} needs {wanted}, but its input is {shape}",
                             hint="check the layers before it (a flattenLayer or global pooling changes the kind)",
                             code="A104")
        return shape


ADDED = frozenset({"bias", "offset"})
"""Learnables added to a layer's output: their gradient is a sum over the positions, not a product."""


MAX_INPUTS = 4096
"""Input ports of one merge layer: inception modules join 4, the widest real concatenations a
few dozen; each port is an object, so `additionLayer(1e12)` must stop here."""


class MultiInputLayer(Layer):
    """A layer with `num_inputs` input ports named `in1`..`inN`."""

    num_inputs: Annotated[int, Field(ge=2, le=MAX_INPUTS)] = 2

    @property
    def input_names(self) -> list[str]:
        return [f"in{i}" for i in range(1, self.num_inputs + 1)]


class InputLayer(Layer):
    """A network input: no input ports."""

    @property
    def input_names(self) -> list[str]:
        return []

    def statistics_held(self, outputs: list[Shape]) -> Dim:
        """Values of the normalization statistics its lowered module holds: each of
        `data_statistics` per channel, whatever the normalization (they travel in checkpoints)."""
        return len(self.data_statistics) * outputs[0].channels

    @property
    def flops_per_element(self) -> int:  # type: ignore[override]
        """Input normalization: subtract (zerocenter, rescale) or subtract and divide (zscore)."""
        return {"none": 0, "zscore": 2}.get(getattr(self, "normalization", "none"), 1)


class OutputLayer(Layer):
    """A loss layer: no output ports (the loss is not counted in inference cost)."""

    @property
    def output_names(self) -> list[str]:
        return []

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        return []
