"""The analysis result: typed, JSON-serializable, with a published schema (`netspec schema --for analyze`).

Plain dataclasses, not pydantic models: the passes fill them with values they computed, so
nothing needs validating, and a 10,000-layer analysis makes 40,000 of them. pydantic still
writes and reads their JSON and publishes its schema (`to_json`, `from_json`, `json_schema`),
building that machinery only when JSON is asked for.
"""

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from ..diagnostics import Diagnostic

if TYPE_CHECKING:
    from pydantic import TypeAdapter

__all__ = ["Number", "AxisField", "ReceptiveField", "LayerReport", "Totals", "Bottleneck", "Analysis",
           "to_json", "from_json", "json_schema"]

Number = int | str
"""An exact count, or a formula (text) when the input size is symbolic, or approximate text
('1.27e4816') for a number past 10**100 (`context.approximately`)."""


@dataclass(slots=True)
class AxisField:
    """Receptive field along one axis (Araujo, Norris & Sim, Distill 2019)."""

    size: Annotated[Number, Field(description="input pixels one output unit sees (r)")]
    jump: Annotated[str, Field(description="input pixels between neighbouring output units (effective stride j)")]
    padding: Annotated[str, Field(description="effective padding: the first unit's field starts at -padding")]


@dataclass(slots=True)
class ReceptiveField:
    is_global: Annotated[bool, Field(description="every output unit sees the whole input")] = False
    axes: Annotated[list[AxisField], Field(description="one per spatial axis (H, W) or (T)")] = \
        field(default_factory=list)

    def display(self) -> str:
        if self.is_global:
            return "global"
        sizes = [str(axis.size) for axis in self.axes]
        return sizes[0] if len(set(sizes)) == 1 else "×".join(sizes)


@dataclass(slots=True)
class LayerReport:
    name: str
    type: Annotated[str, Field(description="MATLAB constructor")]
    inputs: Annotated[list[str], Field(description="source of each input port, 'layer/port'")]
    output_shapes: Annotated[list[str], Field(description="MATLAB-style H×W×C (T×C, C) per output port")]
    output_dims: list[list[Number]]
    learnables: Number = 0
    states: Number = 0
    macs: Number = 0
    flops: Number = 0
    torch_flops: Annotated[Number, Field(description="what torch.utils.flop_counter.FlopCounterMode counts")] = 0
    activation_elements: Number = 0
    activation_bytes: Number = 0
    receptive_field: ReceptiveField | None = None
    analyzed: Annotated[bool, Field(description="False when an earlier error left this layer's input unknown")] = True


@dataclass(slots=True)
class Totals:
    layers: int
    learnables: Number
    states: Number
    macs: Number
    flops: Number
    torch_flops: Number
    activation_elements: Number
    activation_bytes: Number
    parameter_bytes: Annotated[Number, Field(description="learnables and states at the chosen dtype")]
    training_memory_bytes: Annotated[Number, Field(description=
        "weights + gradients + optimizer state + MiniBatchSize × (activations + their gradients + what "
        "backpropagation keeps inside recurrent layers: every step's gates and states)")]
    batch_size: int
    solver: str


@dataclass(slots=True)
class Bottleneck:
    """A 1×1 reduction feeding a k×k convolution, against the direct k×k convolution."""

    reduce: str
    conv: str
    input_channels: Number
    reduced_channels: int
    output_channels: int
    kernel: list[int]
    output_size: list[Number]
    reduce_macs: Number
    conv_macs: Number
    bottleneck_macs: Number
    direct_macs: Number
    saved_macs: Number
    ratio: Annotated[str, Field(description="direct / bottleneck")]


@dataclass(slots=True)
class Analysis:
    network: str
    source: str | None
    dtype: str
    bytes_per_element: int
    input_size: list[Number] | None
    layers: list[LayerReport]
    totals: Totals
    bottlenecks: list[Bottleneck]
    bottleneck_totals: dict[str, Number] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sequence_length: Annotated[int | None, Field(description="--sequence-length: the time steps every sequence "
                                                 "input was analyzed at (null: its own, T when not fixed)")] = None

    @property
    def has_errors(self) -> bool:
        return any(d.severity.value == "error" for d in self.diagnostics)


@lru_cache(maxsize=1)
def _adapter() -> "TypeAdapter[Analysis]":
    from pydantic import TypeAdapter

    return TypeAdapter(Analysis)


def to_json(analysis: Analysis, indent: int | None = 2) -> str:
    return _adapter().dump_json(analysis, indent=indent).decode()


def from_json(text: str | bytes) -> Analysis:
    """An analysis back from `netspec analyze --format json`, validated against the schema."""
    return _adapter().validate_json(text)


def json_schema() -> dict:
    return _adapter().json_schema()
