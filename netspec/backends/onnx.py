"""IR -> ONNX, through the PyTorch lowering.

Why through PyTorch rather than `onnx.helper` from the IR: the lowering already encodes
MATLAB's semantics (asymmetric 'same' padding, -inf max-pool padding, LRN, grouped and
transposed convolutions, the input normalization), so exporting it gives an ONNX model
that computes exactly what `netspec train` trained, with one place to get each layer
right. The exported graph is then tidied so it reads like the spec: every layer's last
node and its output tensor carry the MATLAB layer name, the class names and the input
convention are metadata, and the batch axis is dynamic.
"""

from __future__ import annotations

import io
import json
import math
import re
import warnings
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
import onnx
import torch

from .. import __version__
from ..analysis.context import Context
from ..analysis.limits import check_buildable
from ..ir import IMAGE, SEQUENCE, Network, SequenceInputLayer
from ..ir.shape import Shape, is_known
from ..text import printable
from . import MIN_OPSET
from .onnx_predict import MIN_LENGTH_KEY
from .torch import GraphModule, MaxPoolIndices, Pad, Recurrent, SamePad1d, module_name, output_key, to_torch

__all__ = ["to_onnx", "MIN_OPSET"]


EXAMPLE_LENGTHS = (16, 64, 256, 1024)
"""Lengths to trace a sequence network at when its length is symbolic: the first at which every
layer's output has a time step (a valid or strided convolution shortens sequences). Not 1, which
the tracer could take for a size-1 axis to drop."""


def _analyzed(context: Context, key: str) -> Shape:
    """The analysis's shape of the value the lowered module keeps under `key` (`output_key`)."""
    return next(shape for name in context.order for port, shape in zip(context.layers[name].output_names,
                                                                        context.shapes[name] or [])
                if output_key(context.layers[name], port) == key)


def _example_length(context: Context) -> dict[Any, int]:
    """A value for each symbol in the analyzed shapes (the symbolic time `T`) at which every
    layer's output is at least one step long."""
    symbols = {s for shapes in context.shapes.values() for shape in shapes or [] for d in shape.dims
               if not is_known(d) for s in d.free_symbols}
    for length in EXAMPLE_LENGTHS:
        values = {s: length for s in symbols}
        if all(int(d.subs(values)) >= 1 for shapes in context.shapes.values() for shape in shapes or []
               for d in shape.dims if not is_known(d)):
            return values
    return {s: EXAMPLE_LENGTHS[-1] for s in symbols}


def _example_input(context: Context, model: GraphModule, batch: int) -> tuple[torch.Tensor, ...]:
    values = _example_length(context)
    shapes = [_analyzed(context, name) for name in model.input_names]
    return tuple(torch.zeros(batch, *shape.kind.torch_order(tuple(int(d if is_known(d) else d.subs(values))
                                                                   for d in shape.dims))) for shape in shapes)


def _dynamic_axes(context: Context, model: GraphModule, batch: str | int) -> dict[str, dict[int, str]]:
    """The axes of each graph input and output that the model leaves open: the batch (unless
    fixed) and a sequence's time where the analysis left it symbolic, named as the analysis
    writes it ('T', or 'floor(T/2)' after a strided layer)."""
    axes: dict[str, dict[int, str]] = {}
    for key in [*model.input_names, *model.output_names]:
        shape = _analyzed(context, key)
        named = {0: "batch"} if batch == "dynamic" else {}
        if shape.kind.time and not is_known(shape.dims[0]):
            named[shape.kind.torch_axis(0)] = str(shape.dims[0])
        if named:
            axes[key] = named
    return axes


class _LayerBoundary(torch.autograd.Function):
    """The identity on a layer's output while exporting. PyTorch's exporter fuses consecutive
    Transposes, so a layer that ends with one (back to N×C×T) and a next that starts with one
    would leave no tensor of the layer's output in between; this node keeps them apart and is
    taken out after export (`_remove_boundaries`)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return x.view_as(x)

    @staticmethod
    def symbolic(g, x):
        return g.op("Identity", x, netspec_boundary_i=1)


@contextmanager
def _layer_boundaries(model: GraphModule) -> Iterator[None]:
    """Every layer's outputs pass through `_LayerBoundary` while the model is traced."""

    def mark(module, inputs, output):
        if isinstance(output, tuple):
            return tuple(_LayerBoundary.apply(o) if isinstance(o, torch.Tensor) else o for o in output)
        return _LayerBoundary.apply(output)

    hooks = [module.register_forward_hook(mark) for module in model.layers.values()]
    try:
        yield
    finally:
        for hook in hooks:
            hook.remove()


