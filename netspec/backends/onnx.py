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
import re
import warnings
from typing import Any

import numpy as np
import onnx
import torch

from .. import __version__
from ..ir import IMAGE, SEQUENCE, Network
from ..text import printable
from . import MIN_OPSET
from .torch import GraphModule, MaxPoolIndices, module_name, to_torch

__all__ = ["to_onnx", "MIN_OPSET"]


def _example_input(model: GraphModule, batch: int) -> tuple[torch.Tensor, ...]:
    return tuple(torch.zeros(batch, *(1 if d is None else d for d in size)) for size in model.input_sizes)


def _fold_padding(proto: onnx.ModelProto, model: GraphModule) -> None:
    """Pad + Conv/MaxPool/AveragePool -> one node with asymmetric `pads`, as ONNX allows.

    PyTorch pads asymmetrically with an explicit F.pad, which exports as a Pad fed by a
    small shape computation; ONNX's own `pads` attribute says the same thing statically,
    so shape inference sees every size and the graph reads like the spec.
    """
    graph = proto.graph
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    scope = re.compile(r"^/([^/]+)/")
    for pad in [n for n in graph.node if n.op_type == "Pad"]:
        users = consumers.get(pad.output[0], [])
        match = scope.match(pad.name) or scope.match(pad.output[0])
        module = model.layers[match.group(1)] if match and match.group(1) in model.layers else None
        mode = next((onnx.helper.get_attribute_value(a) for a in pad.attribute if a.name == "mode"), b"constant")
        if len(users) != 1 or module is None or not isinstance(module, torch.nn.Sequential) or mode != b"constant":
            continue
        user = users[0]
        if user.op_type not in ("Conv", "MaxPool", "AveragePool"):
            continue
        torch_pads = module[0].pads  # F.pad order: last axis first, (begin, end) pairs
        pairs = [torch_pads[i:i + 2] for i in range(0, len(torch_pads), 2)][::-1]
        pads = [p[0] for p in pairs] + [p[1] for p in pairs]
        for attribute in list(user.attribute):
            if attribute.name == "pads":
                user.attribute.remove(attribute)
        user.attribute.append(onnx.helper.make_attribute("pads", pads))
        if user.op_type == "AveragePool":
            for attribute in list(user.attribute):
                if attribute.name == "count_include_pad":
                    user.attribute.remove(attribute)
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
        # nodes after it compute its other outputs (a max pooling's indices)
        result = next((node for node in nodes if node.output[0] in graph_outputs
                       or consumers.get(node.output[0], set()) - {layer}), nodes[-1])
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


def to_onnx(network: Network, state: dict[str, torch.Tensor] | None = None, *, classes: list[str] | None = None,
            opset: int = MIN_OPSET, batch: str | int = "dynamic", seed: int = 0) -> onnx.ModelProto:
    """The network (with `state`, a lowered module's state_dict, or seeded initial weights) as ONNX."""
    if opset < MIN_OPSET:
        raise ValueError(f"opset {opset} is below {MIN_OPSET}")
    model = to_torch(network, seed=seed)
    if state is not None:
        model.load_state_dict(state)
    model.eval()
    example = _example_input(model, 1 if batch == "dynamic" else int(batch))
    inputs = list(model.input_names)
    outputs = list(model.output_names)
    axes = {name: {0: "batch"} for name in inputs + outputs} if batch == "dynamic" else None
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, example, buffer, dynamo=False, input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, opset_version=opset, do_constant_folding=True,
                          training=torch.onnx.TrainingMode.PRESERVE)
    proto = onnx.load_from_string(buffer.getvalue())
    _fold_padding(proto, model)
    _static_pads(proto, model)
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
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    return proto
