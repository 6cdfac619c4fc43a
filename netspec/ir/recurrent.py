"""Recurrent layers: lstmLayer, bilstmLayer and gruLayer, with MATLAB's options and learnables.

MATLAB keeps one bias per gate set (PyTorch keeps two, input and recurrent; gruLayer's
'recurrent-bias-after-multiplication' keeps both too), stacks the gates' weights vertically in
its own gate order (LSTM: input, forget, cell candidate, output; GRU: reset, update,
candidate), and a bidirectional layer's forward gates before its backward ones. The hidden
and cell states are states (not learnables), reported apart as batch normalization's
statistics are.

Costs, per sequence of T steps (D directions, G gates, H hidden units, C input channels):
MACs T·D·G·H·(C+H), the input and recurrent matrix products. FLOPs 2·MACs plus the per-step
element-wise work, per direction: LSTM 17H (4H input+recurrent sums, 4H bias, 4H gate
activations, 3H cell update f⊙c + i⊙g, H state activation, H output gate); GRU 14H (3H sums,
3H bias, 3H activations, H reset product, 4H update (1−z)⊙h̃ + z⊙h), plus 3H for the second bias
of 'recurrent-bias-after-multiplication'.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BeforeValidator, Field, NonNegativeFloat, PositiveInt, field_validator, model_validator

from .base import Factor, Layer, Lower, NumChannels, trained
from .data_kind import SEQUENCE
from .learnable import Learnable
from .recurrent_saved import recurrent_kept
from .saved import STEP_ORDER, TIME_ORDER, Kept
from .shape import GLOBAL, Dim, Shape, ShapeError, is_known

__all__ = ["RecurrentLayer", "LstmLayer", "BilstmLayer", "GruLayer", "RecurrentInitializer"]


def _factor(value):
    """A learn-rate or L2 factor: a scalar, or one value per gate (MATLAB's 1-by-4 / 1-by-3 vector)."""
    if isinstance(value, (list, tuple)):
        return value[0] if len(value) == 1 else tuple(value)
    return value


GateFactor = Annotated[NonNegativeFloat | tuple[NonNegativeFloat, ...], BeforeValidator(_factor)]
RecurrentInitializer = Annotated[Literal["glorot", "he", "orthogonal", "narrow-normal", "zeros", "ones"], Lower]
StateActivation = Annotated[Literal["tanh", "softsign", "relu"], Lower]
GateActivation = Annotated[Literal["sigmoid", "hard-sigmoid"], Lower]
OutputMode = Annotated[Literal["sequence", "last"], Lower]
FACTORS = ("input_weights_learn_rate_factor", "recurrent_weights_learn_rate_factor", "bias_learn_rate_factor",
           "input_weights_l2_factor", "recurrent_weights_l2_factor", "bias_l2_factor")


class RecurrentLayer(Layer):
    """What lstmLayer, bilstmLayer and gruLayer share: MATLAB's options, the learnables' sizes
    (G gates × D directions), and the costs in the module docstring."""

    gates: ClassVar[int]
    """Gate sets stacked in the weights: 4 for an LSTM, 3 for a GRU."""
    directions: ClassVar[int] = 1
    has_cell: ClassVar[bool] = True
    step_flops: ClassVar[int]
    """Element-wise operations per hidden unit, step and direction (module docstring)."""

    elementwise = False
    family = "recurrent"
    torch_counted = True
    positional = ("num_hidden_units",)
    required = 1
    learnable_options = ("input_weights", "recurrent_weights", "bias", "hidden_state")

    num_hidden_units: PositiveInt
    output_mode: OutputMode = "sequence"
    has_state_inputs: bool = False
    has_state_outputs: bool = False
    input_size: NumChannels = "auto"
    state_activation_function: StateActivation = "tanh"
    gate_activation_function: GateActivation = "sigmoid"
    input_weights_initializer: RecurrentInitializer = "glorot"
    recurrent_weights_initializer: RecurrentInitializer = "orthogonal"
    bias_initializer: Annotated[Literal["zeros", "ones", "narrow-normal"], Lower] = "zeros"
    input_weights_learn_rate_factor: GateFactor = 1.0
    recurrent_weights_learn_rate_factor: GateFactor = 1.0
    bias_learn_rate_factor: GateFactor = 1.0
    input_weights_l2_factor: GateFactor = 1.0
    recurrent_weights_l2_factor: GateFactor = 1.0
    bias_l2_factor: GateFactor = 0.0
    input_weights: Learnable | None = Field(None, description="given input weights, G·H×C (MATLAB's gate order)")
    recurrent_weights: Learnable | None = Field(None, description="given recurrent weights, G·H×H")
    bias: Learnable | None = Field(None, description="given bias, G·H×1")
    hidden_state: Learnable | None = Field(None, description="initial hidden state, H×1 (zeros if not given)")

    @field_validator("has_state_inputs", "has_state_outputs")
    @classmethod
    def _no_state_ports(cls, value: bool, info) -> bool:
        if value:
            option = "HasStateInputs" if info.field_name == "has_state_inputs" else "HasStateOutputs"
            raise ValueError(f"netspec does not model the state ports that {option} true adds; the initial "
                             "states can be given as 'HiddenState' (and 'CellState')")
        return value

    @model_validator(mode="after")
    def _one_factor_per_gate(self):
        for field in FACTORS:
            value = getattr(self, field)
            if isinstance(value, tuple) and len(value) != self.gates:
                raise ValueError(f"{self.matlab_option(field)} is a scalar or a 1-by-{self.gates} vector "
                                 f"(one per gate), not 1-by-{len(value)}")
        return self

    # -- sizes ------------------------------------------------------------------
    @property
    def width(self) -> int:
        """Hidden units over all directions: the output channels and the states' length."""
        return self.directions * self.num_hidden_units

    @property
    def bias_rows(self) -> int:
        """Rows of the bias: one per gate, hidden unit and direction."""
        return self.directions * self.gates * self.num_hidden_units

    def input_channels(self, inputs: list[Shape]) -> Dim:
        shape = self.require(inputs, SEQUENCE)
        channels = shape.channels
        if self.input_size != "auto" and is_known(channels) and channels != self.input_size:
            raise ShapeError(f"{self.matlab} declares InputSize {self.input_size}, but its input has {channels} "
                             "channels", hint="remove 'InputSize' or fix the layers before it", code="A105")
        return channels

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        """T×(D·H) for 'sequence'; the last step's D·H features for 'last' (MATLAB's CB output)."""
        shape = self.require(inputs, SEQUENCE)
        self.input_channels(inputs)
        if self.output_mode == "last":
            return [Shape.feature(self.width)]
        return [shape.with_channels(self.width)]

    def learnable_sizes(self, inputs: list[Shape]) -> dict[str, tuple[Dim, ...]]:
        """InputWeights D·G·H×C, RecurrentWeights D·G·H×H, Bias D·G·H×1, states D·H×1."""
        hidden = self.num_hidden_units
        sizes = {"input_weights": (self.directions * self.gates * hidden, self.input_channels(inputs)),
                 "recurrent_weights": (self.directions * self.gates * hidden, hidden),
                 "bias": (self.bias_rows, 1), "hidden_state": (self.width, 1)}
        if self.has_cell:
            sizes["cell_state"] = (self.width, 1)
        return sizes

    def learnables(self, inputs: list[Shape]) -> Dim:
        rows = self.directions * self.gates * self.num_hidden_units
        return rows * (self.input_channels(inputs) + self.num_hidden_units) + self.bias_rows

    def states(self, inputs: list[Shape]) -> Dim:
        """The hidden state, and an LSTM's cell state, per direction."""
        return self.width * (2 if self.has_cell else 1)

    # -- costs ------------------------------------------------------------------
    def steps(self, inputs: list[Shape]) -> Dim:
        return inputs[0].spatial[0]

    def macs(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        rows = self.directions * self.gates * self.num_hidden_units
        return self.steps(inputs) * rows * (self.input_channels(inputs) + self.num_hidden_units)

    def flops(self, inputs: list[Shape], outputs: list[Shape]) -> Dim:
        return 2 * self.macs(inputs, outputs) + self.steps(inputs) * self.width * self.step_flops

    @property
    def fused(self) -> bool:
        """Whether the lowering runs nn.LSTM / nn.GRU (tanh and sigmoid, the reset gate after the
        multiplication) rather than its own steps (`backends.torch.Recurrent`)."""
        return (self.state_activation_function, self.gate_activation_function) == ("tanh", "sigmoid") and \
            getattr(self, "reset_gate_mode", "") != "before-multiplication"

    def sequence_order(self, input_order: str) -> str:
        """nn.LSTM and nn.GRU write (T, N, D·H); the steps are stacked as (N, T, D·H)."""
        return TIME_ORDER if self.fused else STEP_ORDER

    def storage_elements(self, inputs: list[Shape], outputs: list[Shape]) -> list[Dim]:
        """'last' is a view of the last step of the whole output sequence."""
        return [self.steps(inputs) * self.width]

    def learnable_factors(self) -> dict[str, tuple[Factor, Factor]]:
        """Each weight's and the bias's own factors, a number or one per gate (MATLAB's 1-by-G vector)."""
        return {learnable: (getattr(self, f"{learnable}_learn_rate_factor"), getattr(self, f"{learnable}_l2_factor"))
                for learnable in ("input_weights", "recurrent_weights", "bias")}

    def first_step_products(self) -> int:
        """State products at the first step whose gradient autograd computes although the initial
        state is held: none, but for the GRU whose reset gate multiplies the state first."""
        return 0

    def training_costs(self, inputs: list[Shape], outputs: list[Shape], convention: str,
                       input_gradient: bool) -> tuple[Dim, Dim, Dim]:
        """The input product's gradients to the input and to InputWeights, the recurrent product's
        to RecurrentWeights at every step; between them the gradient through the states (each
        step's state from the next step, the initial state held: T−1 recurrent products, and
        netspec's FLOPs add each step's element-wise derivatives), which both gradients need:
        counted with the learnables when any trains, else with the input."""
        steps, hidden = self.steps(inputs), self.num_hidden_units
        rows = self.directions * self.gates * hidden
        to_input = steps * rows * self.input_channels(inputs)
        factors = {learnable: trained(rate) for learnable, (rate, _) in self.learnable_factors().items()}
        weights = (to_input if factors["input_weights"] else 0) + \
            (steps * rows * hidden if factors["recurrent_weights"] else 0)
        states = (steps - 1) * rows * hidden + self.first_step_products()
        if convention == "macs":
            forward, scale, between, added = self.macs(inputs, outputs), 1, states, 0
        else:
            forward = self.flops(inputs, outputs) if convention == "flops" else 2 * self.macs(inputs, outputs)
            element_wise = steps * self.width * self.step_flops if convention == "flops" else 0
            scale, between = 2, 2 * states + element_wise
            added = steps * self.bias_rows if convention == "flops" and factors["bias"] else 0
        trains = any(factors.values())
        to_inputs = scale * to_input + (0 if trains else between) if input_gradient else 0
        return forward, to_inputs, scale * weights + added + (between if trains else 0)

    def kept_for_backward(self, inputs: list[Shape], outputs: list[Shape]) -> tuple[Kept, ...]:
        """What the lowered recurrence keeps, on the CPU (`netspec.ir.recurrent_saved`)."""
        return recurrent_kept(self, inputs)

    def windows(self, inputs: list[Shape]):
        """Each step's state has seen the steps before it (and after, in a BiLSTM)."""
        return GLOBAL


class _Lstm(RecurrentLayer):
    gates = 4
    step_flops = 17
    learnable_options = ("input_weights", "recurrent_weights", "bias", "hidden_state", "cell_state")

    bias_initializer: Annotated[Literal["unit-forget-gate", "zeros", "ones", "narrow-normal"], Lower] = \
        "unit-forget-gate"
    cell_state: Learnable | None = Field(None, description="initial cell state, H×1 (zeros if not given)")


class LstmLayer(_Lstm):
    kind: Literal["lstm"] = "lstm"
    matlab = "lstmLayer"
    matlab_class = "nnet.cnn.layer.LSTMLayer"
    base_name = "lstm"
    elementwise = False
    family = "recurrent"
    torch_counted = True


class BilstmLayer(_Lstm):
    """Forward and backward LSTMs over the sequence, their outputs stacked (forward first)."""

    kind: Literal["bilstm"] = "bilstm"
    matlab = "bilstmLayer"
    matlab_class = "nnet.cnn.layer.BiLSTMLayer"
    base_name = "bilstm"
    elementwise = False
    family = "recurrent"
    torch_counted = True
    directions = 2


class GruLayer(RecurrentLayer):
    """'after-multiplication' (MATLAB's default) and 'before-multiplication' keep one bias per gate;
    'recurrent-bias-after-multiplication' adds a recurrent bias (PyTorch's GRU), 6H in all."""

    kind: Literal["gru"] = "gru"
    matlab = "gruLayer"
    matlab_class = "nnet.cnn.layer.GRULayer"
    base_name = "gru"
    elementwise = False
    family = "recurrent"
    torch_counted = True
    gates = 3
    has_cell = False

    reset_gate_mode: Annotated[Literal["after-multiplication", "before-multiplication",
                                       "recurrent-bias-after-multiplication"], Lower] = "after-multiplication"

    @property
    def recurrent_bias(self) -> bool:
        return self.reset_gate_mode == "recurrent-bias-after-multiplication"

    @property
    def bias_rows(self) -> int:
        return (2 if self.recurrent_bias else 1) * self.gates * self.num_hidden_units

    @property
    def step_flops(self) -> int:  # type: ignore[override]
        return 17 if self.recurrent_bias else 14

    def first_step_products(self) -> int:
        """'before-multiplication': the reset gate times the initial state, then the candidate's
        recurrent product, whose gradient to r⊙h is wanted once r is."""
        hidden = self.num_hidden_units
        return self.directions * hidden * hidden if self.reset_gate_mode == "before-multiplication" else 0