def _remove_boundaries(proto: onnx.ModelProto) -> None:
    """The `_LayerBoundary` nodes out: their readers read what they read, and where one wrote a
    graph output, the tensor before it takes the output's name (left as a plain Identity when that
    tensor is a graph input or output itself)."""
    graph = proto.graph
    outputs = {o.name for o in graph.output}
    named = outputs | {i.name for i in graph.input}
    for boundary in [n for n in graph.node if n.op_type == "Identity" and n.attribute]:
        if not any(a.name == "netspec_boundary" for a in boundary.attribute):
            continue
        before, after = boundary.input[0], boundary.output[0]
        if after in outputs and before in named:
            del boundary.attribute[:]
            continue
        old, new = (before, after) if after in outputs else (after, before)
        graph.node.remove(boundary)
        for node in graph.node:
            node.input[:] = [new if name == old else name for name in node.input]
            node.output[:] = [new if name == old else name for name in node.output]
        for info in graph.value_info:
            if info.name == old:
                info.name = new


ONNX_ACTIVATIONS = {"sigmoid": "Sigmoid", "hard-sigmoid": "HardSigmoid", "tanh": "Tanh", "softsign": "Softsign",
                    "relu": "Relu"}
"""MATLAB's gate and state activations as ONNX's RNN operators name them. ONNX's HardSigmoid has
MATLAB's alpha 0.2 and beta 0.5 by default."""


@contextmanager
def _fused_recurrences(model: GraphModule) -> Iterator[None]:
    """Every recurrent layer traced through nn.LSTM / nn.GRU, which PyTorch exports as ONNX's LSTM
    and GRU operators (a step-by-step loop would be unrolled at the traced length);
    `_recurrent_attributes` then sets what these modules fix (activations, the reset gate's place)."""
    recurrences = [m for m in model.modules() if isinstance(m, Recurrent)]
    fused = [m.fused for m in recurrences]
    for module in recurrences:
        module.fused = True
    try:
        yield
    finally:
        for module, was in zip(recurrences, fused):
            module.fused = was


def _layer_modules(proto: onnx.ModelProto, model: GraphModule, kind: type) -> Iterator[tuple[onnx.NodeProto, Any]]:
    """Each node of the exported graph that a module of `kind` wrote, with that module (the layer
    whose scope the node's name, or its output's, starts with)."""
    scope = re.compile(r"^/([^/]+)/")
    for node in proto.graph.node:
        match = scope.match(node.name) or scope.match(node.output[0])
        module = model.layers[match.group(1)] if match and match.group(1) in model.layers else None
        if isinstance(module, kind):
            yield node, module


def _recurrent_attributes(proto: onnx.ModelProto, model: GraphModule) -> None:
    """Each LSTM/GRU node gets its layer's activations (f, g, h per direction: gate, state, state)
    and a GRU its reset gate's place (MATLAB's 'before-multiplication' is ONNX's
    linear_before_reset 0); an all-zero initial state is left out (ONNX's default)."""
    for node, module in _layer_modules(proto, model, Recurrent):
        if node.op_type not in ("LSTM", "GRU"):
            continue
        per_direction = [module.gate_activation, module.state_activation] + \
            ([module.state_activation] if node.op_type == "LSTM" else [])
        replaced = {"activations": [ONNX_ACTIVATIONS[a] for a in per_direction] * (2 if module.bidirectional else 1)}
        if node.op_type == "GRU":
            replaced["linear_before_reset"] = int(module.reset_gate_mode != "before-multiplication")
        for attribute in [a for a in node.attribute if a.name in replaced]:
            node.attribute.remove(attribute)
        node.attribute.extend(onnx.helper.make_attribute(name, value) for name, value in replaced.items())
        states = [module.h0] + ([module.c0] if node.op_type == "LSTM" else [])
        for index, state in zip((5, 6), states):  # initial_h, initial_c
            if index < len(node.input) and not state.any():
                node.input[index] = ""
    _drop_dead_nodes(proto.graph)


FOLDED_PAD_VALUES = {"Conv": 0.0, "AveragePool": 0.0, "MaxPool": -math.inf}
"""What each ONNX node pads with itself: only a Pad of that value folds into it."""


