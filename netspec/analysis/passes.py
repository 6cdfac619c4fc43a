"""The analysis passes, in order. Each reads the Context and writes its own results.

The per-layer arithmetic lives with each layer (`netspec.ir`: output_shapes,
learnables, macs, flops, windows); these passes only walk the graph.
"""

from __future__ import annotations

from collections import deque
from fractions import Fraction
from typing import Callable

from ..diagnostics import Severity
from ..ir import (ClassificationLayer, Convolution2dLayer, RegressionLayer, SoftmaxLayer)
from ..ir.base import InputLayer, OutputLayer
from ..ir.data_kind import DataKind
from ..ir.shape import GLOBAL, Shape, ShapeError, Window, ceildiv, is_known
from ..ir.pool import WINDOWED_POOLING
from .context import AxisRF, Context
from .memory import kept_activations
from .report import Bottleneck

__all__ = ["PASSES", "structure", "shapes", "costs", "gradients", "receptive_fields", "bottlenecks",
           "lint"]

ERROR, WARNING = Severity.error, Severity.warning


def structure(ctx: Context) -> None:
    """Topological order; cycles, unconnected ports, dangling layers, missing inputs/outputs."""
    layers = ctx.layers
    indegree = {name: 0 for name in layers}
    for name in layers:
        indegree[name] = len(ctx.incoming[name])
    ready = deque(name for name in layers if indegree[name] == 0)
    order: list[str] = []
    while ready:
        name = ready.popleft()
        order.append(name)
        for edge in ctx.outgoing[name]:
            indegree[edge.destination] -= 1
            if indegree[edge.destination] == 0:
                ready.append(edge.destination)
    if len(order) < len(layers):
        stuck = _on_cycles(ctx, set(layers) - set(order))
        ctx.add(ERROR, "A001", f"the connections form a cycle through {', '.join(repr(n) for n in stuck[:6])}",
                stuck[0], hint="a network is acyclic: remove one of these connections with disconnectLayers")
    ctx.order = order
    inputs = [name for name, layer in layers.items() if isinstance(layer, InputLayer)]
    if not inputs:
        ctx.add(ERROR, "A002", "the network has no input layer",
                hint="start it with imageInputLayer, featureInputLayer or sequenceInputLayer")
    for name, layer in layers.items():
        for port, edge in zip(layer.input_names, ctx.sources(name)):
            if edge is None:
                where = f"'{name}/{port}'" if len(layer.input_names) > 1 else f"'{name}'"
                ctx.add(ERROR, "A003", f"the input of {where} is not connected", name,
                        hint=f"connect it: lgraph = connectLayers(lgraph, 'source', '{name}/{port}')")
        if layer.output_names and not ctx.outgoing[name]:
            if isinstance(layer, InputLayer):
                ctx.add(WARNING, "A004", f"the input '{name}' is not used by any layer", name)
            elif any(isinstance(l, OutputLayer) for l in layers.values()):
                ctx.add(WARNING, "A005", f"the output of '{name}' goes nowhere (a dangling layer)", name,
                        hint="connect it to the rest of the network, or remove it with removeLayers")
    if not any(isinstance(layer, OutputLayer) for layer in layers.values()):
        ctx.add(WARNING, "A006", "the network has no output layer (classificationLayer or regressionLayer)",
                hint="add classificationLayer after softmaxLayer to train it as a classifier")


def _on_cycles(ctx: Context, remaining: set[str]) -> list[str]:
    """Of the layers Kahn's algorithm could not order, drop those merely downstream of a cycle."""
    changed = True
    while changed:
        changed = False
        for name in list(remaining):
            if not any(edge.destination in remaining for edge in ctx.outgoing[name]):
                remaining.discard(name)
                changed = True
    return [name for name in ctx.layers if name in remaining]


def _input_shapes(ctx: Context, layer: InputLayer) -> list[Shape]:
    """The input layer's shape, or --input-size's; a sequence over --sequence-length steps."""
    found = _input_override(ctx, layer) or layer.output_shapes([])
    if ctx.sequence_length is None:
        return found
    return [shape.with_time(ctx.sequence_length) for shape in found]


def _input_override(ctx: Context, layer: InputLayer) -> list[Shape] | None:
    size = ctx.input_size
    if size is None:
        return None
    dims = list(size)
    if any(isinstance(d, str) for d in dims):
        import sympy

        dims = [sympy.Symbol(d, positive=True, integer=True) if isinstance(d, str) else d for d in dims]
    expected = layer.output_shapes([])[0].kind
    if DataKind.of_rank(len(dims)) is not expected:
        ctx.add(ERROR, "A007", f"--input-size gives {len(dims)} numbers, but '{layer.name}' takes "
                f"{expected.size_names}", layer.name)
        return None
    return [Shape(expected, tuple(dims))]


