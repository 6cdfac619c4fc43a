"""What the analysis passes share: the graph's adjacency, and each pass's results."""

from __future__ import annotations

import math
from collections import defaultdict
from fractions import Fraction
from typing import Any

from ..diagnostics import Diagnostic, Severity, Span
from ..ir import Connection, Layer, Network
from ..ir.shape import Dim, Shape
from .report import (Analysis, AxisField, Bottleneck, LayerReport, Number, ReceptiveField, Totals)

__all__ = ["Context", "AxisRF", "number"]

OPTIMIZER_SLOTS = {"sgdm": 1, "adam": 2, "rmsprop": 1}


LONGEST_EXACT_BITS = 332
"""Numbers past 2**332 (about 10**100) are reported as `approximately`: a receptive field's
jump multiplies by every stride, so 15,000 stride-2 layers make a 4,500-digit jump, and writing
n digits out costs time quadratic in n (Python refuses past 4,300)."""


def number(value: Any) -> Number:
    """An exact int, or the formula as text when the input size is symbolic."""
    if isinstance(value, int):
        return value if value.bit_length() <= LONGEST_EXACT_BITS else approximately(value)
    if isinstance(value, Fraction):
        if max(value.numerator.bit_length(), value.denominator.bit_length()) > LONGEST_EXACT_BITS:
            return approximately(value)
        return int(value) if value.denominator == 1 else str(value)
    try:
        if value.is_Integer:
            return number(int(value))
    except AttributeError:
        pass
    return str(value)


def approximately(value: int | Fraction) -> str:
    """A huge number as its first three digits and power of ten ('1.27e4816'), without writing it out."""
    magnitude = math.log10(abs(value.numerator)) - math.log10(value.denominator)
    exponent = math.floor(magnitude)
    mantissa = round(10 ** (magnitude - exponent), 2)
    if mantissa >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{'-' if value < 0 else ''}{mantissa:.2f}e{exponent}"


class AxisRF(tuple):
    """(size r, jump j, effective padding p) of a receptive field along one axis."""

    __slots__ = ()

    def __new__(cls, size: Dim, jump: int | Fraction, padding: int | Fraction | Dim):
        return super().__new__(cls, (size, jump, padding))

    size = property(lambda self: self[0])
    jump = property(lambda self: self[1])
    padding = property(lambda self: self[2])


