"""The analysis result: typed, JSON-serializable, with a published schema (`netspec schema --analysis`)."""

from pydantic import BaseModel, ConfigDict, Field

from ..diagnostics import Diagnostic

__all__ = ["Number", "AxisField", "ReceptiveField", "LayerReport", "Totals", "Bottleneck", "Analysis"]

Number = int | str
"""An exact count, or a formula (text) when the input size is symbolic."""


class _Report(BaseModel):
    """Built on first use: `netspec check` and the IR never need these schemas."""

    model_config = ConfigDict(defer_build=True)


class AxisField(_Report):
    """Receptive field along one axis (Araujo, Norris & Sim, Distill 2019)."""

    size: Number = Field(description="input pixels one output unit sees (r)")
    jump: str = Field(description="input pixels between neighbouring output units (effective stride j)")
    padding: str = Field(description="effective padding: the first unit's field starts at -padding")


class ReceptiveField(_Report):
    is_global: bool = Field(False, description="every output unit sees the whole input")
    axes: list[AxisField] = Field(default_factory=list, description="one per spatial axis (H, W) or (T)")

    def display(self) -> str:
        if self.is_global:
            return "global"
        sizes = [str(axis.size) for axis in self.axes]
        return sizes[0] if len(set(sizes)) == 1 else "×".join(sizes)


class LayerReport(_Report):
    name: str
    type: str = Field(description="MATLAB constructor")
    inputs: list[str] = Field(description="source of each input port, 'layer/port'")
    output_shapes: list[str] = Field(description="MATLAB-style H×W×C (T×C, C) per output port")
    output_dims: list[list[Number]]
    learnables: Number = 0
    states: Number = 0
    macs: Number = 0
    flops: Number = 0
    torch_flops: Number = Field(0, description="what torch.utils.flop_counter.FlopCounterMode counts")
    activation_elements: Number = 0
    activation_bytes: Number = 0
    receptive_field: ReceptiveField | None = None
    analyzed: bool = Field(True, description="False when an earlier error left this layer's input unknown")


class Totals(_Report):
    layers: int
    learnables: Number
    states: Number
    macs: Number
    flops: Number
    torch_flops: Number
    activation_elements: Number
    activation_bytes: Number
    parameter_bytes: Number = Field(description="learnables and states at the chosen dtype")
    training_memory_bytes: Number = Field(
        description="weights + gradients + optimizer state + MiniBatchSize × (activations + their gradients)")
    batch_size: int
    solver: str


class Bottleneck(_Report):
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
    ratio: str = Field(description="direct / bottleneck")


class Analysis(_Report):
    network: str
    source: str | None
    dtype: str
    bytes_per_element: int
    input_size: list[Number] | None = None
    layers: list[LayerReport]
    totals: Totals
    bottlenecks: list[Bottleneck]
    bottleneck_totals: dict[str, Number] = Field(default_factory=dict)
    diagnostics: list[Diagnostic] = Field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(d.severity.value == "error" for d in self.diagnostics)