def _fold_padding(proto: onnx.ModelProto, model: GraphModule) -> None:
    """Pad + Conv/MaxPool/AveragePool -> one node with asymmetric `pads`, as ONNX allows; a strided
    'same' padding over a sequence of any length (`SamePad1d`) -> `auto_pad` SAME_UPPER, which is
    MATLAB's 'same' (the odd step at the end) where the window is at least the stride.

    PyTorch pads asymmetrically with an explicit F.pad, which exports as a Pad fed by a
    small shape computation; ONNX's own attributes say the same thing statically,
    so shape inference sees every size and the graph reads like the spec.
    """
    graph = proto.graph
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    for pad, module in list(_layer_modules(proto, model, torch.nn.Sequential)):
        users = consumers.get(pad.output[0], [])
        mode = next((onnx.helper.get_attribute_value(a) for a in pad.attribute if a.name == "mode"), b"constant")
        padding = module[0]
        if pad.op_type != "Pad" or len(users) != 1 or not isinstance(padding, (Pad, SamePad1d)) or mode != b"constant":
            continue
        user = users[0]
        if user.op_type not in FOLDED_PAD_VALUES or padding.value != FOLDED_PAD_VALUES[user.op_type]:
            continue
        if isinstance(padding, SamePad1d) and padding.extent < padding.stride:
            continue  # onnxruntime's SAME_UPPER then works out a negative padding (MATLAB's is 0)
        for attribute in [a for a in user.attribute if a.name in ("pads", "auto_pad", "count_include_pad")]:
            user.attribute.remove(attribute)
        if isinstance(padding, SamePad1d):
            user.attribute.append(onnx.helper.make_attribute("auto_pad", "SAME_UPPER"))
        else:
            pairs = [padding.pads[i:i + 2] for i in range(0, len(padding.pads), 2)][::-1]  # F.pad: last axis first
            user.attribute.append(onnx.helper.make_attribute("pads", [p[0] for p in pairs] + [p[1] for p in pairs]))
        if user.op_type == "AveragePool":
            user.attribute.append(onnx.helper.make_attribute("count_include_pad", 1))
        user.input[0] = pad.input[0]
    _drop_dead_nodes(graph)


def _static_pads(proto: onnx.ModelProto, model: GraphModule) -> None:
    """The -inf Pad of a max pooling with unpooling outputs gets its pads as a constant, not
    PyTorch's shape computation, so shape inference sees every size. (It cannot be folded into
    the MaxPool as `_fold_padding` does: the indices count positions in the padded plane.)"""
    graph = proto.graph
    scope = re.compile(r"^/([^/]+)/")
    for pad in [n for n in graph.node if n.op_type == "Pad"]:
        match = scope.match(pad.name) or scope.match(pad.output[0])
        module = model.layers[match.group(1)] if match and match.group(1) in model.layers else None
        if isinstance(module, MaxPoolIndices):
            top, bottom, left, right = module.pads
            pads = onnx.numpy_helper.from_array(np.array([0, 0, top, left, 0, 0, bottom, right], dtype=np.int64),
                                                f"{pad.output[0]}_pads")
            graph.initializer.append(pads)
            pad.input[1] = pads.name
    _drop_dead_nodes(graph)


def _drop_dead_nodes(graph: onnx.GraphProto) -> None:
    needed = {o.name for o in graph.output}
    keep: list[onnx.NodeProto] = []
    for node in reversed(graph.node):
        if any(name in needed for name in node.output):
            keep.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(keep))
    used = {name for node in graph.node for name in node.input}
    kept_initializers = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept_initializers)


INFERENCE_IDENTITIES = (torch.nn.Dropout, torch.nn.Dropout1d, torch.nn.Dropout2d, torch.nn.Identity)
"""Modules that export to no node at all: dropout (of any kind) at inference, and the identity."""


def _name_identities(proto: onnx.ModelProto, network: Network, model: GraphModule) -> None:
    """Layers that are the identity at inference (dropout) get a named Identity node, so
    every layer of the spec has a tensor of its name in the graph."""
    graph = proto.graph
    produced = {name for node in graph.node for name in node.output} | {i.name for i in graph.input}
    for edge in network.connections:
        layer = network.layer(edge.destination)
        module = model.layers[module_name(layer.name)] if module_name(layer.name) in model.layers else None
        if isinstance(module, INFERENCE_IDENTITIES) and layer.name not in produced and edge.source in produced:
            graph.node.append(onnx.helper.make_node("Identity", [edge.source], [layer.name], name=layer.name))
            produced.add(layer.name)