def shapes(ctx: Context) -> None:
    """Output shapes in topological order; an error leaves the layers after it unknown."""
    for name in ctx.order:
        layer = ctx.layers[name]
        if isinstance(layer, InputLayer):
            ctx.shapes[name] = _input_shapes(ctx, layer)
            ctx.input_shapes[name] = []
            continue
        edges = ctx.sources(name)
        inputs = [ctx.output_shape(edge) if edge else None for edge in edges]
        if not inputs or any(shape is None for shape in inputs):
            ctx.shapes[name] = None
            continue
        ctx.input_shapes[name] = inputs  # type: ignore[assignment]
        try:
            ctx.shapes[name] = _still_folded(layer.output_shapes(inputs), inputs[0])  # type: ignore[arg-type]
        except ShapeError as exc:
            ctx.shapes[name] = None
            ctx.add(ERROR, exc.code, f"'{name}': {exc}", name, hint=exc.hint)
            continue
        try:  # wrong given weights leave the shapes after them known
            layer.check_learnables(inputs)  # type: ignore[arg-type]
        except ShapeError as exc:
            ctx.add(ERROR, exc.code, f"'{name}': {exc}", name, hint=exc.hint, span=exc.span)


def _still_folded(outputs: list[Shape], first: Shape) -> list[Shape]:
    """Images folded out of a sequence stay folded (T per sample) through every layer until one
    gives a sequence back (sequenceUnfoldingLayer)."""
    if is_known(first.repeat) and first.repeat == 1:
        return outputs
    return [shape if shape.kind.time or shape.kind.holds_size else shape.repeated(first.repeat) for shape in outputs]


def costs(ctx: Context) -> None:
    """Learnables, states, MACs, FLOPs and activation memory of every analyzed layer."""
    for name in ctx.order:
        outputs = ctx.shapes.get(name)
        if outputs is None:
            continue
        layer = ctx.layers[name]
        inputs = ctx.input_shapes[name]
        macs = layer.macs(inputs, outputs) if inputs else 0
        elements = sum((shape.numel for shape in outputs), 0)
        ctx.costs[name] = {
            "learnables": layer.learnables(inputs) if inputs else 0,
            "states": layer.states(inputs) if inputs else 0,
            "macs": macs,
            "flops": layer.flops(inputs, outputs),
            "torch_flops": 2 * macs if layer.torch_counted else 0,
            "activation_elements": elements,
            "activation_bytes": elements * ctx.bytes_per_element,
        }


def gradients(ctx: Context) -> None:
    """One training step of one sample, in the chosen convention (`Layer.training_costs`): the
    input needs no gradient, so a layer's gradient to its inputs is computed only where a layer
    with trained learnables (learn-rate factor above 0) comes before it, as autograd does."""
    needs_gradient: dict[str, bool] = {}
    for name in ctx.order:
        layer = ctx.layers[name]
        values = [edge for port, edge in zip(layer.input_names, ctx.sources(name))
                  if edge is not None and port not in layer.size_inputs]
        upstream = layer.passes_gradient and any(needs_gradient.get(edge.source, False) for edge in values)
        needs_gradient[name] = upstream or layer.trains()
        if name not in ctx.costs:
            continue
        forward, to_inputs, to_weights = layer.training_costs(ctx.input_shapes[name], ctx.shapes[name] or [],
                                                              ctx.convention, upstream)
        ctx.costs[name].update(forward=forward, backward_input=to_inputs, backward_weights=to_weights,
                               training_step=forward + to_inputs + to_weights)


def _through(rf: tuple[AxisRF, ...], windows: tuple[Window, ...]) -> tuple[AxisRF, ...]:
    result = []
    for axis, window in zip(rf, windows):
        if window.transposed:
            # output o reads inputs i with i·s + t = o + crop (0 <= t < k): ceil(k/s) of them;
            # unit 0's first input is -floor((k-1-crop)/s); outputs are s times denser
            jump = Fraction(axis.jump) / window.stride
            size = axis.size + (ceildiv(window.kernel, window.stride) - 1) * axis.jump
            first = (window.kernel - 1 - window.pad_begin) // window.stride
            result.append(AxisRF(size, jump, axis.padding + first * axis.jump))
        else:
            size = axis.size + (window.extent - 1) * axis.jump
            result.append(AxisRF(size, axis.jump * window.stride, axis.padding + window.pad_begin * axis.jump))
    return tuple(result)