class Context:
    def __init__(self, network: Network, *, input_size: tuple | None, dtype: str, bytes_per_element: int,
                 sequence_length: int | None = None):
        self.network = network
        self.input_size = input_size
        self.sequence_length = sequence_length
        """Time steps of every sequence input (--sequence-length); None keeps the input's own."""
        self.dtype = dtype
        self.bytes_per_element = bytes_per_element
        self.layers: dict[str, Layer] = {layer.name: layer for layer in network.layers}
        self.incoming: dict[str, dict[str, Connection]] = defaultdict(dict)
        self.outgoing: dict[str, list[Connection]] = defaultdict(list)
        for edge in network.connections:
            self.incoming[edge.destination][edge.destination_port] = edge
            self.outgoing[edge.source].append(edge)
        self._sources: dict[str, list[Connection | None]] = {}
        self.order: list[str] = []
        self.shapes: dict[str, list[Shape] | None] = {}
        self.input_shapes: dict[str, list[Shape]] = {}
        self.costs: dict[str, dict[str, Dim]] = {}
        self.saved_elements: dict[str, Dim] = {}
        """Per layer, what backpropagation keeps besides the outputs (`Layer.saved_elements`)."""
        self.receptive: dict[str, str | tuple[AxisRF, ...] | None] = {}
        self.bottlenecks: list[Bottleneck] = []
        self.diagnostics: list[Diagnostic] = []

    # -- helpers for passes -------------------------------------------------------
    def add(self, severity: Severity, code: str, message: str, layer: str | None = None,
            hint: str | None = None, notes: list[str] | None = None, span: Span | None = None) -> None:
        """A diagnostic at `span`, else at the layer's construction."""
        if span is None and layer is not None and layer in self.layers:
            span = self.layers[layer].span
        self.diagnostics.append(Diagnostic(severity=severity, code=code, message=message, span=span,
                                           hint=hint, notes=notes or []))

    def sources(self, name: str) -> list[Connection | None]:
        """The connection into each input port of `name`, in port order (None if unconnected);
        every pass asks, so it is worked out once."""
        found = self._sources.get(name)
        if found is None:
            incoming = self.incoming[name]
            found = self._sources[name] = [incoming.get(port) for port in self.layers[name].input_names]
        return found

    def output_shape(self, edge: Connection) -> Shape | None:
        shapes = self.shapes.get(edge.source)
        if not shapes:
            return None
        index = self.layers[edge.source].output_names.index(edge.source_port)
        return shapes[index] if index < len(shapes) else None

    # -- the result -----------------------------------------------------------------
    def report(self) -> Analysis:
        network = self.network
        rows: list[LayerReport] = []
        totals: dict[str, Dim] = defaultdict(int)
        for layer in network.layers:
            name = layer.name
            shapes = self.shapes.get(name)
            costs = self.costs.get(name, {})
            inputs = [f"{e.source}/{e.source_port}" if e else "(unconnected)" for e in self.sources(name)]
            rf = self.receptive.get(name)
            rows.append(LayerReport(
                name=name, type=layer.matlab, inputs=inputs,
                output_shapes=[str(s) for s in shapes or []],
                output_dims=[[number(d) for d in s.dims] for s in shapes or []],
                receptive_field=_receptive_report(rf),
                analyzed=shapes is not None,
                **{key: number(value) for key, value in costs.items()},
            ))
            for key, value in costs.items():
                totals[key] += value
        training = network.training
        solver = training.solver if training else "sgdm"
        batch = training.mini_batch_size if training else 128
        learnable_bytes = totals["learnables"] * self.bytes_per_element
        state_bytes = totals["states"] * self.bytes_per_element
        saved_bytes = sum(self.saved_elements.values(), 0) * self.bytes_per_element
        training_bytes = (learnable_bytes * (2 + OPTIMIZER_SLOTS[solver]) + state_bytes
                          + batch * (totals["activation_bytes"] * 2 + saved_bytes))
        summary = Totals(
            layers=len(network.layers), batch_size=batch, solver=solver,
            parameter_bytes=number(learnable_bytes + state_bytes),
            training_memory_bytes=number(training_bytes),
            **{key: number(totals[key]) for key in ("learnables", "states", "macs", "flops", "torch_flops",
                                                     "activation_elements", "activation_bytes")},
        )
        bottleneck_totals: dict[str, Number] = {}
        if self.bottlenecks:
            direct = sum((_raw(b.direct_macs) for b in self.bottlenecks), 0)
            pair = sum((_raw(b.bottleneck_macs) for b in self.bottlenecks), 0)
            bottleneck_totals = {"direct_macs": number(direct), "bottleneck_macs": number(pair),
                                 "saved_macs": number(direct - pair)}
        size = list(self.input_size) if self.input_size is not None else None
        return Analysis(network=network.name, source=network.source, dtype=self.dtype,
                        sequence_length=self.sequence_length,
                        bytes_per_element=self.bytes_per_element,
                        input_size=[number(d) if not isinstance(d, str) else d for d in size] if size else None,
                        layers=rows, totals=summary, bottlenecks=self.bottlenecks,
                        bottleneck_totals=bottleneck_totals, diagnostics=self.diagnostics)


def _raw(value: Number) -> Any:
    if isinstance(value, int):
        return value
    import sympy

    return sympy.sympify(value)


def _fraction_text(value: Any) -> str:
    return str(number(value))


def _receptive_report(rf: str | tuple[AxisRF, ...] | None) -> ReceptiveField | None:
    if rf is None:
        return None
    if rf == "global":
        return ReceptiveField(is_global=True)
    return ReceptiveField(axes=[
        AxisField(size=number(a.size), jump=_fraction_text(a.jump), padding=_fraction_text(a.padding))
        for a in rf])