def _rename_by_layer(model_proto: onnx.ModelProto, layer_names: dict[str, str]) -> None:
    """Name nodes and layer-output tensors after the MATLAB layers they come from."""
    graph = model_proto.graph
    scope = re.compile(r"^/([^/]+)/")
    by_layer: dict[str, list[onnx.NodeProto]] = {}
    consumers: dict[str, set[str | None]] = {}
    """Tensor -> the layers whose nodes read it (None: a node of no layer)."""
    for node in graph.node:
        match = scope.match(node.name)
        layer = layer_names.get(match.group(1)) if match else None
        if layer is not None:
            by_layer.setdefault(layer, []).append(node)
        for name in node.input:
            consumers.setdefault(name, set()).add(layer)
    graph_outputs = {o.name for o in graph.output}
    graph_inputs = {i.name for i in graph.input}
    rename: dict[str, str] = {}
    for layer, nodes in by_layer.items():
        # the layer's (first) output is computed by the first node whose output leaves the layer;
        # nodes after it compute its other outputs (a max pooling's indices); a constant the
        # exporter shared with another layer (an index) is none of them
        result = next((node for node in nodes if node.op_type != "Constant" and (
            node.output[0] in graph_outputs or consumers.get(node.output[0], set()) - {layer})), nodes[-1])
        for index, node in enumerate(nodes):
            node.name = layer if node is result else f"{layer}/{node.op_type}_{index}"
        produced = result.output[0]
        if produced not in graph_outputs and layer not in graph_inputs:
            rename[produced] = layer
    for node in graph.node:
        node.input[:] = [rename.get(name, name) for name in node.input]
        node.output[:] = [rename.get(name, name) for name in node.output]
    for info in graph.value_info:
        info.name = rename.get(info.name, info.name)


def _at_length(network: Network, length: int | None) -> Network:
    """The network with every sequence input `length` steps long, or of any length (None: the
    time axis symbolic, as 'MinLength' is the shortest sequence a MATLAB network takes, not the
    only one, and the analysis computes at it)."""
    layers = [layer.model_copy(update={"min_length": length}) if isinstance(layer, SequenceInputLayer) else layer
              for layer in network.layers]
    return network.model_copy(update={"layers": layers})


def to_onnx(network: Network, state: dict[str, torch.Tensor] | None = None, *, classes: list[str] | None = None,
            opset: int = MIN_OPSET, batch: str | int = "dynamic", seed: int = 0,
            sequence_length: int | None = None) -> onnx.ModelProto:
    """The network (with `state`, a lowered module's state_dict, or seeded initial weights) as ONNX;
    a sequence network takes any length (a dynamic time axis) or exactly `sequence_length` steps."""
    if opset < MIN_OPSET:
        raise ValueError(f"opset {opset} is below {MIN_OPSET}")
    traced = _at_length(network, sequence_length)
    model, context = to_torch(traced, seed=seed), check_buildable(traced)
    if state is not None:
        model.load_state_dict(state)
    model.eval()
    example = _example_input(context, model, 1 if batch == "dynamic" else int(batch))
    inputs = list(model.input_names)
    outputs = list(model.output_names)
    axes = _dynamic_axes(context, model, batch) or None
    buffer = io.BytesIO()
    with warnings.catch_warnings(), _fused_recurrences(model), _layer_boundaries(model):
        warnings.simplefilter("ignore")
        torch.onnx.export(model, example, buffer, dynamo=False, input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, opset_version=opset, do_constant_folding=True,
                          training=torch.onnx.TrainingMode.PRESERVE)
    proto = onnx.load_from_string(buffer.getvalue())
    _remove_boundaries(proto)
    _fold_padding(proto, model)
    _static_pads(proto, model)
    _recurrent_attributes(proto, model)
    _rename_by_layer(proto, {module_name(layer.name): layer.name for layer in network.layers})
    _name_identities(proto, network, model)
    proto.producer_name = "netspec"
    proto.producer_version = __version__
    proto.graph.name = network.name
    source = printable(network.source or "")  # a path from the command line may hold undecodable bytes
    proto.doc_string = f"{source or network.name}: exported by netspec {__version__}"
    metadata: dict[str, Any] = {
        "netspec.network": network.name,
        "netspec.source": source,
        "netspec.layout": f"{IMAGE.torch_layout} (images), {SEQUENCE.torch_layout} (sequences); "
                          "pixel values 0-255 as MATLAB feeds them",
        "netspec.classes": json.dumps(classes) if classes is not None else "",
    }
    lengths = [layer.min_length for layer in network.layers if isinstance(layer, SequenceInputLayer)]
    if lengths:
        metadata[MIN_LENGTH_KEY] = str(lengths[0] or 1)
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    return proto