def receptive_fields(ctx: Context) -> None:
    """Size, jump and effective padding per axis; the max over paths at merges."""
    for name in ctx.order:
        outputs = ctx.shapes.get(name)
        if outputs is None:
            continue
        layer = ctx.layers[name]
        if isinstance(layer, InputLayer):
            spatial = outputs[0].spatial
            ctx.receptive[name] = tuple(AxisRF(1, 1, 0) for _ in spatial)  # Fractions only after upsampling
            continue
        edges = [edge for port, edge in zip(layer.input_names, ctx.sources(name)) if port not in layer.size_inputs]
        fields = [ctx.receptive.get(edge.source) if edge else None for edge in edges]
        if any(field is None for field in fields):
            ctx.receptive[name] = None
            continue
        if any(field == GLOBAL for field in fields):
            ctx.receptive[name] = GLOBAL
            continue
        field = fields[0]
        if len(fields) > 1:
            field = max(fields, key=lambda f: tuple(_comparable(a.size) for a in f))  # type: ignore[arg-type]
            if any(_alignment(f) != _alignment(field) for f in fields):  # type: ignore[arg-type]
                ctx.add(WARNING, "A201", f"the paths into '{name}' are not centred alike: their receptive fields "
                        "have different strides or offsets", name,
                        notes=[f"{edge.source}: " + ", ".join(f"r={a.size} j={a.jump} p={a.padding}" for a in f)
                               for edge, f in zip(edges, fields) if edge],
                        hint="the reported field is the largest one")
        axes = layer.field_axes(ctx.input_shapes[name])
        if axes is not None:
            field = tuple(AxisRF(1, 1, 0) if axis is None else field[axis] for axis in axes)
        windows = layer.windows(ctx.input_shapes[name])
        if windows == GLOBAL:
            ctx.receptive[name] = GLOBAL
        elif windows is None:
            ctx.receptive[name] = field
        else:
            ctx.receptive[name] = _through(field, windows)  # type: ignore[arg-type]


def _concrete(value) -> bool:
    return isinstance(value, (int, Fraction))


def _alignment(field: tuple[AxisRF, ...]) -> tuple:
    """Jump and centre of the first unit's field per axis: what must agree where paths merge."""
    return tuple((a.jump, Fraction(a.size - 1) / 2 - a.padding if _concrete(a.size) else None) for a in field)


def _comparable(value):
    return value if _concrete(value) else 0


def bottlenecks(ctx: Context) -> None:
    """Every 1×1 reduction (Cin -> r, r < Cin) feeding a k×k convolution, against the direct k×k;
    element-wise layers (batch norm, relu, ...) between the two keep them a pair."""
    for name in ctx.order:
        conv = ctx.layers[name]
        if not isinstance(conv, Convolution2dLayer) or conv.filter_size == (1, 1) or name not in ctx.costs:
            continue
        source = ctx.sources(name)[0]
        while source is not None and ctx.layers[source.source].elementwise:
            source = ctx.sources(source.source)[0]
        if source is None:
            continue
        reduce = ctx.layers[source.source]
        if not isinstance(reduce, Convolution2dLayer) or reduce.filter_size != (1, 1) or reduce.name not in ctx.costs:
            continue
        cin = ctx.input_shapes[reduce.name][0].channels
        reduced = reduce.num_filters
        if is_known(cin) and reduced >= cin:
            continue
        out = ctx.shapes[name][0]  # type: ignore[index]
        fh, fw = conv.filter_size
        direct = out.numel * fh * fw * cin
        pair = ctx.costs[reduce.name]["macs"] + ctx.costs[name]["macs"]
        from .context import number

        ratio = direct / pair if is_known(direct) and is_known(pair) and pair else None
        ctx.bottlenecks.append(Bottleneck(
            reduce=reduce.name, conv=name, input_channels=number(cin), reduced_channels=reduced,
            output_channels=conv.num_filters, kernel=[fh, fw], output_size=[number(d) for d in out.spatial],
            reduce_macs=number(ctx.costs[reduce.name]["macs"]), conv_macs=number(ctx.costs[name]["macs"]),
            bottleneck_macs=number(pair), direct_macs=number(direct), saved_macs=number(direct - pair),
            ratio=f"{ratio:.2f}" if ratio is not None else str(number(direct / pair)),
        ))


def lint(ctx: Context) -> None:
    """MATLAB's own checks that are not about shapes."""
    for name in ctx.order:
        layer = ctx.layers[name]
        edges = ctx.sources(name)
        before = ctx.layers[edges[0].source] if edges and edges[0] else None
        if isinstance(layer, ClassificationLayer) and before is not None and not isinstance(before, SoftmaxLayer):
            ctx.add(ERROR, "A301", f"classificationLayer '{name}' must follow a softmaxLayer, not "
                    f"{before.matlab} '{before.name}'", name, hint="insert softmaxLayer before it")
        if isinstance(layer, RegressionLayer) and isinstance(before, SoftmaxLayer):
            ctx.add(WARNING, "A302", f"regressionLayer '{name}' follows a softmaxLayer", name,
                    hint="regression usually ends with fullyConnectedLayer; softmax makes outputs sum to 1")
        if isinstance(layer, WINDOWED_POOLING):
            pools = layer.pool_size if isinstance(layer.pool_size, tuple) else (layer.pool_size,)
            strides = layer.stride if isinstance(layer.stride, tuple) else (layer.stride,)
            if any(s > p for s, p in zip(strides, pools)):
                ctx.add(WARNING, "A303", f"'{name}' strides {strides} past its window {pools}: "
                        "some inputs are never seen", name, hint="use a stride no larger than the pool size")


PASSES: tuple[Callable[[Context], None], ...] = (structure, shapes, costs, gradients, kept_activations,
                                                 receptive_fields, bottlenecks, lint)
